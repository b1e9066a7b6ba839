"""The audit trail's hash chain: how an event is hashed, the chain's head row, and
`verify_chain`, which walks the chain and names each row changed, deleted or forged.

Each chained event stores the hash of the event before it (prev_hash) and its own hash:
SHA-256 of prev_hash followed by the canonical JSON of its content. The head row
(audit_chain, id 1) keeps the last seq and hash, so deleting the newest events shows too.
Events recorded before the chain existed (chain_seq NULL, id below the first chained
event's) are legacy: counted, never a problem. ledger.writes.append_audit_event appends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from ledger import tables as t

GENESIS_HASH = "0" * 64  # the prev_hash of the first chained event
HEAD_ID = 1
LOCK_HEAD = text("UPDATE audit_chain SET seq = seq WHERE id = :id")
PAGE_SIZE = 1000  # events read per query: a million-row trail never sits in memory at once


class ChainHeadMissing(RuntimeError):
    """Chained events exist but the audit chain's head row does not: it was deleted, and a
    new head would hide the deletion (and fork the chain at seq 1)."""


def recorded_time(value: datetime) -> str:
    """UTC, naive, with microseconds: SQLite gives back naive datetimes, PostgreSQL aware ones."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def event_hash(event: t.AuditEvent) -> str:
    """SHA-256 (hex) of the event's prev_hash followed by its canonical JSON (sorted keys, no
    spaces): seq, workflow_id, step, kind, detail (the stored text) and recorded_at."""
    if event.chain_seq is None:
        raise ValueError(f"audit event id {event.id} has no chain_seq to hash")
    content = {
        "seq": event.chain_seq,
        "workflow_id": event.workflow_id,
        "step": event.step,
        "kind": event.kind,
        "detail": event.detail,
        "recorded_at": recorded_time(event.recorded_at),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(((event.prev_hash or "") + canonical).encode()).hexdigest()


def new_head(session: Session, now: datetime) -> t.AuditChainHead:
    """The head of an empty chain, added to the session. ChainHeadMissing when chained events
    exist already: their head was deleted, and starting again would hide that."""
    chained = select(t.AuditEvent.id).where(col(t.AuditEvent.chain_seq).is_not(None)).limit(1)
    if session.exec(chained).first() is not None:
        raise ChainHeadMissing(
            "the audit chain's head row (audit_chain id 1) is missing while chained events "
            "exist: it was deleted; `verify_chain` says what else is wrong"
        )
    head = t.AuditChainHead(id=HEAD_ID, seq=0, hash=GENESIS_HASH, updated_at=now)
    session.add(head)
    return head


def lock_head(session: Session, now: datetime) -> None:
    """Take the chain's lock: the first statement of an append's transaction, and a write.

    On SQLite a write first takes the database's write lock, waiting under the busy timeout;
    a SELECT first would start a read snapshot that another writer can move past, and the
    later write would fail at once instead of waiting. On PostgreSQL it locks the head row
    until commit. A ledger without a head row (its engine not from make_engine) gets one."""
    locked = session.connection().execute(LOCK_HEAD, {"id": HEAD_ID})
    if locked.rowcount == 0:
        new_head(session, now)
        session.flush()


@dataclass
class ChainReport:
    """What verify_chain found: `problems` holds one sentence per broken row, [] when intact."""

    checked: int = 0  # chained events read and hashed again
    legacy: int = 0  # events from before the chain existed
    head_seq: int | None = None  # None: there is no head row
    head_hash: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        head = "no head" if self.head_seq is None else f"head seq {self.head_seq}"
        if self.head_hash:
            head += f" (hash {self.head_hash[:16]}...)"
        found = "no problems" if self.intact else f"{len(self.problems)} problem(s)"
        return f"{self.checked} chained events checked, {self.legacy} legacy, {head}: {found}"


def _named(event: t.AuditEvent) -> str:
    return (
        f"audit event id {event.id} (chain_seq {event.chain_seq}, "
        f"workflow {event.workflow_id}, step {event.step})"
    )


def _short(digest: str | None) -> str:
    return f"{digest[:16]}..." if digest else "none"


def _pages(
    session: Session, query: SelectOfScalar[t.AuditEvent], key: str
) -> Iterator[t.AuditEvent]:
    """The query's rows in `key` order (a unique column), PAGE_SIZE at a time."""
    column = col(getattr(t.AuditEvent, key))
    after = None
    while True:
        page_query = query if after is None else query.where(column > after)
        page = session.exec(page_query.order_by(column).limit(PAGE_SIZE)).all()
        yield from page
        if len(page) < PAGE_SIZE:
            return
        after = getattr(page[-1], key)
        session.expunge_all()  # the rows already checked need not stay in the session


def _missing(first: int, last: int, following: t.AuditEvent) -> str:
    seqs = f"seq {first} is" if first == last else f"seq {first} to {last} are"
    return f"audit chain {seqs} missing (deleted): the next present is {_named(following)}"


def _check_events(session: Session, report: ChainReport, genesis_seq: int) -> t.AuditEvent | None:
    """Walk the chained events in seq order; the last one present (None if none is)."""
    previous: t.AuditEvent | None = None
    expected = genesis_seq
    chained = select(t.AuditEvent).where(col(t.AuditEvent.chain_seq).is_not(None))
    for event in _pages(session, chained, "chain_seq"):
        seq = event.chain_seq
        assert seq is not None
        report.checked += 1
        if seq < expected:
            report.problems.append(
                f"{_named(event)}: its seq is before the chain's first, {expected}"
            )
            continue
        link: str | None = GENESIS_HASH if previous is None else previous.hash
        if seq > expected:
            report.problems.append(_missing(expected, seq - 1, event))
            link = None  # the event before it is gone: there is nothing to compare with
        if link is not None and event.prev_hash != link:
            before = f"event seq {previous.chain_seq}" if previous else "the chain's start (zeros)"
            report.problems.append(f"{_named(event)}: prev_hash does not match {before}")
        recomputed = event_hash(event)
        if event.hash != recomputed:
            report.problems.append(
                f"{_named(event)}: its content changed (hash {_short(event.hash)} stored, "
                f"{_short(recomputed)} computed from the row)"
            )
        previous, expected = event, seq + 1
    return previous


def _check_head(session: Session, report: ChainReport, last: t.AuditEvent | None) -> None:
    """The head (as read before the walk) against the last event present: events deleted at
    the end, the last one rewritten with a new hash, or rows appended past the head."""
    if report.head_seq is None:
        if last is not None:
            report.problems.append(
                "the audit chain's head row (audit_chain id 1) is missing (deleted)"
            )
        return
    last_seq = last.chain_seq if last is not None and last.chain_seq is not None else 0
    if report.head_seq > last_seq:
        report.problems.append(
            f"the head says the last event is seq {report.head_seq} but the last present is "
            f"{last_seq} (events deleted at the end)"
        )
    elif last is not None and report.head_seq == last_seq and report.head_hash != last.hash:
        report.problems.append(
            f"{_named(last)}: the head's hash {_short(report.head_hash)} does not match it "
            f"(the last event was rewritten)"
        )
    elif last_seq > report.head_seq:
        # Appends may have moved the head while we read: only rows past the head as it is
        # now were never appended by the ledger.
        session.expire_all()
        now = session.get(t.AuditChainHead, HEAD_ID)
        head_seq = now.seq if now is not None else report.head_seq
        beyond = select(t.AuditEvent).where(col(t.AuditEvent.chain_seq) > head_seq)
        for event in _pages(session, beyond, "chain_seq"):
            report.problems.append(
                f"{_named(event)}: it is past the head (seq {head_seq}), so the ledger did not "
                f"append it (forged)"
            )


def _check_unchained(session: Session, report: ChainReport, genesis_id: int | None) -> None:
    """Count the legacy events; name every unchained row recorded after the chain began."""
    unchained = select(t.AuditEvent).where(col(t.AuditEvent.chain_seq).is_(None))
    legacy = (
        select(func.count()).select_from(t.AuditEvent).where(col(t.AuditEvent.chain_seq).is_(None))
    )
    if genesis_id is None:
        report.legacy = session.exec(legacy).one()
        return
    report.legacy = session.exec(legacy.where(col(t.AuditEvent.id) < genesis_id)).one()
    after = unchained.where(col(t.AuditEvent.id) > genesis_id)
    for event in _pages(session, after, "id"):
        report.problems.append(
            f"{_named(event)}: unchained row after the chain began (at event id {genesis_id})"
        )


def verify_chain(engine: Engine) -> ChainReport:
    """Re-hash the audit trail in chain order and name every row that breaks the chain: a
    changed row, a deleted one (in the middle or at the end), a forged one. Read-only."""
    with Session(engine) as session:
        head = session.get(t.AuditChainHead, HEAD_ID)
        report = ChainReport(
            head_seq=head.seq if head else None, head_hash=head.hash if head else None
        )
        # Kept as plain values: paging clears the session, which detaches `head`.
        genesis_seq = head.genesis_seq if head and head.genesis_seq is not None else 1
        first_chained = select(func.min(t.AuditEvent.id)).where(
            col(t.AuditEvent.chain_seq).is_not(None)
        )
        genesis_id = session.exec(first_chained).one()
        last = _check_events(session, report, genesis_seq)
        _check_head(session, report, last)
        _check_unchained(session, report, genesis_id)
    return report
