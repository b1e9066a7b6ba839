"""The audit trail's hash chain (ledger/audit_chain.py) on SQLite and, when
COB_TEST_DATABASE_URL is set, PostgreSQL: every change, deletion or forgery made behind the
ledger's back (raw SQL) is named by verify_chain, and an older ledger opens and goes on."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, select

from ledger import audit_chain
from ledger import tables as t
from ledger.audit_chain import GENESIS_HASH, ChainHeadMissing, event_hash, verify_chain
from ledger.db import _add_column, dispose_engine, make_engine, normalize_url
from ledger.queries import audit_events
from ledger.writes import append_audit_event
from tests.ledger_db import TEST_DATABASE_ENV, backends


def append(engine: Engine, workflow_id: str, step: str, detail: dict | None = None) -> bool:
    return append_audit_event(
        engine, workflow_id=workflow_id, step=step, kind=step.split(":")[0], detail=detail or {}
    )


def three_events(engine: Engine) -> None:
    """Chain seq 1, 2, 3 (ids 1, 2, 3 in a fresh ledger)."""
    append(engine, "encounter-E1", "eligibility", {"payers": ["AETNA", "BCBS"]})
    append(engine, "encounter-E1/claim-1-AETNA", "claim:1", {"paid": "100.00"})
    append(engine, "encounter-E1", "close", {"patient_responsibility": "20.00"})


def chain(engine: Engine) -> list[t.AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(t.AuditEvent).order_by(t.AuditEvent.id)))


def execute(engine: Engine, statement: str | Executable, **parameters: object) -> None:
    """Change the table behind the ledger's back, as someone with database access could."""
    with engine.begin() as connection:
        connection.execute(text(statement) if isinstance(statement, str) else statement, parameters)


CLAIM_ROW = "audit event id 2 (chain_seq 2, workflow encounter-E1/claim-1-AETNA, step claim:1)"
CLOSE_ROW = "audit event id 3 (chain_seq 3, workflow encounter-E1, step close)"


def test_a_clean_chain_links_each_event_to_the_one_before(ledger_engine: Engine) -> None:
    three_events(ledger_engine)
    assert not append(ledger_engine, "encounter-E1", "close", {"patient_responsibility": "0"})
    events = chain(ledger_engine)
    assert [e.chain_seq for e in events] == [1, 2, 3]
    assert [e.prev_hash for e in events] == [GENESIS_HASH, events[0].hash, events[1].hash]
    # The hash input, written out: the previous hash, then the canonical JSON of the event.
    claim = events[1]
    at = claim.recorded_at  # naive UTC from SQLite, aware from PostgreSQL
    at = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
    canonical = (
        '{"detail":"{\\"paid\\": \\"100.00\\"}","kind":"claim",'
        f'"recorded_at":"{at.isoformat(timespec="microseconds")}","seq":2,"step":"claim:1",'
        '"workflow_id":"encounter-E1/claim-1-AETNA"}'
    )
    assert claim.hash == hashlib.sha256((events[0].hash + canonical).encode()).hexdigest()

    report = verify_chain(ledger_engine)
    assert report.problems == [] and report.intact
    assert (report.checked, report.legacy, report.head_seq) == (3, 0, 3)
    assert report.head_hash == events[2].hash
    with Session(ledger_engine) as session:
        head = session.get(t.AuditChainHead, 1)
        assert head is not None and (head.seq, head.genesis_seq) == (3, 1)
    assert report.summary().startswith("3 chained events checked, 0 legacy, head seq 3")


def test_an_empty_ledger_verifies_with_nothing_checked(ledger_engine: Engine) -> None:
    report = verify_chain(ledger_engine)
    assert (report.checked, report.legacy, report.head_seq, report.problems) == (0, 0, 0, [])


def test_an_edited_detail_is_named(ledger_engine: Engine) -> None:
    three_events(ledger_engine)
    execute(ledger_engine, """UPDATE audit_events SET detail = '{"paid": "999.00"}' WHERE id = 2""")
    (problem,) = verify_chain(ledger_engine).problems
    assert problem.startswith(f"{CLAIM_ROW}: its content changed (hash ")


@pytest.mark.parametrize("column", ["kind", "recorded_at", "step", "workflow_id"])
def test_an_edited_kind_time_step_or_workflow_is_named(ledger_engine: Engine, column: str) -> None:
    three_events(ledger_engine)
    claim = chain(ledger_engine)[1]
    changed = {
        "kind": "appeal",
        "recorded_at": claim.recorded_at + timedelta(microseconds=1),
        "step": "claim:2",
        "workflow_id": "encounter-E1/claim-1-BCBS",
    }[column]
    execute(
        ledger_engine, update(t.AuditEvent).where(t.AuditEvent.id == 2).values({column: changed})
    )
    (problem,) = verify_chain(ledger_engine).problems
    assert "audit event id 2 (chain_seq 2," in problem and "its content changed" in problem


def test_a_rewritten_row_with_a_fresh_hash_is_named_by_the_next_one(ledger_engine: Engine):
    three_events(ledger_engine)
    forged = chain(ledger_engine)[1]
    forged.detail = '{"paid": "999.00"}'
    execute(
        ledger_engine,
        "UPDATE audit_events SET detail = :detail, hash = :hash WHERE id = 2",
        detail=forged.detail,
        hash=event_hash(forged),
    )
    assert verify_chain(ledger_engine).problems == [
        f"{CLOSE_ROW}: prev_hash does not match event seq 2"
    ]


def test_a_deleted_middle_row_is_named(ledger_engine: Engine) -> None:
    three_events(ledger_engine)
    execute(ledger_engine, "DELETE FROM audit_events WHERE id = 2")
    assert verify_chain(ledger_engine).problems == [
        f"audit chain seq 2 is missing (deleted): the next present is {CLOSE_ROW}"
    ]


def test_deleted_first_rows_are_named(ledger_engine: Engine) -> None:
    three_events(ledger_engine)
    execute(ledger_engine, "DELETE FROM audit_events WHERE id IN (1, 2)")
    assert verify_chain(ledger_engine).problems == [
        f"audit chain seq 1 to 2 are missing (deleted): the next present is {CLOSE_ROW}"
    ]


def test_a_deleted_last_row_is_named_by_the_head(ledger_engine: Engine) -> None:
    three_events(ledger_engine)
    execute(ledger_engine, "DELETE FROM audit_events WHERE id = 3")
    assert verify_chain(ledger_engine).problems == [
        "the head says the last event is seq 3 but the last present is 2 "
        "(events deleted at the end)"
    ]


def test_a_rewritten_last_row_with_a_fresh_hash_is_named_by_the_head(ledger_engine: Engine):
    three_events(ledger_engine)
    forged = chain(ledger_engine)[2]
    forged.detail = '{"patient_responsibility": "0.00"}'
    execute(
        ledger_engine,
        "UPDATE audit_events SET detail = :detail, hash = :hash WHERE id = 3",
        detail=forged.detail,
        hash=event_hash(forged),
    )
    (problem,) = verify_chain(ledger_engine).problems
    assert problem.startswith(f"{CLOSE_ROW}: the head's hash ")


def test_an_inserted_unchained_row_is_named(ledger_engine: Engine) -> None:
    three_events(ledger_engine)
    execute(
        ledger_engine,
        "INSERT INTO audit_events (workflow_id, step, kind, detail, recorded_at) "
        "VALUES ('encounter-E1', 'refund', 'refund', '{}', :at)",
        at=chain(ledger_engine)[2].recorded_at,
    )
    report = verify_chain(ledger_engine)
    assert report.problems == [
        "audit event id 4 (chain_seq None, workflow encounter-E1, step refund): "
        "unchained row after the chain began (at event id 1)"
    ]
    assert report.legacy == 0  # recorded after the chain began: a break, not a legacy event


def test_a_forged_row_chained_past_the_head_is_named(ledger_engine: Engine) -> None:
    three_events(ledger_engine)
    last = chain(ledger_engine)[2]
    forged = t.AuditEvent(
        workflow_id="encounter-E1", step="refund", kind="refund", detail="{}",
        recorded_at=last.recorded_at, chain_seq=4, prev_hash=last.hash,
    )  # fmt: skip
    forged.hash = event_hash(forged)
    with Session(ledger_engine) as session:
        session.add(forged)
        session.commit()
    assert verify_chain(ledger_engine).problems == [
        "audit event id 4 (chain_seq 4, workflow encounter-E1, step refund): it is past the "
        "head (seq 3), so the ledger did not append it (forged)"
    ]


def test_a_deleted_head_row_is_named_and_stops_appends(ledger_engine: Engine) -> None:
    three_events(ledger_engine)
    execute(ledger_engine, "DELETE FROM audit_chain")
    assert verify_chain(ledger_engine).problems == [
        "the audit chain's head row (audit_chain id 1) is missing (deleted)"
    ]
    with pytest.raises(ChainHeadMissing):  # a new head would start a second chain at seq 1
        append(ledger_engine, "encounter-E2", "start")


def test_verify_reads_in_pages_and_links_across_them(
    ledger_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_chain, "PAGE_SIZE", 2)
    for n in range(1, 8):
        append(ledger_engine, "encounter-P1", f"step:{n}")
    execute(ledger_engine, "INSERT INTO audit_events (workflow_id, step, kind, detail, "
            "recorded_at) VALUES ('encounter-P1', 'late', 'late', '{}', :at)",
            at=chain(ledger_engine)[0].recorded_at)  # fmt: skip
    execute(ledger_engine, "INSERT INTO audit_events (workflow_id, step, kind, detail, "
            "recorded_at) VALUES ('encounter-P1', 'later', 'later', '{}', :at)",
            at=chain(ledger_engine)[0].recorded_at)  # fmt: skip
    assert len(verify_chain(ledger_engine).problems) == 2  # the two unchained rows
    execute(ledger_engine, "DELETE FROM audit_events WHERE id IN (8, 9)")
    report = verify_chain(ledger_engine)
    assert (report.checked, report.problems) == (7, [])
    # Pages now hold seq 1-2, 4-5, 6-7: the gap and the broken link both sit at a page's start.
    execute(ledger_engine, "DELETE FROM audit_events WHERE id = 3")
    forged = chain(ledger_engine)[3]  # seq 5, the last of the middle page
    forged.detail = '{"paid": "1.00"}'
    execute(ledger_engine, "UPDATE audit_events SET detail = :detail, hash = :hash WHERE id = 5",
            detail=forged.detail, hash=event_hash(forged))  # fmt: skip
    report = verify_chain(ledger_engine)
    assert report.problems == [
        "audit chain seq 3 is missing (deleted): the next present is audit event id 4 "
        "(chain_seq 4, workflow encounter-P1, step step:4)",
        "audit event id 6 (chain_seq 6, workflow encounter-P1, step step:6): "
        "prev_hash does not match event seq 5",
    ]
    assert report.checked == 6


def test_eight_threads_appending_keep_one_chain(ledger_engine: Engine) -> None:
    def worker(n: int) -> list[bool]:
        return [append(ledger_engine, f"encounter-T{n}", f"step:{i}") for i in range(6)]

    with ThreadPoolExecutor(8) as pool:
        results = [f.result() for f in [pool.submit(worker, n) for n in range(8)]]
    assert results == [[True] * 6] * 8
    events = chain(ledger_engine)
    assert sorted(e.chain_seq for e in events) == list(range(1, 49))
    report = verify_chain(ledger_engine)
    assert (report.problems, report.checked, report.head_seq) == ([], 48, 48)


# --- an older ledger: audit_events as it was before the chain ---

OLD_AUDIT_EVENTS = """CREATE TABLE audit_events (
    id {id} PRIMARY KEY, workflow_id VARCHAR NOT NULL, step VARCHAR NOT NULL,
    kind VARCHAR NOT NULL, detail TEXT NOT NULL, recorded_at {timestamp} NOT NULL,
    CONSTRAINT uq_audit_workflow_step UNIQUE (workflow_id, step))"""
OLD_TYPES = {
    "sqlite": {"id": "INTEGER NOT NULL", "timestamp": "DATETIME"},
    "postgresql": {"id": "SERIAL", "timestamp": "TIMESTAMP WITH TIME ZONE"},
}


@contextmanager
def legacy_ledger(backend: str, directory: Path) -> Iterator[Engine]:
    """A ledger that has only the old audit_events table, with two events, opened by
    make_engine afterwards."""
    if backend == "sqlite":
        url, schema, options = f"sqlite:///{directory / 'old.db'}", None, {}
    else:
        url = normalize_url(os.environ[TEST_DATABASE_ENV])
        schema = f"cob_test_{secrets.token_hex(6)}"
        options = {"connect_args": {"options": f"-c search_path={schema}"}}
    admin = create_engine(url)
    by_hand = create_engine(url, **options)
    try:
        with by_hand.begin() as connection:
            if schema:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            connection.execute(text(OLD_AUDIT_EVENTS.format(**OLD_TYPES[backend])))
            connection.execute(
                text(
                    "INSERT INTO audit_events (workflow_id, step, kind, detail, recorded_at) "
                    "VALUES (:workflow_id, :step, 'started', '{}', '2024-05-01 10:00:00')"
                ),
                [
                    {"workflow_id": "encounter-OLD", "step": "start"},
                    {"workflow_id": "encounter-OLD", "step": "eligibility"},
                ],
            )
        by_hand.dispose()
        yield make_engine(url, schema)
    finally:
        dispose_engine(url, schema)
        by_hand.dispose()
        if schema:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("backend", backends())
def test_a_ledger_from_before_the_chain_opens_and_chains_after_its_legacy_events(
    backend: str, tmp_path: Path
) -> None:
    with legacy_ledger(backend, tmp_path) as engine:
        assert append(engine, "encounter-OLD", "claim:1", {"paid": "50.00"})
        assert append(engine, "encounter-NEW", "start")
        assert not append(engine, "encounter-OLD", "start")  # still once per step
        steps = [(e["step"], e["chain_seq"]) for e in audit_events(engine, "encounter-OLD")]
        assert steps == [("start", None), ("eligibility", None), ("claim:1", 1)]
        assert inspect(engine).has_index("audit_events", "ix_audit_events_chain_seq")
        report = verify_chain(engine)
        assert report.problems == []
        assert (report.legacy, report.checked, report.head_seq) == (2, 2, 2)
        assert ", 2 legacy, " in report.summary()


@pytest.mark.parametrize("backend", backends())
def test_a_column_another_process_added_first_is_let_go(backend: str, tmp_path: Path) -> None:
    with legacy_ledger(backend, tmp_path) as engine:
        table = t.AuditEvent.__table__  # type: ignore[attr-defined]
        _add_column(engine, table, table.c.prev_hash)  # it is there: the ALTER fails, let go
        assert "prev_hash" in {c["name"] for c in inspect(engine).get_columns("audit_events")}
