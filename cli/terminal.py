"""What every `cob` command shares: the consoles it prints to, `run` for its coroutine (Ctrl-C
and SIGTERM stop it with exit 130), and the one line for a part that cannot be reached."""

from __future__ import annotations

import asyncio
import signal

import typer
from rich.console import Console

console = Console()
if not console.is_terminal:  # logs and pipes: wide enough for the summary table
    console = Console(width=150)
errors = Console(stderr=True, soft_wrap=True)  # messages are never broken mid-line


def _interrupt(signum, frame):  # SIGTERM stops as cleanly as Ctrl-C
    raise KeyboardInterrupt


def run(coroutine) -> object:
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        errors.print("interrupted")
        raise typer.Exit(130) from None


def unreachable(error: BaseException) -> str | None:
    """One line for a part that cannot be reached or started: the Temporal server, the ledger
    database, the payer simulator, the embedded dev server; None for anything else (a bug,
    whose traceback is worth seeing)."""
    from sqlalchemy.exc import InterfaceError, OperationalError
    from temporalio.service import RPCError, RPCStatusCode

    from contract.ids import TASK_QUEUE
    from ledger.db import LedgerSchemaTooOld, LedgerUnreachable, database_url
    from payers.simulator.serve import SimulatorUnavailable
    from workers.cluster import ClusterSettingsError
    from workers.codec import PayloadKeyError
    from workers.devserver import DevServerFailed
    from workers.http_thread import HttpServerFailed
    from workers.metrics import MetricsAddressError
    from workers.temporal import (
        START_IT,
        SearchAttributesMissing,
        TemporalUnreachable,
        temporal_address,
    )

    known = (
        TemporalUnreachable,
        LedgerUnreachable,
        LedgerSchemaTooOld,
        SimulatorUnavailable,
        DevServerFailed,
        SearchAttributesMissing,
        PayloadKeyError,
        ClusterSettingsError,
        HttpServerFailed,
        MetricsAddressError,
    )
    if isinstance(error, known):
        return str(error)
    if isinstance(error, RPCError) and error.status == RPCStatusCode.UNAVAILABLE:
        return f"lost the Temporal server at {temporal_address()} ({error.message}): {START_IT}"
    timed_out = (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED)
    if isinstance(error, RPCError) and error.status in timed_out:
        # a query or an update waits for a worker of the task queue; none came
        return (
            f"no worker answered on task queue {TASK_QUEUE} of the Temporal server at "
            f"{temporal_address()} ({error.message}): start one with `cob worker` "
            "(or `cob demo --keep`)"
        )
    if isinstance(error, OperationalError | InterfaceError):  # the database went away mid-run
        return str(LedgerUnreachable(database_url(), error))
    return None
