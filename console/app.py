"""`cob api`: the billing team's HTTP API (OpenAPI at /docs) and its console pages (console/
pages.py) on the engine we have: Temporal for what is in flight, the ledger for what happened."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from console import pages
from console.api import router
from ledger.db import make_engine
from workers.temporal import UI_URL

DEFAULT_PORT = 8400
STARTUP_TIMEOUT = 10.0  # seconds


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

    @app.get("/api/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve(host: str, port: int) -> None:
    # no access log: a URL names an encounter at most, but a log is no place for the worklist
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", access_log=False)


@dataclass
class RunningConsole:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_TIMEOUT)


class ConsoleFailed(RuntimeError):
    """The console did not start; the message says where."""


def start_in_thread(
    port: int,
    database_url: str | None = None,
    temporal_address: str | None = None,
    temporal_ui: str | None = None,
    host: str = "127.0.0.1",
) -> RunningConsole:
    """The API and console on a daemon thread (`cob demo --keep`), once /api/health answers."""
    app = create_app(database_url, temporal_address, temporal_ui)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"console-{port}", daemon=True)
    thread.start()
    running = RunningConsole(f"http://{host}:{port}", server, thread)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and thread.is_alive():
        try:
            if httpx.get(f"{running.url}/api/health", timeout=1.0).status_code == 200:
                return running
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    running.stop()
    raise ConsoleFailed(f"the console did not start on {running.url} (is the port in use?)")
