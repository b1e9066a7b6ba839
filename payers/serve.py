"""Run the payer simulator: blocking (`cob payers serve`) or in a background thread (demo, tests)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from payers.simulator import create_app

STARTUP_TIMEOUT = 10.0  # seconds to wait for /health


def serve(host: str, port: int, state_path: Path, latency: float = 0.0) -> None:
    uvicorn.run(create_app(state_path, latency=latency), host=host, port=port, log_level="info")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class RunningSimulator:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_TIMEOUT)


def start_in_thread(
    state_path: Path, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    """Start the simulator on a daemon thread and return once /health answers."""
    port = port or free_port(host)
    config = uvicorn.Config(
        create_app(state_path, latency=latency), host=host, port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"payer-simulator-{port}", daemon=True)
    thread.start()
    running = RunningSimulator(url=f"http://{host}:{port}", server=server, thread=thread)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError(f"payer simulator on {running.url} exited during start-up")
        try:
            if httpx.get(f"{running.url}/health", timeout=1.0).status_code == 200:
                return running
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    running.stop()
    raise RuntimeError(f"payer simulator on {running.url} did not answer /health in time")
