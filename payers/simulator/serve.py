"""Run the payer simulator: blocking (`cob payers serve`) or in a background thread (demo, tests).

Its log is uvicorn's: the access log's request lines (method, path, status; never a body) and
errors. An error's traceback is not logged, only its type: what a request carried (names,
member ids) never reaches a log file.
"""

from __future__ import annotations

import copy
import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from uvicorn.config import LOGGING_CONFIG

from payers.simulator.app import create_app

STARTUP_TIMEOUT = 10.0  # seconds to wait for /health


class ErrorTypeOnly(logging.Filter):
    """A record's exception is reduced to its type: its message and traceback can quote the
    request (a patient's name, a member id)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {type(record.exc_info[1]).__name__}"
            record.args = None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def log_config() -> dict:
    """uvicorn's own logging, each handler through ErrorTypeOnly."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"error_type_only": {"()": ErrorTypeOnly}}
    for handler in config["handlers"].values():
        handler["filters"] = ["error_type_only"]
    return config


class SimulatorUnavailable(ConnectionError):
    """The payer simulator could not be started or does not answer; the message says where."""


def port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


def serve(host: str, port: int, state_path: Path, latency: float = 0.0) -> None:
    if port_taken(host, port):
        raise SimulatorUnavailable(
            f"cannot serve the payer simulator on {host}:{port}: the port is in use (is another "
            "`cob payers serve` running?); stop it or choose another --port"
        )
    uvicorn.run(
        create_app(state_path, latency=latency), host=host, port=port, log_level="info",
        log_config=log_config(),
    )  # fmt: skip


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


def wait_for_health(url: str, thread: threading.Thread) -> bool | None:
    """Whether a server started on `thread` answers GET /health with 200 within the start-up
    timeout: True, False (no answer in time), or None (the thread ended first)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not thread.is_alive():
            return None
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return False


def start_in_thread(
    state_path: Path, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    """Start the simulator on a daemon thread and return once /health answers."""
    port = port or free_port(host)
    # log_config=None: the host process's logging (the demo's, through NoPatientData) applies
    config = uvicorn.Config(
        create_app(state_path, latency=latency), host=host, port=port, log_level="warning",
        log_config=None,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"payer-simulator-{port}", daemon=True)
    thread.start()
    running = RunningSimulator(url=f"http://{host}:{port}", server=server, thread=thread)
    answered = wait_for_health(running.url, thread)
    if answered:
        return running
    if answered is None:
        raise SimulatorUnavailable(
            f"cannot start the payer simulator on {running.url}: it exited during start-up "
            "(is the port in use?)"
        )
    running.stop()
    raise SimulatorUnavailable(
        f"cannot reach the payer simulator started on {running.url}: /health did not answer "
        f"within {STARTUP_TIMEOUT:.0f}s"
    )
