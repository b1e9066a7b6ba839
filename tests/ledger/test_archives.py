"""The ledger's archive of closed workflow histories (ledger/archives.py), on SQLite and, with
COB_TEST_DATABASE_URL, PostgreSQL: stored once, compressed, checked against its SHA-256,
never overwritten."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger.archives import (
    ArchiveConflict,
    ClosedHistory,
    archive_problems,
    archived,
    history_text,
    store_histories,
)
from ledger.tables import HistoryArchive


def closed(workflow_id: str, text: str, run_id: str = "run-1") -> ClosedHistory:
    return ClosedHistory(
        workflow_id=workflow_id, run_id=run_id, encounter_id="E1", workflow_type="X",
        parent_workflow_id=None, status="completed",
        closed_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC), event_count=3, text=text,
    )  # fmt: skip


HISTORY = '{"events":[' + ",".join(f'{{"eventId":"{n}"}}' for n in range(1, 200)) + "]}"


def test_a_history_is_stored_once_compressed_and_read_back_exactly(ledger_engine: Engine):
    histories = [closed("encounter-E1", HISTORY), closed("encounter-E1/claim-1-ACME01", "{}")]
    assert store_histories(ledger_engine, histories) == [h.workflow_id for h in histories]
    assert store_histories(ledger_engine, histories) == []  # a retried activity
    rows = archived(ledger_engine, "E1")
    assert [r.workflow_id for r in rows] == ["encounter-E1", "encounter-E1/claim-1-ACME01"]
    assert history_text(rows[0]) == HISTORY
    assert rows[0].sha256 == hashlib.sha256(HISTORY.encode()).hexdigest()
    assert rows[0].size == len(HISTORY) and len(rows[0].history) < len(HISTORY) / 5
    assert archive_problems(ledger_engine) == (2, [])
    assert archived(ledger_engine, "E2") == []


def test_a_changed_history_is_refused_and_a_tampered_archive_named(ledger_engine: Engine):
    store_histories(ledger_engine, [closed("encounter-E1", HISTORY)])
    with pytest.raises(ArchiveConflict, match="encounter-E1 run run-1"):
        store_histories(ledger_engine, [closed("encounter-E1", HISTORY.replace("199", "200"))])
    assert history_text(archived(ledger_engine, "E1")[0]) == HISTORY  # kept as it was
    with Session(ledger_engine) as session:
        session.exec(
            update(HistoryArchive).values(history=gzip.compress(HISTORY.replace("7", "8").encode()))
        )
        session.commit()
    checked, problems = archive_problems(ledger_engine, "E1")
    assert checked == 1 and len(problems) == 1
    assert "encounter-E1 run run-1 does not match its SHA-256" in problems[0]
    with pytest.raises(ValueError, match="does not match its SHA-256"):
        history_text(archived(ledger_engine, "E1")[0])
