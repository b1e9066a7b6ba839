"""A payer's answer to an appeal (Medicare redetermination, 42 USC 1395ff(a)(3); a commercial
plan's internal appeal, 29 CFR 2560.503-1): upheld changes nothing; overturned
reprocesses the claim as if the rule that denied it were met. The payer replaces its own
claim (as a frequency-7 replacement would): the 835 takes the original adjudication back
(CLP02 22) and pays the claim under a new payer claim number."""

from __future__ import annotations

from datetime import datetime

from payers.simulator.adjudication import payer_claim_number
from payers.simulator.claim_store import ClaimStore, latest_submission
from payers.simulator.claims_desk import accept, post_era
from payers.simulator.plans import PayerProfile


class AppealNotPossible(ValueError):
    """No adjudicated claim with that number to reprocess (the message says why)."""


def overturn(store: ClaimStore, profile: PayerProfile, ccn: str, when: datetime) -> str:
    """Reprocess claim `ccn` with the payer's coverage rules (medical necessity) met; the new
    payer claim number."""
    with store.transaction() as db:
        found = latest_submission(db, profile.payer_id, ccn)
        if found is None:
            raise AppealNotPossible(f"no adjudicated claim {ccn} at {profile.payer_id}")
        original_number, submission = found
        reprocessed = submission.model_copy(
            update={"frequency": "7", "original_payer_claim_number": original_number}
        )
        number = payer_claim_number(profile.payer_id, reprocessed)
        waived = profile.model_copy(update={"covered_diagnoses": {}})
        _, remittances = accept(db, waived, reprocessed, number)
        post_era(db, profile, reprocessed, remittances, when)
    return number
