"""The simulated payers' own SQLite file: the claims received and their adjudications, each
member's deductible accumulator (seeded from members.json), the 835s waiting in the ERA feed,
and the control numbers the payers give out. Reading and writing only; what the payer decides
lives in claims_desk.py."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from pathlib import Path

from cob.model import ClaimAcknowledgment, ClaimSubmission, Remittance
from cob.money import ZERO
from payers.era import EraBatch, EraDocument
from payers.simulator.claim_holds import HOLD_SCHEMA
from payers.simulator.credit_reserves import CREDIT_RESERVE_SCHEMA

SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    payer_claim_number TEXT PRIMARY KEY, payer_id TEXT NOT NULL,
    claim_control_number TEXT NOT NULL, member_id TEXT NOT NULL, encounter_id TEXT NOT NULL,
    frequency TEXT NOT NULL, plan_year INTEGER NOT NULL, deductible_used TEXT NOT NULL,
    received_count INTEGER NOT NULL DEFAULT 1, adjudicated_count INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'adjudicated', replaced_by TEXT,
    acknowledgment TEXT NOT NULL, remittance TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accumulators (
    payer_id TEXT NOT NULL, member_id TEXT NOT NULL, plan_year INTEGER NOT NULL,
    deductible_used TEXT NOT NULL, PRIMARY KEY (payer_id, member_id, plan_year));
CREATE TABLE IF NOT EXISTS eras (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, payer_id TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS control_numbers (n INTEGER PRIMARY KEY AUTOINCREMENT, used_for TEXT);
CREATE TABLE IF NOT EXISTS mailbox (id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (payer_claim_number TEXT PRIMARY KEY, submission TEXT);
"""
MEMBERS = Path(__file__).parent / "members.json"


class ClaimStore:
    """The simulator's SQLite file: one connection, one lock, one transaction at a time."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.executescript(SCHEMA + CREDIT_RESERVE_SCHEMA + HOLD_SCHEMA)
        self._lock = threading.Lock()
        with self.transaction() as db:
            row = db.execute("SELECT id FROM mailbox").fetchone()
            if row is None:  # a new clearinghouse mailbox: engines reading an old one restart
                row = (uuid.uuid4().hex[:12],)
                db.execute("INSERT INTO mailbox VALUES (?)", row)
            self.mailbox: str = row[0]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._conn:  # commits, or rolls back on an exception
            yield self._conn


def next_control_number(db: sqlite3.Connection, used_for: str) -> int:
    """A fresh ISA13/GS06 for a document the payers send (9 digits)."""
    cursor = db.execute("INSERT INTO control_numbers (used_for) VALUES (?)", (used_for,))
    return int(cursor.lastrowid or 0) % 1_000_000_000


@cache
def year_to_date_deductibles() -> dict[str, Decimal]:
    """The accumulators the payers had before the simulator started (payers/simulator/members.json)."""
    data = json.loads(MEMBERS.read_text())
    return {key: Decimal(amount) for key, amount in data["deductible_met"].items()}


@cache
def other_primary_coverage() -> dict[str, str]:
    """payer/member -> the plan the payer's COB file says is primary (payers/simulator/members.json)."""
    data = json.loads(MEMBERS.read_text())
    return dict(data.get("other_coverage_primary", {}))


def deductible_used(db: sqlite3.Connection, payer_id: str, member_id: str, year: int) -> Decimal:
    row = db.execute(
        "SELECT deductible_used FROM accumulators WHERE payer_id=? AND member_id=? AND plan_year=?",
        (payer_id, member_id, year),
    ).fetchone()
    if row:
        return Decimal(row[0])
    return year_to_date_deductibles().get(f"{payer_id}/{member_id}/{year}", ZERO)


def add_to_accumulator(db: sqlite3.Connection, key: tuple[str, str, int], amount: Decimal) -> None:
    used = deductible_used(db, *key) + amount
    db.execute("INSERT OR REPLACE INTO accumulators VALUES (?, ?, ?, ?)", (*key, str(used)))


def answered_before(db: sqlite3.Connection, number: str) -> ClaimAcknowledgment | None:
    """A claim received again: counted, and its first acknowledgment; None when it is new."""
    resend = "UPDATE claims SET received_count = received_count + 1 WHERE payer_claim_number=?"
    seen = db.execute(resend + " RETURNING acknowledgment", (number,)).fetchall()
    return ClaimAcknowledgment.model_validate_json(seen[0][0]) if seen else None


def stored_claim(db: sqlite3.Connection, number: str) -> sqlite3.Row | None:
    """The claims row of payer claim number `number`."""
    return db.execute("SELECT * FROM claims WHERE payer_claim_number=?", (number,)).fetchone()


def mark_replaced(db: sqlite3.Connection, number: str, status: str, replaced_by: str) -> None:
    """Claim `number` replaced or voided (status) by the claim `replaced_by`."""
    db.execute(
        "UPDATE claims SET status=?, replaced_by=? WHERE payer_claim_number=?",
        (status, replaced_by, number),
    )


def record_claim(
    db: sqlite3.Connection,
    number: str,
    payer_id: str,
    sub: ClaimSubmission,
    deductible: Decimal,
    ack: ClaimAcknowledgment,
    remittance: Remittance,
) -> None:
    """An adjudicated claim, with the deductible it used and the claim as received (so the
    payer can reprocess it on appeal)."""
    db.execute(
        "INSERT INTO claims (payer_claim_number, payer_id, claim_control_number, member_id, "
        "encounter_id, frequency, plan_year, deductible_used, acknowledgment, remittance) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (number, payer_id, sub.claim_control_number, sub.coverage.member_id,
         sub.encounter.encounter_id, sub.frequency, sub.encounter.service_date.year,
         str(deductible), ack.model_dump_json(), remittance.model_dump_json()),
    )  # fmt: skip
    db.execute("INSERT OR IGNORE INTO submissions VALUES (?, ?)", (number, sub.model_dump_json()))


def latest_submission(
    db: sqlite3.Connection, payer_id: str, ccn: str
) -> tuple[str, ClaimSubmission] | None:
    """The payer claim number and the claim as received of the payer's current adjudication
    of claim `ccn` (not replaced or voided)."""
    row = db.execute(
        "SELECT c.payer_claim_number, s.submission FROM claims c JOIN submissions s "
        "ON s.payer_claim_number = c.payer_claim_number WHERE c.claim_control_number=? "
        "AND c.payer_id=? AND c.replaced_by IS NULL ORDER BY c.rowid DESC",
        (ccn, payer_id),
    ).fetchone()
    if row is None:
        return None
    return row["payer_claim_number"], ClaimSubmission.model_validate_json(row["submission"])


def stored_remittance(store: ClaimStore, payer_id: str, ccn: str) -> Remittance | None:
    """The payer's current adjudication of claim `ccn` (for a 277 status answer)."""
    query = (
        "SELECT remittance FROM claims WHERE claim_control_number=? AND payer_id=? "
        "AND replaced_by IS NULL ORDER BY rowid DESC"
    )
    with store.transaction() as db:
        row = db.execute(query, (ccn, payer_id)).fetchone()
    return Remittance.model_validate_json(row[0]) if row else None


def claims_on_file(store: ClaimStore) -> list[dict]:
    """Every claim received, in the order received, with its counts and status (admin)."""
    columns = (
        "claim_control_number, payer_id, member_id, encounter_id, frequency, "
        "received_count, adjudicated_count, status, replaced_by, payer_claim_number"
    )
    with store.transaction() as db:
        rows = db.execute(f"SELECT {columns} FROM claims ORDER BY rowid").fetchall()
    return [dict(row) for row in rows]


def queue_era(db: sqlite3.Connection, payer_id: str, text: str) -> None:
    """An 835 into the ERA feed, after every one before it."""
    db.execute("INSERT INTO eras (payer_id, text) VALUES (?, ?)", (payer_id, text))


class BadCursor(ValueError):
    """A cursor of this mailbox whose sequence is not one it gave out."""


MAX_SEQUENCE = 2**63 - 1  # SQLite INTEGER


def era_since(store: ClaimStore, cursor: str | None, limit: int = 100) -> EraBatch:
    """The 835s after `cursor`, oldest first. A cursor of another mailbox (the simulator was
    started afresh) or none starts from the top; one of this mailbox whose sequence is not a
    number is refused (BadCursor)."""
    after = 0
    if cursor:
        mailbox, _, seq = cursor.partition(".")
        if mailbox == store.mailbox:
            if not (seq.isascii() and seq.isdigit() and int(seq) <= MAX_SEQUENCE):
                raise BadCursor(f"the sequence after {mailbox}. is not a number of this mailbox")
            after = int(seq)
    with store.transaction() as db:
        rows = db.execute(
            "SELECT seq, payer_id, text FROM eras WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit + 1),
        ).fetchall()
    documents = [
        EraDocument(
            cursor=f"{store.mailbox}.{row['seq']}", payer_id=row["payer_id"], x12=row["text"]
        )
        for row in rows[:limit]
    ]
    return EraBatch(documents=documents, more=len(rows) > limit)
