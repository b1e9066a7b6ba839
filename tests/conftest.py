"""Shared test fixtures: the real parts (time-skipping Temporal server, payer simulator over
HTTP, a real ledger database) and the guard that keeps pytest's exit code pytest's own."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from payers.client import PayerClient
from payers.simulator.serve import RunningSimulator, start_in_thread
from tests.workflow_harness import start_time_skipping
from tests.x12.pyx12_check import VALIDATED, pyx12_valid

pytest_plugins = ["tests.ledger_db"]

# The tests' payload key (workers/codec.py), set before any client is made and inherited by
# the `cob` subprocesses the tests start (workers, the CLI, the demo), so they all read what
# the in-process clients write. Derived from a fixed text, not secret: it guards only the
# examples' made-up patients, and histories recorded by `make histories` replay with it.
TEST_PAYLOAD_KEY = base64.b64encode(hashlib.sha256(b"cob tests' payload key").digest()).decode()
os.environ["COB_PAYLOAD_KEYS"] = f"tests-1:{TEST_PAYLOAD_KEY}"
os.environ["COB_PAYLOAD_KEY_ID"] = "tests-1"

_exit_status: int | None = None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """temporalio's native runtime can abort at interpreter exit (PyGILState_Release, exit 134;
    sdk-python #300). Everything is reported by now, so leave with pytest's own exit code."""
    if _exit_status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_time_skipping() as env:
        yield env


@pytest.fixture
def client(time_skipping: WorkflowEnvironment) -> Client:
    return time_skipping.client


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[RunningSimulator]:
    running = start_in_thread(tmp_path / "payers.db")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def payers(simulator: RunningSimulator) -> AsyncIterator[PayerClient]:
    """The client the activities use, on the test's simulator. Afterwards every 837P, 999
    and 277CA it exchanged, and every 835 in the ERA mailbox, must pass pyx12."""
    async with PayerClient(simulator.url) as client:
        yield client
        sent = [e for e in client.exchanges if e.transaction in VALIDATED]
        eras = [d.x12 for d in (await client.era(None, limit=1000)).documents]
    invalid = [e.transaction for e in sent if not pyx12_valid(e.text)]
    invalid += ["835" for text in eras if not pyx12_valid(text)]
    assert invalid == [], f"pyx12 rejects documents this test produced: {invalid}"
