"""Closed workflow histories kept in the ledger, because the Temporal server deletes them when
its namespace's retention runs out (a day or three on the servers we start) while HIPAA asks
for six years (45 CFR 164.316(b)(2)) and Medicare Advantage contracts for ten
(42 CFR 422.504(d)).

One row per workflow run: the history exactly as the server returned it (its payloads still
encrypted by the payload codec, workers/codec.py), gzip-compressed, with the SHA-256 of the
uncompressed bytes, so `cob audit verify` can prove that nothing changed since. Inserts only:
the history of a closed run never changes, so a second write of the same run must carry the
same bytes, and a different digest is refused, never overwritten.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger.db import in_transaction, utcnow
from ledger.tables import HistoryArchive


@dataclass(frozen=True)
class ClosedHistory:
    """One closed run's history as the server gave it (JSON text of temporal.api.history.v1.History)."""

    workflow_id: str
    run_id: str
    encounter_id: str
    workflow_type: str
    parent_workflow_id: str | None
    status: str
    closed_at: datetime
    event_count: int
    text: str

    @property
    def sha256(self) -> str:
        return digest(self.text.encode())


class ArchiveConflict(ValueError):
    """A run already archived with other bytes: the archive is never overwritten."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_histories(engine: Engine, histories: list[ClosedHistory]) -> list[str]:
    """Archive each run not archived yet, in one transaction; the workflow ids newly stored.
    A run archived before with the same digest is left as it is (a retried activity);
    with another digest, ArchiveConflict and nothing is written."""

    def work(session: Session) -> list[str]:
        stored = []
        for history in histories:
            data = history.text.encode()
            found = session.get(HistoryArchive, (history.workflow_id, history.run_id))
            if found is not None:
                if found.sha256 != digest(data):
                    raise ArchiveConflict(
                        f"workflow {history.workflow_id} run {history.run_id} is archived with "
                        f"digest {found.sha256[:12]}..., not {digest(data)[:12]}...: "
                        "a closed history cannot change; the archive is kept as it is"
                    )
                continue
            session.add(
                HistoryArchive(
                    workflow_id=history.workflow_id,
                    run_id=history.run_id,
                    encounter_id=history.encounter_id,
                    workflow_type=history.workflow_type,
                    parent_workflow_id=history.parent_workflow_id,
                    status=history.status,
                    closed_at=history.closed_at,
                    event_count=history.event_count,
                    size=len(data),
                    sha256=digest(data),
                    history=gzip.compress(data, mtime=0),
                    archived_at=utcnow(),
                )
            )
            stored.append(history.workflow_id)
        return stored

    return in_transaction(engine, work)


def archived(engine: Engine, encounter_id: str) -> list[HistoryArchive]:
    """The encounter's archived runs, the encounter first, then by workflow id and close."""
    with Session(engine) as session:
        rows = session.exec(
            select(HistoryArchive)
            .where(HistoryArchive.encounter_id == encounter_id)
            .order_by(col(HistoryArchive.workflow_id), col(HistoryArchive.closed_at))
        ).all()
    return list(rows)


def history_text(row: HistoryArchive) -> str:
    """The archived history's JSON; ValueError when its bytes do not match its digest."""
    try:
        data = gzip.decompress(row.history)
    except (OSError, EOFError) as error:
        raise ValueError(f"archive of {row.workflow_id} is not readable gzip: {error}") from None
    if digest(data) != row.sha256:
        raise ValueError(
            f"archive of {row.workflow_id} run {row.run_id} does not match its SHA-256 "
            f"(stored {row.sha256[:12]}..., computed {digest(data)[:12]}...)"
        )
    return data.decode()


def archive_problems(engine: Engine, encounter_id: str | None = None) -> tuple[int, list[str]]:
    """Check every archived history (or one encounter's) against its digest: how many were
    checked and one sentence per archive that does not match."""
    query = select(HistoryArchive.workflow_id, HistoryArchive.run_id)
    if encounter_id is not None:
        query = query.where(HistoryArchive.encounter_id == encounter_id)
    problems = []
    with Session(engine) as session:
        keys = session.exec(query.order_by(col(HistoryArchive.workflow_id))).all()
        for key in keys:  # one row at a time: histories are large
            row = session.get(HistoryArchive, tuple(key))
            assert row is not None
            try:
                history_text(row)
            except ValueError as error:
                problems.append(str(error))
            session.expunge(row)
    return len(keys), problems
