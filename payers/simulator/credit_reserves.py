"""The simulator's credit reserves: per payer, member and calendar year, the savings a plan
using STANDARD_WITH_CREDIT_RESERVE recorded as a secondary and has not spent yet (the benefit
reserve of older versions of the NAIC COB Model Regulation (MDL-120); e.g. WAC 284-51-230(1)).

Kept as moves booked against the payer claim that made them, so a replaced or voided claim can
give back exactly what it moved; the balance is their sum, and a new year starts from zero.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from cob.money import ZERO

CREDIT_RESERVE_SCHEMA = """
CREATE TABLE IF NOT EXISTS credit_reserve_moves (
    payer_claim_number TEXT NOT NULL, payer_id TEXT NOT NULL, member_id TEXT NOT NULL,
    plan_year INTEGER NOT NULL, change TEXT NOT NULL);
"""


def credit_reserve(db: sqlite3.Connection, payer_id: str, member_id: str, year: int) -> Decimal:
    rows = db.execute(
        "SELECT change FROM credit_reserve_moves WHERE payer_id=? AND member_id=? AND plan_year=?",
        (payer_id, member_id, year),
    ).fetchall()
    return sum((Decimal(row[0]) for row in rows), ZERO)


def move_credit_reserve(
    db: sqlite3.Connection, payer_claim_number: str, key: tuple[str, str, int], change: Decimal
) -> None:
    if change:
        db.execute(
            "INSERT INTO credit_reserve_moves VALUES (?, ?, ?, ?, ?)",
            (payer_claim_number, *key, str(change)),
        )


def give_back_credit_reserve(
    db: sqlite3.Connection, payer_claim_number: str, key: tuple[str, str, int]
) -> None:
    """Undo what a replaced or voided claim moved, booked against that claim."""
    rows = db.execute(
        "SELECT change FROM credit_reserve_moves WHERE payer_claim_number=?", (payer_claim_number,)
    ).fetchall()
    moved = sum((Decimal(row[0]) for row in rows), ZERO)
    move_credit_reserve(db, payer_claim_number, key, -moved)
