"""A worker process: runs encounter and claim workflows and their activities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.accounts import AccountActivities
from activities.archive import ArchiveActivities
from activities.claims import ClaimActivities
from activities.encounter import EncounterActivities
from contract.ids import TASK_QUEUE
from ledger.db import make_engine
from ledger.home import cob_home, owner_only
from payers.client import PayerConnection
from workflows.appeal import AppealWorkflow
from workflows.archive import ArchiveBatchWorkflow, ArchiveWorkflow
from workflows.claim import PayerClaimWorkflow
from workflows.encounter import EncounterWorkflow
from workflows.patient_account import PatientAccountWorkflow

# Workflows run outside the SDK's sandbox. Sandboxed (even with every module passed through,
# as before), each activation is compiled and run through its import and call guards: about
# a fifth of the worker's CPU per encounter and a third of a replay's time (three pairs of
# 300-encounter rounds, each pair side by side, medians: 4.83 encounters/s sandboxed, 5.79
# not; worker CPU 0.199 s and 0.154 s an encounter; replay 97 and 147 histories/s).
# What the sandbox refused is still refused, before a worker runs:
# tests/workflows/test_determinism.py reads workflows/, cob/ and contract/ for the clock,
# randomness, I/O and shared state, and tests/workflows/test_replay.py replays every stored
# history inside the sandbox. The modules keep no state of their own, only constants and
# functions, so one import serves every execution.
WORKFLOW_RUNNER = UnsandboxedWorkflowRunner()

WORKFLOWS = [
    EncounterWorkflow, PayerClaimWorkflow, AppealWorkflow, ArchiveWorkflow, ArchiveBatchWorkflow,
    PatientAccountWorkflow,
]  # fmt: skip


@dataclass
class WorkerSettings:
    payer_url: str
    database_url: str | None = None  # None: DATABASE_URL or the SQLite file under .cob/
    statements_dir: Path | None = None
    task_queue: str = TASK_QUEUE
    max_concurrent_activities: int = 50
    # Workflows kept in memory between their tasks (the SDK's default); one evicted replays
    # its history at its next task. Admission (cli/admission.py) keeps the encounters at work,
    # with their claims, well under it.
    max_cached_workflows: int = 1000
    # On shutdown, activities in flight may finish (a ledger write, an archive) before they
    # are cancelled: one cut short is retried only after its start-to-close timeout.
    graceful_shutdown: timedelta = timedelta(seconds=10)


PAYER_PROBE_TIMEOUT = 3.0  # seconds


async def payers_unreachable(payer_url: str) -> str | None:
    """Why nothing answers at the payers' URL (connection refused, a timeout), or None when
    something does, whatever it answers (a clearinghouse may have no /health)."""
    try:
        async with httpx.AsyncClient(timeout=PAYER_PROBE_TIMEOUT) as http:
            await http.get(f"{payer_url.rstrip('/')}/health")
    except httpx.TransportError as error:
        return (
            f"cannot reach the payer simulator at {payer_url} ({type(error).__name__}): "
            "payer calls are retried until it answers; start it with `cob payers serve`, "
            "or set COB_PAYER_URL"
        )
    except httpx.InvalidURL as error:
        return f"the payer URL {payer_url!r} is not a URL ({error}): set COB_PAYER_URL"
    return None


def build_worker(client: Client, settings: WorkerSettings) -> Worker:
    owner_only()  # its activities write statements and the ledger: patient data
    parts = dict(
        payer_url=settings.payer_url,
        payers=PayerConnection(settings.payer_url),  # one connection pool for the worker
        ledger=make_engine(settings.database_url),
        statements_dir=settings.statements_dir or cob_home() / "statements",
    )
    accounts = AccountActivities(parts["ledger"], parts["statements_dir"])
    activities = (
        EncounterActivities(**parts, accounts=accounts).all()
        + ClaimActivities(**parts).all()
        + ArchiveActivities(parts["ledger"]).all()
        + accounts.all()
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        max_concurrent_activities=settings.max_concurrent_activities,
        max_cached_workflows=settings.max_cached_workflows,
        graceful_shutdown_timeout=settings.graceful_shutdown,
        workflow_runner=WORKFLOW_RUNNER,
    )
