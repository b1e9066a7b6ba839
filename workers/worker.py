"""A worker process: runs encounter and claim workflows and their activities."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from activities.claims import ClaimActivities
from activities.encounter import EncounterActivities
from ledger.db import cob_home, make_engine
from workers.temporal import TASK_QUEUE
from workflows.appeal import AppealWorkflow
from workflows.claim import PayerClaimWorkflow
from workflows.encounter import EncounterWorkflow

WORKFLOWS = [EncounterWorkflow, PayerClaimWorkflow, AppealWorkflow]


@dataclass
class WorkerSettings:
    payer_url: str
    database_url: str | None = None  # None: DATABASE_URL or the SQLite file under .cob/
    statements_dir: Path | None = None
    task_queue: str = TASK_QUEUE
    max_concurrent_activities: int = 50


def build_worker(client: Client, settings: WorkerSettings) -> Worker:
    parts = dict(
        payer_url=settings.payer_url,
        ledger=make_engine(settings.database_url),
        statements_dir=settings.statements_dir or cob_home() / "statements",
    )
    activities = EncounterActivities(**parts).all() + ClaimActivities(**parts).all()
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        max_concurrent_activities=settings.max_concurrent_activities,
    )
