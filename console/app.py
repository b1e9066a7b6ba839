"""`cob api`: the billing team's HTTP API (OpenAPI at /docs) and its console pages (console/
pages.py) on the engine we have: Temporal for what is in flight, the ledger for what happened."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from console import pages
from console.api import router
from ledger.db import make_engine
from workers.http_thread import HttpServerFailed, RunningHttp
from workers.http_thread import start_in_thread as serve_in_thread
from workers.temporal import UI_URL

DEFAULT_PORT = 8400


def create_app(
    database_url: str | None = None,
    temporal_address: str | None = None,
    temporal_ui: str | None = None,
) -> FastAPI:
    """The app on the ledger at `database_url` (default DATABASE_URL, else COB_HOME's) and the
    Temporal frontend at `temporal_address` (default TEMPORAL_ADDRESS), connected on first
    use so the API answers from the ledger while Temporal is down. The pages link workflows
    into the Temporal UI at `temporal_ui` (default COB_TEMPORAL_UI)."""
    app = FastAPI(
        title="COB engine",
        summary="Encounters, the worklist and reports, for a signed-in billing team",
        version="1",
    )
    app.state.ledger = make_engine(database_url)
    app.state.temporal = None
    app.state.temporal_address = temporal_address
    app.state.temporal_ui = (temporal_ui or UI_URL).rstrip("/")
    app.include_router(router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": invalid_fields(error)}, status_code=422)

    @app.get("/api/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def invalid_fields(error: RequestValidationError) -> str:
    """A request FastAPI could not read, as the API states every 422: "field: problem", each
    field by its path in the body or its query parameter's name, never the value sent (it may
    be patient data)."""
    problems = []
    for found in error.errors():
        where = [str(part) for part in found["loc"] if part not in ("body", "query", "path")]
        problems.append(f"{'.'.join(where) or '(body)'}: {found['msg']}")
    return "; ".join(problems)


def serve(host: str, port: int) -> None:
    # no access log: a URL names an encounter at most, but a log is no place for the worklist
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", access_log=False)


RunningConsole = RunningHttp
ConsoleFailed = HttpServerFailed


def start_in_thread(
    port: int,
    database_url: str | None = None,
    temporal_address: str | None = None,
    temporal_ui: str | None = None,
    host: str = "127.0.0.1",
) -> RunningHttp:
    """The API and console on a daemon thread (`cob demo --keep`), once /api/health answers."""
    app = create_app(database_url, temporal_address, temporal_ui)
    return serve_in_thread(app, "console", port, "/api/health", host, access_log=False)
