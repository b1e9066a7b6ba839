"""A payer clearinghouse over HTTP that speaks X12 5010 (ASC X12 005010 implementation
guides: 270/271 X279A1, 278 X217, 837P X222A1, 999 X231A1, 277CA X214, 276/277 X212, 835
X221A1), for every payer in the payer directory, with the plans' private terms in
`plan_terms/`. Its X12 routes are in x12_routes.py, its JSON tool routes (`/admin/...`) in
admin_routes.py.

Requests and answers are X12 text (`application/edi-x12`). A document the clearinghouse
cannot route (unknown payer id) or read (broken envelope, a segment or field it cannot take)
is refused with 404 or 400 and a message naming the segment or field; a body over
MAX_BODY_BYTES with 413, before it is read whole. A bad request is never answered 500. The
payers' decisions live in claims_desk.py, their state in claim_store.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from payers.simulator.admin_routes import admin_routes
from payers.simulator.claim_store import ClaimStore
from payers.simulator.clearinghouse import Clearinghouse
from payers.simulator.plans import load_profiles
from payers.simulator.x12_http import MAX_BODY_BYTES, BodyLimit
from payers.simulator.x12_routes import x12_routes
from payers.x12.segments import X12Error


def create_app(
    state_path: Path,
    latency: float = 0.0,
    plan_terms: Path | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    payers = Clearinghouse(profiles=load_profiles(plan_terms), store=ClaimStore(state_path))
    app = FastAPI(title="Payer simulator (X12 5010)")
    app.add_middleware(BodyLimit, limit=max_body_bytes)

    @app.exception_handler(X12Error)
    async def unreadable(_request: Request, error: X12Error) -> Response:
        return Response(str(error), status_code=400, media_type="text/plain")

    @app.exception_handler(RequestValidationError)
    async def invalid_fields(_request: Request, error: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input back, and fails (500) on a body of bytes
        # that is not UTF-8; the field and the problem are what the sender needs.
        fields = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()
        ]
        return JSONResponse({"detail": fields}, status_code=422)

    @app.middleware("http")
    async def slow_or_down(request: Request, call_next):
        outage = payers.outage
        if latency:
            await asyncio.sleep(latency)
        if outage.requests > 0 and not request.url.path.startswith(("/admin", "/health")):
            outage.requests -= 1
            return Response(status_code=503, headers={"Retry-After": str(outage.retry_after)})
        return await call_next(request)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(x12_routes(payers))
    app.include_router(admin_routes(payers))
    return app
