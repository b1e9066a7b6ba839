"""The payer's side of a claim: price each line, apply the plan's cost sharing, coordinate with
the earlier payers, and answer with an 835-shaped `Remittance` whose every line balances.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Literal

from cob.benefits import SUPPLEMENT_PAYS, PlanBenefit, plan_benefit, secondary_payment
from cob.model import (
    Adjustment,
    ClaimSubmission,
    CobMethod,
    LineAdjudication,
    Remittance,
    ServiceLine,
)
from cob.money import ZERO, cents, check_remittance_line, patient_responsibility
from payers.profiles import PayerProfile

MISSING_RENDERING_PROVIDER = "N290"  # RARC: missing/incomplete/invalid rendering provider id
MISSING_AUTHORIZATION = "M62"  # RARC: missing/incomplete/invalid treatment authorization code

ClaimStatus = Literal["1", "2", "3", "4", "19", "20", "22"]  # CLP02, DOMAIN.md §3.6


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


def adjudicate(
    profile: PayerProfile, submission: ClaimSubmission, deductible_remaining: Decimal, today: date
) -> tuple[Remittance, Decimal]:
    """Adjudicate one claim; returns the remittance and the deductible it used."""
    encounter = submission.encounter
    if profile.requires_rendering_provider and encounter.rendering_provider_npi is None:
        denied = [_denied_line(line, "16", MISSING_RENDERING_PROVIDER) for line in encounter.lines]
        return _remittance(profile, submission, "4", today, denied), ZERO  # DOMAIN.md §5, CARC 16

    remaining = deductible_remaining
    copay_left = profile.copay  # a copay is per visit: charged once, on the first eligible line
    lines: list[LineAdjudication] = []
    for line in encounter.lines:
        if (
            line.procedure_code in profile.prior_auth_procedures
            and not submission.prior_authorization_number
        ):
            lines.append(_denied_line(line, "197", MISSING_AUTHORIZATION))  # DOMAIN.md §5, CARC 197
            continue
        allowed = allowed_amount(profile, line)
        copay = copay_left if line.procedure_code in profile.copay_procedures else ZERO
        benefit = plan_benefit(allowed, remaining, profile.coinsurance, copay)
        # NAIC §7: a secondary credits its deductible as it would have as primary (DOMAIN.md §2.2)
        remaining -= benefit.deductible
        copay_left -= benefit.copay
        if submission.prior_remittances:
            lines.append(_later_payer_line(profile, submission, line, allowed, benefit))
        else:
            lines.append(_primary_line(line, allowed, benefit))

    status = _processed_as(submission.payer_sequence)
    return _remittance(profile, submission, status, today, lines), deductible_remaining - remaining


def _processed_as(payer_sequence: int) -> ClaimStatus:
    # CLP02 1, 2, 3: processed as primary, secondary, tertiary (DOMAIN.md §3.6)
    if payer_sequence == 1:
        return "1"
    return "2" if payer_sequence == 2 else "3"


def reversal(original: Remittance, submission: ClaimSubmission, today: date) -> Remittance:
    """A void (frequency 8) answered as CLP02 22 with the original's amounts negated (DOMAIN.md §3.6)."""
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
    return original.model_copy(
        update={
            "claim_control_number": submission.claim_control_number,
            "payer_claim_number": payer_claim_number(original.payer_id, submission),
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


def _later_payer_line(
    profile: PayerProfile,
    submission: ClaimSubmission,
    line: ServiceLine,
    allowed: Decimal,
    benefit: PlanBenefit,
) -> LineAdjudication:
    prior = [
        prior_line
        for remittance in submission.prior_remittances
        for prior_line in remittance.lines
        if prior_line.line_number == line.line_number
    ]
    # the patient's balance is what the latest payer left as PR (DOMAIN.md §2.6, §6.1)
    open_balance = patient_responsibility(prior[-1]) if prior else line.charge
    prior_pr = [adj for adj in prior[-1].adjustments if adj.group == "PR"] if prior else []
    result = secondary_payment(
        profile.cob_method,
        charge=line.charge,
        open_balance=open_balance,
        prior_paid=sum((prior_line.paid for prior_line in prior), ZERO),
        prior_allowed=max((prior_line.allowed for prior_line in prior), default=ZERO),
        own_allowed=allowed,
        own_benefit=benefit,
        prior_patient_adjustments=prior_pr,
    )
    adjustments = [
        Adjustment(
            group="OA", reason="23", amount=line.charge - open_balance
        ),  # prior payers' impact
        Adjustment(group="CO", reason="45", amount=result.write_off),
        *_patient_share(profile.cob_method, result.patient_responsibility, benefit, prior_pr),
    ]
    return _line(line, allowed, result.paid, adjustments)


def _patient_share(
    method: CobMethod, amount: Decimal, benefit: PlanBenefit, prior_pr: list[Adjustment]
) -> list[Adjustment]:
    """Label what the patient still owes with CARCs. A supplement leaves the patient the prior
    payer's uncovered PR reasons (the Medicare deductible, typically); any other plan reports its
    own deductible (PR-1) and copay (PR-3) first and the rest as coinsurance (PR-2)."""
    if method == CobMethod.SUPPLEMENT:
        buckets = [
            (adj.reason, adj.amount) for adj in prior_pr if adj.reason not in SUPPLEMENT_PAYS
        ]
    else:
        buckets = [("1", benefit.deductible), ("3", benefit.copay)]
    shares: dict[str, Decimal] = {}
    left = amount
    for reason, cap in buckets:
        take = min(left, cap)
        shares[reason] = shares.get(reason, ZERO) + take
        left -= take
    shares["2"] = shares.get("2", ZERO) + left
    return [Adjustment(group="PR", reason=reason, amount=share) for reason, share in shares.items()]


def _denied_line(line: ServiceLine, carc: str, remark: str) -> LineAdjudication:
    denial = [Adjustment(group="CO", reason=carc, amount=line.charge)]
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
    status: ClaimStatus,
    today: date,
    lines: list[LineAdjudication],
) -> Remittance:
    for line in lines:  # DOMAIN.md §3.6: SVC02 - Σ CAS = SVC03 on every line
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
