"""The payer's side of a claim: price each line, apply the plan's cost sharing, coordinate with
the earlier payers, and answer with an 835-shaped `Remittance` whose every line balances.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Literal, NamedTuple

from cob.benefits import PlanBenefit, plan_benefit, secondary_payment
from cob.cost_sharing import CostSharingLeft
from cob.model import (
    Adjustment,
    AdjustmentGroup,
    ClaimSubmission,
    Encounter,
    LineAdjudication,
    Remittance,
    ServiceLine,
)
from cob.money import ZERO, cents, check_remittance_line, prior_payer_impact
from payers.simulator.coordination import later_payer_adjustments, left_open, payment_case
from payers.simulator.plans import PayerProfile

# RARC: secondary payment cannot be considered without the primary payer's information
PRIMARY_PAYER_FIRST = "MA04"
MISSING_RENDERING_PROVIDER = "N290"  # RARC: missing/incomplete/invalid rendering provider id
MISSING_AUTHORIZATION = "M62"  # RARC: missing/incomplete/invalid treatment authorization code
NOT_MEDICALLY_NECESSARY = "N115"  # RARC: decision based on a Local Coverage Determination
BUNDLED = "M15"  # RARC: separately billed services bundled as components of one procedure
PLAN_EXCLUSION = "N130"  # RARC: consult plan benefit documents for restrictions on this service

ProcessedAs = Literal["1", "2", "3", "4", "19", "20", "22"]  # CLP02, 005010X221A1


def payer_claim_number(payer_id: str, submission: ClaimSubmission) -> str:
    """The payer's ICN: deterministic, so a resent claim gets the same number back."""
    key = f"{payer_id}:{submission.claim_control_number}"
    if submission.frequency != "1":  # a replacement or void is a claim of its own
        key += f":{submission.frequency}:{submission.original_payer_claim_number}"
    return payer_id + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


def allowed_amount(profile: PayerProfile, line: ServiceLine) -> Decimal:
    """The fee schedule times units, or a share of the charge for unscheduled codes; never
    more than the charge."""
    fee = profile.fee_schedule.get(line.procedure_code)
    scheduled = fee * line.units if fee is not None else line.charge * profile.default_allowed_pct
    return min(line.charge, cents(scheduled))


def medically_necessary(profile: PayerProfile, encounter: Encounter, line: ServiceLine) -> bool:
    """Whether a diagnosis the line points to meets the payer's coverage rule for it."""
    prefixes = profile.covered_diagnoses.get(line.procedure_code)
    if prefixes is None:
        return True
    pointed = [encounter.diagnoses[n - 1] for n in line.diagnosis_pointers]
    return any(dx.startswith(tuple(prefixes)) for dx in pointed)


def bundled(profile: PayerProfile, encounter: Encounter, line: ServiceLine) -> bool:
    """Whether the line is included in another procedure billed on the same claim."""
    into = set(profile.bundled_into.get(line.procedure_code, []))
    return any(other.procedure_code in into for other in encounter.lines if other is not line)


class Adjudication(NamedTuple):
    remittance: Remittance
    deductible_used: Decimal  # what the claim took from the member's deductible
    # the member's credit reserve after the claim (benefit reserve: older NAIC COB Model
    # Regulation (MDL-120) versions; e.g. WAC 284-51-230(1))
    credit_reserve: Decimal


def adjudicate(
    profile: PayerProfile,
    submission: ClaimSubmission,
    deductible_remaining: Decimal,
    today: date,
    credit_reserve: Decimal = ZERO,
    primary_elsewhere: str | None = None,
) -> Adjudication:
    """Adjudicate one claim: the remittance, the deductible it used and the credit reserve left
    (it moves only for a plan using STANDARD_WITH_CREDIT_RESERVE). A payer whose COB file
    names another plan as primary (`primary_elsewhere`) denies a claim billed to it first."""
    encounter = submission.encounter
    if profile.requires_rendering_provider and encounter.rendering_provider_npi is None:
        denied = [
            _denied_line(line, "CO", "16", MISSING_RENDERING_PROVIDER, submission)
            for line in encounter.lines
        ]  # X12 CARC 16 with RARC N290
        return Adjudication(
            _remittance(profile, submission, "4", today, denied), ZERO, credit_reserve
        )

    if primary_elsewhere and not submission.prior_remittances:  # X12 CARC 22, RARC MA04
        denied = [
            _denied_line(line, "CO", "22", PRIMARY_PAYER_FIRST, submission)
            for line in encounter.lines
        ]
        return Adjudication(
            _remittance(profile, submission, "4", today, denied), ZERO, credit_reserve
        )

    left = CostSharingLeft(deductible=deductible_remaining, copay=profile.copay)
    reserve = credit_reserve
    lines: list[LineAdjudication] = []
    for line in encounter.lines:
        if (
            line.procedure_code in profile.prior_auth_procedures
            and not submission.prior_authorization_number
        ):  # X12 CARC 197: precertification/authorization absent
            lines.append(_denied_line(line, "CO", "197", MISSING_AUTHORIZATION, submission))
            continue
        if bundled(profile, encounter, line):  # X12 CARC 97: included in another service
            lines.append(_denied_line(line, "CO", "97", BUNDLED, submission))
            continue
        if not medically_necessary(profile, encounter, line):  # X12 CARC 50: not necessary
            lines.append(_denied_line(line, "CO", "50", NOT_MEDICALLY_NECESSARY, submission))
            continue
        excluded = line.procedure_code in profile.excluded_procedures
        allowed = ZERO if excluded else allowed_amount(profile, line)
        copay = left.copay_on(line.procedure_code, profile.copay_procedures)
        if not submission.prior_remittances:
            if excluded:  # X12 CARC 96, group PR: the patient's, as a non-covered service
                lines.append(_denied_line(line, "PR", "96", PLAN_EXCLUSION, submission))
                continue
            benefit = plan_benefit(allowed, left.deductible, profile.coinsurance, copay)
            lines.append(_primary_line(line, allowed, benefit))
        else:
            result = secondary_payment(
                payment_case(profile, submission, line, allowed, left.deductible, copay, reserve)
            )
            benefit = result.normal_benefit
            if result.credit_reserve_after is not None:
                reserve = result.credit_reserve_after
            adjustments = later_payer_adjustments(profile, submission, line, result)
            lines.append(_line(line, allowed, result.paid, adjustments))
        left.take(benefit)

    status = _processed_as(submission.payer_sequence)
    remittance = _remittance(profile, submission, status, today, lines)
    return Adjudication(remittance, deductible_remaining - left.deductible, reserve)


def _processed_as(payer_sequence: int) -> ProcessedAs:
    # CLP02 1, 2, 3: processed as primary, secondary, tertiary (005010X221A1)
    if payer_sequence == 1:
        return "1"
    return "2" if payer_sequence == 2 else "3"


def reversal(original: Remittance, submission: ClaimSubmission | None, today: date) -> Remittance:
    """CLP02 22, the original's amounts negated (005010X221A1): the answer to a void
    (frequency 8, under the void's own numbers), or, with no submission, the take-back of
    the original that precedes a replacement's new adjudication (frequency 7)."""
    lines = [
        LineAdjudication(
            line_number=line.line_number,
            procedure_code=line.procedure_code,
            charge=-line.charge,
            allowed=-line.allowed,
            paid=-line.paid,
            adjustments=[
                adj.model_copy(update={"amount": -adj.amount}) for adj in line.adjustments
            ],
            remarks=list(line.remarks),
        )
        for line in original.lines
    ]
    numbers = {}
    if submission is not None:
        numbers = {
            "claim_control_number": submission.claim_control_number,
            "payer_claim_number": payer_claim_number(original.payer_id, submission),
        }
    return original.model_copy(
        update={
            **numbers,
            "status": "22",
            "adjudication_date": today,
            "lines": lines,
        }
    )


def _primary_line(line: ServiceLine, allowed: Decimal, benefit: PlanBenefit) -> LineAdjudication:
    adjustments = [
        Adjustment(group="CO", reason="45", amount=line.charge - allowed),  # over the fee schedule
        Adjustment(group="PR", reason="1", amount=benefit.deductible),
        Adjustment(group="PR", reason="3", amount=benefit.copay),
        Adjustment(group="PR", reason="2", amount=benefit.coinsurance),
    ]
    return _line(line, allowed, benefit.paid, adjustments)


def _denied_line(
    line: ServiceLine,
    group: AdjustmentGroup,
    carc: str,
    remark: str,
    submission: ClaimSubmission,
) -> LineAdjudication:
    """A denied line: the whole charge, or for a later payer what the earlier payers left open
    (their impact stays OA-23, X12 CARC 23), so the line still balances across payers."""
    still_open = left_open(submission, line)
    denial = [
        prior_payer_impact(line.charge, still_open),
        Adjustment(group=group, reason=carc, amount=still_open),
    ]
    return _line(line, ZERO, ZERO, denial, remarks=[remark])


def _line(
    line: ServiceLine,
    allowed: Decimal,
    paid: Decimal,
    adjustments: list[Adjustment],
    remarks: list[str] | None = None,
) -> LineAdjudication:
    return LineAdjudication(
        line_number=line.line_number,
        procedure_code=line.procedure_code,
        charge=line.charge,
        allowed=allowed,
        paid=paid,
        adjustments=[adj for adj in adjustments if adj.amount != 0],  # zero CAS are not sent
        remarks=remarks or [],
    )


def _remittance(
    profile: PayerProfile,
    submission: ClaimSubmission,
    status: ProcessedAs,
    today: date,
    lines: list[LineAdjudication],
) -> Remittance:
    for line in lines:  # 005010X221A1 loop 2110: SVC02 - Σ CAS = SVC03 on every line
        check_remittance_line(line, profile.payer_id)
    return Remittance(
        claim_control_number=submission.claim_control_number,
        payer_id=profile.payer_id,
        member_id=submission.coverage.member_id,
        payer_claim_number=payer_claim_number(profile.payer_id, submission),
        payer_sequence=submission.payer_sequence,
        status=status,
        adjudication_date=today,
        lines=lines,
    )
