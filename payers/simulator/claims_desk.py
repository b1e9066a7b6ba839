"""The payers' side of the simulator, without HTTP: who is covered, what needs authorization,
claims received and adjudicated, and the ERA feed of 835s (DOMAIN.md §3).

State lives in its own SQLite file: received claims, their remittances, each member's
deductible accumulator, for a plan using a credit reserve each member's calendar-year
reserve, and the 835s waiting in the ERA feed. A claim resent with the same claim control
number is answered from the file, never adjudicated twice.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from cob.model import (
    Benefits,
    ClaimAcknowledgment,
    ClaimSubmission,
    PlanType,
    PriorAuthDecision,
    Remittance,
)
from cob.money import ZERO
from payers.era import EraBatch, EraDocument
from payers.simulator.adjudication import adjudicate, payer_claim_number, reversal
from payers.simulator.claim_holds import HOLD_SCHEMA, holding, pend, resent_pended, take_pended
from payers.simulator.credit_reserves import (
    CREDIT_RESERVE_SCHEMA,
    credit_reserve,
    give_back_credit_reserve,
    move_credit_reserve,
)
from payers.simulator.plans import PayerProfile
from payers.x12.remittance_835 import ProviderAdjustment, build_835

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
# CLP06 claim filing indicator of the payer's own 835 (CI is not valid there)
ERA_FILING_INDICATOR = {
    PlanType.COMMERCIAL: "12", PlanType.MEDICARE: "MB", PlanType.MEDICARE_SUPPLEMENT: "12",
    PlanType.MEDICAID: "MC", PlanType.TRICARE: "CH", PlanType.WORKERS_COMP: "WC",
    PlanType.NO_FAULT: "AM", PlanType.LIABILITY: "LM",
}  # fmt: skip


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


def keep_submission(db: sqlite3.Connection, number: str, sub: ClaimSubmission) -> None:
    """The claim as received, so the payer can reprocess it on appeal."""
    db.execute("INSERT OR IGNORE INTO submissions VALUES (?, ?)", (number, sub.model_dump_json()))


def next_control_number(db: sqlite3.Connection, used_for: str) -> int:
    """A fresh ISA13/GS06 for a document the payers send (9 digits)."""
    cursor = db.execute("INSERT INTO control_numbers (used_for) VALUES (?)", (used_for,))
    return int(cursor.lastrowid or 0) % 1_000_000_000


@cache
def year_to_date_deductibles() -> dict[str, Decimal]:
    """The accumulators the payers had before the simulator started (payers/simulator/members.json)."""
    data = json.loads((Path(__file__).parent / "members.json").read_text())
    return {key: Decimal(amount) for key, amount in data["deductible_met"].items()}


@cache
def other_primary_coverage() -> dict[str, str]:
    """payer/member -> the plan the payer's COB file says is primary (payers/simulator/members.json)."""
    data = json.loads((Path(__file__).parent / "members.json").read_text())
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


def benefits_for(
    store: ClaimStore, profile: PayerProfile, member_id: str, service_date: date
) -> Benefits:
    """What the payer's 271 says: a member id it does not know is not covered (AAA 72);
    otherwise the plan terms and the deductible left on the date of service."""
    answer = Benefits(
        payer_id=profile.payer_id, member_id=member_id, active=False, plan_type=profile.plan_type
    )
    if not profile.is_member_id(member_id):
        return answer.model_copy(update={"reason": f"member id {member_id} not found"})
    with store.transaction() as db:
        used = deductible_used(db, profile.payer_id, member_id, service_date.year)
    terms = profile.model_dump(
        include={
            "deductible",
            "coinsurance",
            "copay",
            "prior_auth_procedures",
            "copay_procedures",
            "cob_method",
        }  # fmt: skip
    )
    remaining = max(ZERO, profile.deductible - used)
    return answer.model_copy(update={**terms, "active": True, "deductible_remaining": remaining})


def prior_auth_decision(
    profile: PayerProfile, member_id: str, case_id: str, procedure_codes: list[str]
) -> PriorAuthDecision:
    """The 278 answer: certified with a number stable for the same case (so a resent request
    gets the same number), or no action required when no procedure needs it (HCR01 NA)."""
    if not profile.is_member_id(member_id):
        reason = f"member id {member_id} not found"
        return PriorAuthDecision(payer_id=profile.payer_id, status="denied", reason=reason)
    needed = sorted(set(procedure_codes) & set(profile.prior_auth_procedures))
    if not needed:  # DOMAIN.md §3.3
        return PriorAuthDecision(
            payer_id=profile.payer_id, status="approved", reason="not required"
        )
    key = f"{profile.payer_id}:{member_id}:{case_id}:{','.join(needed)}"
    number = "PA" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()
    return PriorAuthDecision(
        payer_id=profile.payer_id,
        status="approved",
        authorization_number=number,
        reason=f"certified: {', '.join(needed)}",
    )


def receive_claim(
    store: ClaimStore, profile: PayerProfile, sub: ClaimSubmission, when: datetime
) -> ClaimAcknowledgment:
    """One claim of an 837: a resend is answered as before; a front-end edit rejects it
    (277CA); otherwise it is adjudicated at once and its 835 waits in the ERA feed."""
    number = payer_claim_number(profile.payer_id, sub)
    with store.transaction() as db:
        resend = "UPDATE claims SET received_count = received_count + 1 WHERE payer_claim_number=?"
        seen = db.execute(resend + " RETURNING acknowledgment", (number,)).fetchall()
        if seen:  # the same claim again: counted, answered as before, not adjudicated
            return ClaimAcknowledgment.model_validate_json(seen[0][0])
        pended = resent_pended(db, number)
        if pended:
            return pended
        problem = front_end_edit(db, profile, sub)
        if problem:  # 277CA rejection: never entered adjudication, so nothing is stored
            code, reason = problem
            ccn = sub.claim_control_number
            return ClaimAcknowledgment(
                claim_control_number=ccn, accepted=False, status_code=code, reason=reason
            )
        if holding(db, profile.payer_id):  # accepted, adjudicated when the hold is released
            return pend(db, profile.payer_id, number, sub)
        ack, remittances = accept(db, profile, sub, number)
        post_era(db, profile, sub, remittances, when)
        return ack


def release_pended(store: ClaimStore, profile: PayerProfile, when: datetime) -> list[str]:
    """Adjudicate the claims the payer pended, in the order received, and queue their 835s;
    the claim control numbers released."""
    with store.transaction() as db:
        released = take_pended(db, profile.payer_id)
        for number, sub in released:
            _, remittances = accept(db, profile, sub, number)
            post_era(db, profile, sub, remittances, when)
    return [sub.claim_control_number for _, sub in released]


def post_era(
    db: sqlite3.Connection,
    profile: PayerProfile,
    sub: ClaimSubmission,
    remittances: list[Remittance],
    when: datetime,
) -> None:
    """The claim's 835, queued in the ERA feed for the provider to pick up."""
    enc = sub.encounter
    # A reversal that takes back more than the ERA pays is carried forward as a PLB FB
    # (forward balance), so the check (BPR02) is never negative (DOMAIN.md §3.6).
    total = sum((r.paid for r in remittances), ZERO)
    carried = (
        [ProviderAdjustment("FB", total, remittances[0].payer_claim_number)] if total < 0 else []
    )
    ccns = {r.claim_control_number for r in remittances}
    text = build_835(
        remittances,
        payer_name=profile.name.upper(),
        payer_id=profile.payer_id,
        payee_name=enc.billing_provider.name.upper(),
        payee_npi=enc.billing_provider.npi,
        when=when,
        control_number=next_control_number(db, f"835 {sub.claim_control_number}"),
        patients=dict.fromkeys(
            ccns, (enc.patient.last_name.upper(), enc.patient.first_name.upper())
        ),
        service_dates=dict.fromkeys(ccns, enc.service_date),
        filing_indicator=ERA_FILING_INDICATOR[profile.plan_type],
        provider_adjustments=carried,
    )
    db.execute("INSERT INTO eras (payer_id, text) VALUES (?, ?)", (profile.payer_id, text))


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


def stored_remittance(store: ClaimStore, payer_id: str, ccn: str) -> Remittance | None:
    """The payer's current adjudication of claim `ccn` (for a 277 status answer)."""
    query = (
        "SELECT remittance FROM claims WHERE claim_control_number=? AND payer_id=? "
        "AND replaced_by IS NULL ORDER BY rowid DESC"
    )
    with store.transaction() as db:
        row = db.execute(query, (ccn, payer_id)).fetchone()
    return Remittance.model_validate_json(row[0]) if row else None


def front_end_edit(
    db: sqlite3.Connection, profile: PayerProfile, sub: ClaimSubmission
) -> tuple[str, str] | None:
    """277CA front-end edits: (STC01 code, reason) when the claim is rejected (DOMAIN.md §3.5)."""
    if not profile.is_member_id(sub.coverage.member_id):
        return "A7", f"member id {sub.coverage.member_id} is invalid for {profile.payer_id}"
    if sub.payer_sequence > 1 and not sub.prior_remittances:
        return "A6", "prior payer adjudication (2320/2430) missing for a non-primary claim"
    diagnoses = len(sub.encounter.diagnoses)
    for line in sub.encounter.lines:  # 005010X222A1 SV107: pointers into the claim's HI
        for pointer in line.diagnosis_pointers:
            if not 1 <= pointer <= diagnoses:
                return "A7", (
                    f"line {line.line_number} SV107: diagnosis pointer {pointer} points to "
                    f"no diagnosis (HI lists {diagnoses})"
                )
    if sub.frequency == "1":
        return None
    if not sub.original_payer_claim_number:  # DOMAIN.md §3.4: frequency 7 and 8 need REF*F8
        return "A7", f"frequency {sub.frequency} requires the original payer claim number (REF*F8)"
    original = db.execute(
        "SELECT replaced_by FROM claims WHERE payer_claim_number=? AND payer_id=?",
        (sub.original_payer_claim_number, profile.payer_id),
    ).fetchone()
    if original is None:
        return "A7", f"original payer claim number {sub.original_payer_claim_number} not found"
    if original["replaced_by"]:
        replaced_by = original["replaced_by"]
        return (
            "A7",
            f"claim {sub.original_payer_claim_number} was already replaced by {replaced_by}",
        )
    return None


def accept(
    db: sqlite3.Connection, profile: PayerProfile, sub: ClaimSubmission, number: str
) -> tuple[ClaimAcknowledgment, list[Remittance]]:
    """Adjudicate at once, store the remittance, move the deductible accumulator and the
    credit reserve. Returns what the 835 reports: for a replacement, the take-back of the
    original (CLP02 22) and then the new adjudication."""
    year = sub.encounter.service_date.year
    key = (profile.payer_id, sub.coverage.member_id, year)
    today = date.today()
    if sub.frequency in ("7", "8"):  # the original's deductible is given back before re-pricing
        original_number = sub.original_payer_claim_number or ""  # front_end_edit checked it
        original = db.execute(
            "SELECT deductible_used, remittance FROM claims WHERE payer_claim_number=?",
            (sub.original_payer_claim_number,),
        ).fetchone()
        add_to_accumulator(db, key, -Decimal(original["deductible_used"]))
        give_back_credit_reserve(db, original_number, key)
        status = "replaced" if sub.frequency == "7" else "voided"
        db.execute(
            "UPDATE claims SET status=?, replaced_by=? WHERE payer_claim_number=?",
            (status, number, sub.original_payer_claim_number),
        )
    reported: list[Remittance] = []
    if sub.frequency == "7":
        reported.append(
            reversal(Remittance.model_validate_json(original["remittance"]), None, today)
        )
    if sub.frequency == "8":
        result = reversal(Remittance.model_validate_json(original["remittance"]), sub, today)
        used = ZERO
    else:
        remaining = max(ZERO, profile.deductible - deductible_used(db, *key))
        reserve = credit_reserve(db, *key)
        elsewhere = other_primary_coverage().get(f"{profile.payer_id}/{sub.coverage.member_id}")
        result, used, reserve_after = adjudicate(
            profile, sub, remaining, today, reserve, primary_elsewhere=elsewhere
        )
        move_credit_reserve(db, number, key, reserve_after - reserve)
    add_to_accumulator(db, key, used)
    ack = ClaimAcknowledgment(
        claim_control_number=sub.claim_control_number, accepted=True, payer_claim_number=number
    )
    db.execute(
        "INSERT INTO claims (payer_claim_number, payer_id, claim_control_number, member_id, "
        "encounter_id, frequency, plan_year, deductible_used, acknowledgment, remittance) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (number, profile.payer_id, sub.claim_control_number, sub.coverage.member_id,
         sub.encounter.encounter_id, sub.frequency, year, str(used),
         ack.model_dump_json(), result.model_dump_json()),
    )  # fmt: skip
    keep_submission(db, number, sub)
    return ack, [*reported, result]
