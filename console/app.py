"""`cob api`: the billing team's HTTP API (OpenAPI at /docs) and, later, its console pages, on
the engine we have: Temporal for what is in flight, the ledger for what happened."""

from __future__ import annotations

from fastapi import FastAPI

from console.api import router
from ledger.db import make_engine

DEFAULT_PORT = 8400


def create_app(database_url: str | None = None, temporal_address: str | None = None) -> FastAPI:
    """The app on the ledger at `database_url` (default DATABASE_URL, else COB_HOME's) and the
    Temporal frontend at `temporal_address` (default TEMPORAL_ADDRESS), connected on first
    use so the API answers from the ledger while Temporal is down."""
    app = FastAPI(
        title="COB engine",
        summary="Encounters, the worklist and reports, for a signed-in billing team",
        version="1",
    )
    app.state.ledger = make_engine(database_url)
    app.state.temporal = None
    app.state.temporal_address = temporal_address
    app.include_router(router)

    @app.get("/api/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve(host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
