"""An ASGI app served by uvicorn on a daemon thread, ready once its health URL answers: the
codec server and the console beside the demo and `cob server`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx
import uvicorn

STARTUP_TIMEOUT = 10.0  # seconds to wait for the health URL


class HttpServerFailed(RuntimeError):
    """The server did not start; the message says which and where."""


@dataclass
class RunningHttp:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_TIMEOUT)


def start_in_thread(
    app, name: str, port: int, health: str, host: str = "127.0.0.1", access_log: bool = True
) -> RunningHttp:
    """Serve `app` on host:port on a daemon thread; return once GET `health` answers 200, or
    HttpServerFailed naming `name` (the port taken, the app broken)."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", log_config=None, access_log=access_log
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"{name}-{port}", daemon=True)
    thread.start()
    running = RunningHttp(f"http://{host}:{port}", server, thread)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and thread.is_alive():
        try:
            if httpx.get(f"{running.url}{health}", timeout=1.0).status_code == 200:
                return running
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    running.stop()
    raise HttpServerFailed(f"the {name} did not start on {running.url} (is the port in use?)")
