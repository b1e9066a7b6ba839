"""What the simulated payers decide, without HTTP: who is covered (271), what needs
authorization (278), whether a claim passes the front-end edits (277CA), and, once it does,
its adjudication, posted to the ERA feed as an 835 (ASC X12 5010: 005010X279A1, 005010X217,
005010X222A1, 005010X214, 005010X221A1). A claim resent with the same claim control number is
answered from the payer's file, never adjudicated twice. The file itself is claim_store.py.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date, datetime
from decimal import Decimal

from cob.model import (
    Adjustment,
    Benefits,
    ClaimAcknowledgment,
    ClaimSubmission,
    LineAdjudication,
    PlanType,
    PriorAuthDecision,
    Remittance,
)
from cob.money import ZERO, cents, check_remittance_line
from payers.simulator.adjudication import adjudicate, payer_claim_number, reversal
from payers.simulator.claim_holds import (
    holding,
    pend,
    resent_pended,
    take_pended,
    underpay_percent,
)
from payers.simulator.claim_store import (
    ClaimStore,
    add_to_accumulator,
    answered_before,
    deductible_used,
    mark_replaced,
    next_control_number,
    other_primary_coverage,
    queue_era,
    record_claim,
    stored_claim,
)
from payers.simulator.credit_reserves import (
    credit_reserve,
    give_back_credit_reserve,
    move_credit_reserve,
)
from payers.simulator.plans import PayerProfile
from payers.x12.remittance_835 import ProviderAdjustment, build_835

# CLP06 claim filing indicator of the payer's own 835 (CI is not valid there)
ERA_FILING_INDICATOR = {
    PlanType.COMMERCIAL: "12", PlanType.MEDICARE: "MB", PlanType.MEDICARE_SUPPLEMENT: "12",
    PlanType.MEDICAID: "MC", PlanType.TRICARE: "CH", PlanType.WORKERS_COMP: "WC",
    PlanType.NO_FAULT: "AM", PlanType.LIABILITY: "LM",
}  # fmt: skip


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
            "allowable_basis",
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
    if not needed:  # HCR01 NA, no action required (X12 element 306)
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
        answered = answered_before(db, number)
        if answered:  # the same claim again: counted, answered as before, not adjudicated
            return answered
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
    # (forward balance), so the check is never negative (ASC X12 005010X221A1: BPR02 is
    # the sum of CLP04 less the PLB amounts).
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
    queue_era(db, profile.payer_id, text)


def front_end_edit(
    db: sqlite3.Connection, profile: PayerProfile, sub: ClaimSubmission
) -> tuple[str, str] | None:
    """277CA front-end edits: (STC01 code, reason) when the claim is rejected (ASC X12
    005010X214 STC01-1: A6 missing, A7 invalid information)."""
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
    # frequency 7 and 8 name the claim replaced: 005010X222A1 loop 2300 REF*F8
    if not sub.original_payer_claim_number:
        return "A7", f"frequency {sub.frequency} requires the original payer claim number (REF*F8)"
    original = stored_claim(db, sub.original_payer_claim_number)
    if original is None or original["payer_id"] != profile.payer_id:
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
        original_number = sub.original_payer_claim_number or ""
        original = stored_claim(db, original_number)
        if original is None:  # front_end_edit found it when the claim was received
            raise LookupError(f"original payer claim {original_number} is not on file")
        add_to_accumulator(db, key, -Decimal(original["deductible_used"]))
        give_back_credit_reserve(db, original_number, key)
        status = "replaced" if sub.frequency == "7" else "voided"
        mark_replaced(db, original_number, status, number)
        taken_back = Remittance.model_validate_json(original["remittance"])
    reported: list[Remittance] = []
    if sub.frequency == "7":
        reported.append(reversal(taken_back, None, today))
    if sub.frequency == "8":
        result = reversal(taken_back, sub, today)
        used = ZERO
    else:
        remaining = max(ZERO, profile.deductible - deductible_used(db, *key))
        reserve = credit_reserve(db, *key)
        elsewhere = other_primary_coverage().get(f"{profile.payer_id}/{sub.coverage.member_id}")
        result, used, reserve_after = adjudicate(
            profile, sub, remaining, today, reserve, primary_elsewhere=elsewhere
        )
        result = underpaid(result, underpay_percent(db, profile.payer_id))
        move_credit_reserve(db, number, key, reserve_after - reserve)
    add_to_accumulator(db, key, used)
    ack = ClaimAcknowledgment(
        claim_control_number=sub.claim_control_number, accepted=True, payer_claim_number=number
    )
    record_claim(db, number, profile.payer_id, sub, used, ack, result)
    return ack, [*reported, result]


def underpaid(remittance: Remittance, percent: Decimal) -> Remittance:
    """The adjudication as a payer set to underpay (`POST /admin/underpay`) reports it: each
    line paid `percent`% less, to the cent, the difference left to the patient as PR-2
    coinsurance (as if the plan applied more coinsurance than its 271 stated), so SVC02 -
    Σ CAS = SVC03 still holds (005010X221A1 loop 2110). The engine's underpayment review
    is what should notice."""
    if not percent:
        return remittance
    return remittance.model_copy(
        update={
            "lines": [_underpaid_line(ln, percent, remittance.payer_id) for ln in remittance.lines]
        }
    )


def _underpaid_line(line: LineAdjudication, percent: Decimal, payer_id: str) -> LineAdjudication:
    cut = cents(line.paid * percent / 100)
    if cut <= 0:
        return line
    coinsurance = [a for a in line.adjustments if (a.group, a.reason) == ("PR", "2")]
    others = [a for a in line.adjustments if a not in coinsurance]
    more = sum((a.amount for a in coinsurance), ZERO) + cut
    moved = line.model_copy(
        update={
            "paid": line.paid - cut,
            "adjustments": [*others, Adjustment(group="PR", reason="2", amount=more)],
        }
    )
    check_remittance_line(moved, payer_id)
    return moved
