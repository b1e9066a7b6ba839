"""A payer's answer to an appeal (DOMAIN.md §4.2, §4.4): upheld changes nothing; overturned
reprocesses the claim as if the rule that denied it were met. The 835 takes the original
adjudication back (CLP02 22) and pays the claim under a new payer claim number, as payers
do when they reprocess a claim after a favorable decision."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal

from cob.model import ClaimSubmission, Remittance
from payers.adjudication import adjudicate, reversal
from payers.claims_desk import (
    ClaimStore,
    add_to_accumulator,
    deductible_used,
    keep_submission,
    post_era,
)
from payers.credit_reserves import credit_reserve
from payers.profiles import PayerProfile


class AppealNotPossible(ValueError):
    """No adjudicated claim with that number to reprocess (the message says why)."""


def overturn(store: ClaimStore, profile: PayerProfile, ccn: str, when: datetime) -> str:
    """Reprocess claim `ccn` with the payer's coverage rules (medical necessity) met; the new
    payer claim number."""
    with store.transaction() as db:
        row = db.execute(
            "SELECT c.payer_claim_number, c.member_id, c.plan_year, c.deductible_used, "
            "c.remittance, s.submission FROM claims c JOIN submissions s "
            "ON s.payer_claim_number = c.payer_claim_number WHERE c.claim_control_number=? "
            "AND c.payer_id=? AND c.replaced_by IS NULL ORDER BY c.rowid DESC",
            (ccn, profile.payer_id),
        ).fetchone()
        if row is None:
            raise AppealNotPossible(f"no adjudicated claim {ccn} at {profile.payer_id}")
        sub = ClaimSubmission.model_validate_json(row["submission"])
        original = Remittance.model_validate_json(row["remittance"])
        key = (profile.payer_id, row["member_id"], row["plan_year"])
        add_to_accumulator(db, key, -Decimal(row["deductible_used"]))
        remaining = max(Decimal("0.00"), profile.deductible - deductible_used(db, *key))
        today = date.today()
        waived = profile.model_copy(update={"covered_diagnoses": {}})
        result, used, _ = adjudicate(waived, sub, remaining, today, credit_reserve(db, *key))
        add_to_accumulator(db, key, used)
        digest = hashlib.sha256(f"{row['payer_claim_number']}:appeal".encode()).hexdigest()
        number = profile.payer_id + digest[:12].upper()
        result = result.model_copy(update={"payer_claim_number": number})
        db.execute(
            "UPDATE claims SET status='overturned', replaced_by=? WHERE payer_claim_number=?",
            (number, row["payer_claim_number"]),
        )
        db.execute(
            "INSERT INTO claims (payer_claim_number, payer_id, claim_control_number, member_id, "
            "encounter_id, frequency, plan_year, deductible_used, acknowledgment, remittance) "
            "SELECT ?, payer_id, claim_control_number, member_id, encounter_id, frequency, "
            "plan_year, ?, acknowledgment, ? FROM claims WHERE payer_claim_number=?",
            (number, str(used), result.model_dump_json(), row["payer_claim_number"]),
        )
        keep_submission(db, number, sub)
        post_era(db, profile, sub, [reversal(original, None, today), result], when)
    return number
