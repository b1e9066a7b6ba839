"""The switches a test sets on a payer's adjudication: claims it has accepted but not yet
adjudicated (pended), for the engine's follow-ups, and the share it underpays.

A payer put on hold (`POST /admin/hold`) still acknowledges each clean claim (277CA A1/A2)
but posts no 835: a 276 about it is answered "P1 pending / in process". Releasing the hold
adjudicates the pended claims and queues their 835s, as a payer that catches up would.

A payer set to underpay (`POST /admin/underpay`) pays every line a percent less than it
adjudicated and leaves the difference to the patient (claims_desk.underpaid).
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from cob.model import ClaimAcknowledgment, ClaimSubmission

HOLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS holds (payer_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS pended_claims (
    payer_claim_number TEXT PRIMARY KEY, payer_id TEXT NOT NULL,
    claim_control_number TEXT NOT NULL, received_count INTEGER NOT NULL DEFAULT 1,
    submission TEXT NOT NULL, acknowledgment TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS underpayments (payer_id TEXT PRIMARY KEY, percent TEXT NOT NULL);
"""


def holding(db: sqlite3.Connection, payer_id: str) -> bool:
    return db.execute("SELECT 1 FROM holds WHERE payer_id=?", (payer_id,)).fetchone() is not None


def set_hold(db: sqlite3.Connection, payer_id: str, hold: bool) -> None:
    if hold:
        db.execute("INSERT OR IGNORE INTO holds VALUES (?)", (payer_id,))
    else:
        db.execute("DELETE FROM holds WHERE payer_id=?", (payer_id,))


def underpay_percent(db: sqlite3.Connection, payer_id: str) -> Decimal:
    """The percent the payer now pays less than it adjudicated (0: it pays in full)."""
    row = db.execute("SELECT percent FROM underpayments WHERE payer_id=?", (payer_id,)).fetchone()
    return Decimal(row[0]) if row else Decimal(0)


def set_underpayment(db: sqlite3.Connection, payer_id: str, percent: Decimal) -> None:
    if percent:
        db.execute("INSERT OR REPLACE INTO underpayments VALUES (?, ?)", (payer_id, str(percent)))
    else:
        db.execute("DELETE FROM underpayments WHERE payer_id=?", (payer_id,))


def pend(
    db: sqlite3.Connection, payer_id: str, number: str, sub: ClaimSubmission
) -> ClaimAcknowledgment:
    ack = ClaimAcknowledgment(
        claim_control_number=sub.claim_control_number, accepted=True, payer_claim_number=number
    )
    db.execute(
        "INSERT INTO pended_claims (payer_claim_number, payer_id, claim_control_number, "
        "submission, acknowledgment) VALUES (?, ?, ?, ?, ?)",
        (number, payer_id, sub.claim_control_number, sub.model_dump_json(),
         ack.model_dump_json()),
    )  # fmt: skip
    return ack


def resent_pended(db: sqlite3.Connection, number: str) -> ClaimAcknowledgment | None:
    """A pended claim sent again: counted and answered as before."""
    rows = db.execute(
        "UPDATE pended_claims SET received_count = received_count + 1 "
        "WHERE payer_claim_number=? RETURNING acknowledgment",
        (number,),
    ).fetchall()
    return ClaimAcknowledgment.model_validate_json(rows[0][0]) if rows else None


def pended_claim_number(db: sqlite3.Connection, payer_id: str, ccn: str) -> str | None:
    row = db.execute(
        "SELECT payer_claim_number FROM pended_claims WHERE payer_id=? AND claim_control_number=?",
        (payer_id, ccn),
    ).fetchone()
    return row[0] if row else None


def take_pended(db: sqlite3.Connection, payer_id: str) -> list[tuple[str, ClaimSubmission]]:
    """The payer's pended claims in the order received, removed from the hold."""
    rows = db.execute(
        "SELECT payer_claim_number, submission FROM pended_claims WHERE payer_id=? ORDER BY rowid",
        (payer_id,),
    ).fetchall()
    db.execute("DELETE FROM pended_claims WHERE payer_id=?", (payer_id,))
    return [(row[0], ClaimSubmission.model_validate_json(row[1])) for row in rows]
