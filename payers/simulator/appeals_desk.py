"""A payer's answer to an appeal (DOMAIN.md §4.2, §4.4): upheld changes nothing; overturned
reprocesses the claim as if the rule that denied it were met. The payer replaces its own
claim (as a frequency-7 replacement would): the 835 takes the original adjudication back
(CLP02 22) and pays the claim under a new payer claim number."""

from __future__ import annotations

from datetime import datetime

from cob.model import ClaimSubmission
from payers.simulator.adjudication import payer_claim_number
from payers.simulator.claims_desk import ClaimStore, accept, post_era
from payers.simulator.plans import PayerProfile


class AppealNotPossible(ValueError):
    """No adjudicated claim with that number to reprocess (the message says why)."""


def overturn(store: ClaimStore, profile: PayerProfile, ccn: str, when: datetime) -> str:
    """Reprocess claim `ccn` with the payer's coverage rules (medical necessity) met; the new
    payer claim number."""
    with store.transaction() as db:
        row = db.execute(
            "SELECT c.payer_claim_number, s.submission FROM claims c JOIN submissions s "
            "ON s.payer_claim_number = c.payer_claim_number WHERE c.claim_control_number=? "
            "AND c.payer_id=? AND c.replaced_by IS NULL ORDER BY c.rowid DESC",
            (ccn, profile.payer_id),
        ).fetchone()
        if row is None:
            raise AppealNotPossible(f"no adjudicated claim {ccn} at {profile.payer_id}")
        reprocessed = ClaimSubmission.model_validate_json(row["submission"]).model_copy(
            update={"frequency": "7", "original_payer_claim_number": row["payer_claim_number"]}
        )
        number = payer_claim_number(profile.payer_id, reprocessed)
        waived = profile.model_copy(update={"covered_diagnoses": {}})
        _, remittances = accept(db, waived, reprocessed, number)
        post_era(db, profile, reprocessed, remittances, when)
    return number
