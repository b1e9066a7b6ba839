"""Histories archived on close: the real workers on the time-skipping server, the encounter's
abandoned ArchiveWorkflow, the ledger's history_archives rows."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session
from temporalio.client import WorkflowFailureError

from activities.archive import archive_encounter
from contract.ids import archive_workflow_id, claim_workflow_id
from contract.messages import ArchiveRequest, ArchiveResult
from ledger.archives import ArchiveConflict, HistoryArchive, archive_problems, archived
from ledger.db import make_engine
from ledger.queries import encounter_timeline
from ledger.worklist import tasks
from tests.workflow_harness import example, run_encounter, running_worker
from workers.worker import WorkerSettings, build_worker
from workflows.archive import ArchiveWorkflow


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


async def test_a_closed_encounter_archives_every_history_encrypted(
    client, simulator, ledger_url, tmp_path
):
    encounter = example("09-three-payers", encounter_id="E1009-archive")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle, status = await run_encounter(client, settings, encounter)
        archive = client.get_workflow_handle(
            archive_workflow_id(handle.id), result_type=ArchiveResult
        )
        result = await archive.result()
    assert status.stage == "closed"
    claims = [claim_workflow_id(handle.id, n, p) for n, p in enumerate(status.payer_order, 1)]
    assert result.workflows == [handle.id, *claims]
    assert result.newly_archived == result.workflows

    ledger = make_engine(ledger_url)
    rows = archived(ledger, "E1009-archive")
    assert sorted(r.workflow_id for r in rows) == sorted(result.workflows)
    assert {r.workflow_type for r in rows} == {"EncounterWorkflow", "PayerClaimWorkflow"}
    assert all(r.status == "completed" for r in rows)
    for row in rows:
        text = gzip.decompress(row.history)
        assert (
            hashlib.sha256(text).hexdigest()
            == row.sha256
            == result.digests[f"{row.workflow_id}@{row.run_id}"]
        )
        assert json.loads(text)["events"][0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
        # the codec's ciphertext, not the patient: the archive is as safe as the server
        assert encounter.patient.last_name.encode() not in text
        assert encounter.patient.birth_date.isoformat().encode() not in text
        assert b"binary/encrypted" in text or b"YmluYXJ5L2VuY3J5cHRlZA" in text
    assert archive_problems(ledger, "E1009-archive") == (4, [])
    # the audit trail records the digests, under the archive's own workflow id
    archived_event = [
        e for e in encounter_timeline(ledger, handle.id) if e["kind"] == "histories_archived"
    ]
    assert [e["detail"]["histories"] for e in archived_event] == [result.digests]

    # archiving again (`cob audit archive`, a retried activity) stores nothing twice
    again = await archive_encounter(client, ledger, handle.id)
    assert again.newly_archived == [] and again.digests == result.digests
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

    # the ArchiveWorkflow meeting it fails at once, with a task for a person (a bare worker:
    # the harness's would wait for the archives to succeed)
    settings = WorkerSettings(simulator.url, ledger_url, tmp_path, task_queue="archive-conflict")
    async with build_worker(client, settings):
        again = await client.start_workflow(
            ArchiveWorkflow.run, ArchiveRequest(encounter_workflow_id=handle.id),
            id=archive_workflow_id(handle.id), task_queue=settings.task_queue,
        )  # fmt: skip
        with pytest.raises(WorkflowFailureError):
            await again.result()
    (task,) = [t for t in tasks(ledger) if t["kind"] == "archive_conflict"]
    assert task["encounter_id"] == "E1009-archive" and claims[0] in task["reason"]
