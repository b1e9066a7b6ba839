"""Histories archived on close: the real workers on the time-skipping server, the
ArchiveBatchWorkflow the encounter signals as its last step (and the ArchiveWorkflow of
encounters started before batches), the ledger's history_archives rows."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment

from activities.archive import (
    ARCHIVE_SIGNAL,
    ArchiveActivities,
    archive_encounter,
    close_times,
)
from contract.ids import archive_batch_workflow_id, archive_workflow_id, claim_workflow_id
from contract.messages import ArchiveBatch, ArchiveBatchResult, ArchiveRequest
from ledger.archives import ArchiveConflict, HistoryArchive, archive_problems, archived
from ledger.db import make_engine
from ledger.queries import encounter_timeline
from ledger.worklist import tasks
from tests.workflow_harness import example, run_encounter, running_worker
from workers.worker import WorkerSettings, build_worker
from workflows.archive import ArchiveBatchWorkflow, ArchiveWorkflow


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


async def batch_of(client: Client, task_queue: str, workflow_id: str) -> ArchiveBatchResult:
    """The result of the ArchiveBatchWorkflow that archived the closed encounter: its close's
    minute's, or the minute's before."""
    (closed,) = await close_times(client, [workflow_id])
    found = []
    for back in (0, 1):
        batch_id = archive_batch_workflow_id(task_queue, closed - timedelta(minutes=back))
        try:
            result = await client.get_workflow_handle(
                batch_id, result_type=ArchiveBatchResult
            ).result()
        except RPCError:  # no batch in that minute
            continue
        found += [result] if workflow_id in result.archived else []
    assert len(found) == 1, f"no batch, or more than one, archived {workflow_id}"
    return found[0]


async def test_a_closed_encounter_archives_every_history_encrypted(
    client, simulator, ledger_url, tmp_path
):
    encounter = example("09-three-payers", encounter_id="E1009-archive")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle, status = await run_encounter(client, settings, encounter)
        batch = await batch_of(client, settings.task_queue, handle.id)
    assert status.stage == "closed"
    assert batch.archived == [handle.id] and batch.conflicts == []
    claims = [claim_workflow_id(handle.id, n, p) for n, p in enumerate(status.payer_order, 1)]

    ledger = make_engine(ledger_url)
    rows = archived(ledger, "E1009-archive")
    assert sorted(r.workflow_id for r in rows) == sorted([handle.id, *claims])
    assert {r.workflow_type for r in rows} == {"EncounterWorkflow", "PayerClaimWorkflow"}
    assert all(r.status == "completed" for r in rows)
    digests = {f"{r.workflow_id}@{r.run_id}": r.sha256 for r in rows}
    for row in rows:
        text = gzip.decompress(row.history)
        assert hashlib.sha256(text).hexdigest() == row.sha256
        assert json.loads(text)["events"][0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
        # the codec's ciphertext, not the patient: the archive is as safe as the server
        assert encounter.patient.last_name.encode() not in text
        assert encounter.patient.birth_date.isoformat().encode() not in text
        assert b"binary/encrypted" in text or b"YmluYXJ5L2VuY3J5cHRlZA" in text
    assert archive_problems(ledger, "E1009-archive") == (4, [])
    # the audit trail records the digests, under the encounter's archive id
    archived_event = [
        e for e in encounter_timeline(ledger, handle.id) if e["kind"] == "histories_archived"
    ]
    assert [e["workflow_id"] for e in archived_event] == [archive_workflow_id(handle.id)]
    assert [e["detail"]["histories"] for e in archived_event] == [digests]

    # archiving again (`cob audit archive`, a retried activity) stores nothing twice
    again = await archive_encounter(client, ledger, handle.id)
    assert again.newly_archived == [] and again.digests == digests
    assert again.workflows == [handle.id, *claims]
    assert len(archived(ledger, "E1009-archive")) == 4

    # an archive whose bytes changed is named by the check, and never overwritten
    with Session(ledger) as session:
        session.exec(
            update(HistoryArchive)
            .where(HistoryArchive.workflow_id == claims[0])
            .values(history=gzip.compress(b'{"events": []}'))
        )
        session.commit()
    checked, problems = archive_problems(ledger, "E1009-archive")
    assert checked == 4 and len(problems) == 1 and claims[0] in problems[0]
    with Session(ledger) as session:
        session.exec(
            update(HistoryArchive)
            .where(HistoryArchive.workflow_id == claims[0])
            .values(sha256="0" * 64)
        )
        session.commit()
    with pytest.raises(ArchiveConflict, match=claims[0]):
        await archive_encounter(client, ledger, handle.id)

    # a batch meeting it ends with the conflict named and a task for a person, and the
    # ArchiveWorkflow of an encounter started before batches fails at once (a bare worker:
    # the harness's would wait for the archives to succeed)
    settings = WorkerSettings(simulator.url, ledger_url, tmp_path, task_queue="archive-conflict")
    request = ArchiveRequest(encounter_workflow_id=handle.id)
    async with build_worker(client, settings):
        conflicted = await client.start_workflow(
            ArchiveBatchWorkflow.run, ArchiveBatch(), id="archives-conflict",
            task_queue=settings.task_queue, start_signal=ARCHIVE_SIGNAL,
            start_signal_args=[request],
        )  # fmt: skip
        assert await conflicted.result() == ArchiveBatchResult(conflicts=[handle.id])
        (task,) = [t for t in tasks(ledger) if t["kind"] == "archive_conflict"]
        assert task["encounter_id"] == "E1009-archive" and claims[0] in task["reason"]
        again = await client.start_workflow(
            ArchiveWorkflow.run, request,
            id=archive_workflow_id(handle.id), task_queue=settings.task_queue,
        )  # fmt: skip
        with pytest.raises(WorkflowFailureError):
            await again.result()
    # the same task, or (when the test server has skipped past the day) one due later
    found = [t for t in tasks(ledger) if t["kind"] == "archive_conflict"]
    assert 1 <= len(found) <= 2 and task in found
    assert all(t["encounter_id"] == "E1009-archive" and claims[0] in t["reason"] for t in found)

    # the ledger gone mid-way: the pass fails for Temporal to retry, and decides nothing (no
    # encounter reported archived or in conflict, no task opened)
    (tmp_path / "gone").mkdir()
    gone = make_engine(f"sqlite:///{tmp_path / 'gone' / 'ledger.db'}")
    gone.dispose()
    shutil.rmtree(tmp_path / "gone")
    with pytest.raises(OperationalError):
        await ActivityEnvironment(client=client).run(
            ArchiveActivities(gone).archive_batch, [request]
        )
    assert [t for t in tasks(ledger) if t["kind"] == "archive_conflict"] == found


async def test_a_batch_hands_back_an_encounter_still_running_and_archives_it_once_closed(
    client, ledger_url, tmp_path
):
    """A pass that finds the encounter open waits for it a while, then hands it back; the
    batch asks again later (5 s, 10 s, ...) and archives it once it has closed. (A bare
    worker whose payers never answer keeps the encounter open at its eligibility checks.)"""
    from cli.encounters import start_encounter

    settings = WorkerSettings("http://127.0.0.1:9", ledger_url, tmp_path, task_queue="archive-open")
    async with build_worker(client, settings):
        held = await start_encounter(
            client, example("01-commercial", encounter_id="E1001-open"),
            task_queue=settings.task_queue,
        )  # fmt: skip
        batch = await client.start_workflow(
            ArchiveBatchWorkflow.run, ArchiveBatch(), id="archives-open",
            task_queue=settings.task_queue, start_signal=ARCHIVE_SIGNAL,
            start_signal_args=[ArchiveRequest(encounter_workflow_id=held.id)],
        )  # fmt: skip
        for _ in range(120):  # the first pass (60 s at most): it waits, then hands back
            if await _passes(client, batch.id):
                break
            await asyncio.sleep(0.5)
        assert await _passes(client, batch.id) == 1
        await held.terminate("the test closes it")
        assert await batch.result() == ArchiveBatchResult(archived=[held.id])
    assert await _passes(client, batch.id) == 2
    (row,) = archived(make_engine(ledger_url), "E1001-open")
    assert (row.workflow_id, row.status) == (held.id, "terminated")


async def _passes(client: Client, workflow_id: str) -> int:
    """How many archive_batch passes the batch has finished."""
    from temporalio.api.enums.v1 import EventType

    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED for e in history.events)
