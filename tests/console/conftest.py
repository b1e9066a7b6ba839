"""The console as people reach it: `cob api` and `cob worker` as real processes on a real dev
server, the payer simulator over HTTP, a SQLite ledger, users of every role with real tokens.

Everything runs outside the test's process but the simulator, so a test may block (a browser
waiting for a page) while encounters move on.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.db import make_engine
from ledger.users import add_user
from payers.simulator.serve import start_in_thread
from workers.devserver import DevServer, free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TEMPORAL_UI = "http://temporal-ui.test:8233"  # only linked to, never opened
USERS = [("ana", "biller"), ("bea", "biller"), ("sue", "supervisor"), ("carol", "auditor")]


@dataclass
class Console:
    url: str
    ledger_url: str
    tokens: dict[str, str]  # user name -> token
    temporal_ui: str
    folder: Path
    payer_url: str  # the payer simulator's, for its admin routes (a payer on hold)

    def call(self, method: str, path: str, user: str | None = None, **kw: Any) -> httpx.Response:
        """One request, signed in as `user` with a Bearer token (no user: none)."""
        headers = kw.pop("headers", {})
        if user:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return httpx.request(method, self.url + path, headers=headers, timeout=60, **kw)

    def start_example(self, name: str, encounter_id: str) -> str:
        """Start examples/NAME.json as `encounter_id` through the API; its workflow id."""
        data = json.loads((EXAMPLES / f"{name}.json").read_text())
        return self.start({**data, "encounter_id": encounter_id})

    def start(self, encounter: dict[str, Any]) -> str:
        """Start an encounter (its JSON) through the API, as ana; its workflow id."""
        answer = self.call("POST", "/api/encounters", "ana", content=json.dumps(encounter))
        assert answer.status_code == 201, answer.text
        return answer.json()["workflow_id"]


def wait_until(found: Callable[[], Any], seconds: float, what: str) -> Any:
    """`found()`'s first truthy answer, asked every 0.2 s; fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = found()
        if answer:
            return answer
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


def _cob(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args],
            cwd=ROOT, env={**os.environ, **env}, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_console(folder: Path) -> Iterator[Console]:
    ledger_url = f"sqlite:///{folder / 'ledger.db'}"
    engine = make_engine(ledger_url)
    tokens = {name: add_user(engine, name, role, by="root")[1] for name, role in USERS}
    server = DevServer(folder / "temporal", port=free_port(), ui_port=None)
    # in a thread of its own: asyncio.run must not touch the loop pytest-asyncio keeps
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, server.start()).result()
    simulator = start_in_thread(folder / "payers.db")
    port = free_port()
    env = {"DATABASE_URL": ledger_url, "TEMPORAL_ADDRESS": server.address,
           "COB_HOME": str(folder / "home"), "COB_TEMPORAL_UI": TEMPORAL_UI}  # fmt: skip
    processes: list[subprocess.Popen] = []
    try:
        processes.append(_cob(["worker", "--payer-url", simulator.url,
                               "--register-search-attributes"], env, folder / "worker.log"))  # fmt: skip
        processes.append(_cob(["api", "--port", str(port)], env, folder / "api.log"))
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/api/health").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 30, f"cob api on {url} (see {folder / 'api.log'})")
        yield Console(url, ledger_url, tokens, TEMPORAL_UI, folder, simulator.url)
    finally:
        for process in processes:
            _stop(process)
        simulator.stop()
        server.stop()


@pytest.fixture(scope="module")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    with running_console(tmp_path_factory.mktemp("console")) as console:
        yield console
