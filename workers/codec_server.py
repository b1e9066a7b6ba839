"""`cob codec-server`: the remote codec the Temporal UI (and `temporal --codec-endpoint`) call
to show encrypted payloads in the clear, on the viewer's machine, with the keys of
workers/codec.py. The protocol: POST /decode and /encode, a Payloads message as protobuf JSON
(`{"payloads": [{"metadata": {...}, "data": "..."}]}`) in and out, the namespace in the
X-Namespace header (docs.temporal.io, "Codec Server"; temporalio/samples-python
`encryption/codec_server.py`).

Bound to loopback by default; CORS answers the UI's origin alone, and a request from any other
origin is refused (a page elsewhere in the browser must not read patients' data through it).
"""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payloads

from workers.codec import EncryptionCodec, Keyring, PayloadKeyError, keyring_from_environment
from workers.http_thread import HttpServerFailed, RunningHttp
from workers.http_thread import start_in_thread as serve_in_thread

DEFAULT_PORT = 8081
DEFAULT_UI_ORIGIN = "http://127.0.0.1:8233"
MAX_BODY = 5 * 1024 * 1024  # bytes; a UI page of history is far below


def create_app(keyring: Keyring, ui_origins: list[str]) -> FastAPI:
    codec = EncryptionCodec(keyring)
    app = FastAPI(title="cob codec server", docs_url=None, redoc_url=None, openapi_url=None)
    allowed = set(ui_origins)

    async def payloads_of(request: Request) -> Payloads | JSONResponse:
        origin = request.headers.get("origin")
        if origin is not None and origin not in allowed:
            return JSONResponse({"error": f"origin {origin} is not allowed"}, status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "body over 5 MB"}, status_code=413)
        try:
            return json_format.Parse(body, Payloads())
        except (json_format.ParseError, DecodeError, UnicodeDecodeError) as error:
            return JSONResponse({"error": f"not a Payloads message: {error}"}, status_code=400)

    def answer(payloads: list) -> JSONResponse:
        return JSONResponse(json_format.MessageToDict(Payloads(payloads=payloads)))

    @app.post("/decode")
    async def decode(request: Request) -> JSONResponse:
        parsed = await payloads_of(request)
        if isinstance(parsed, JSONResponse):
            return parsed
        try:
            return answer(await codec.decode(parsed.payloads))
        except PayloadKeyError as error:  # names the key id, never the data
            return JSONResponse({"error": str(error)}, status_code=400)

    @app.post("/encode")
    async def encode(request: Request) -> JSONResponse:
        parsed = await payloads_of(request)
        if isinstance(parsed, JSONResponse):
            return parsed
        return answer(await codec.encode(parsed.payloads))

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    # The UI's browser sends Content-Type: application/json and X-Namespace, so it asks first
    # (an OPTIONS preflight); only the UI's origin is answered.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=sorted(allowed),
        allow_methods=["POST"],
        allow_headers=["content-type", "x-namespace"],
    )
    return app


RunningCodecServer = RunningHttp
CodecServerFailed = HttpServerFailed


def start_in_thread(
    port: int, ui_origin: str = DEFAULT_UI_ORIGIN, host: str = "127.0.0.1"
) -> RunningHttp:
    """The codec server on a daemon thread (the demo, `cob server`), once /health answers."""
    app = create_app(keyring_from_environment(), [ui_origin])
    return serve_in_thread(app, "codec server", port, "/health", host)


def start_beside_ui(port: int, ui_url: str | None) -> RunningCodecServer:
    """For the demo and `cob server`: on `port`, or on a free one when it is taken (the UI
    is told the URL either way)."""
    from workers.devserver import free_port, port_in_use

    return start_in_thread(free_port() if port_in_use(port) else port, ui_url or DEFAULT_UI_ORIGIN)


def serve(host: str, port: int, ui_origin: str) -> None:
    """`cob codec-server`: in the foreground until Ctrl-C; the access log has no bodies."""
    app = create_app(keyring_from_environment(), [ui_origin])
    uvicorn.run(app, host=host, port=port, log_level="info")
