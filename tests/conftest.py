"""Shared test fixtures: the real parts (time-skipping Temporal server, payer simulator over
HTTP, a real ledger database) and the guard that keeps pytest's exit code pytest's own."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from payers.serve import RunningSimulator, start_in_thread
from workers.devserver import find_binary
from workers.temporal import register_search_attributes

pytest_plugins = ["tests.ledger_db"]

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
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=find_binary("temporal-test-server"),
    )
    await register_search_attributes(env.client)
    try:
        yield env
    finally:
        await env.shutdown()


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
