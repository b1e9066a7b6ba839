"""A later payer's side of a line: the secondary-payment case it decides from the earlier payers'
adjudications (837 loops 2320/2430), and the CAS it reports back (005010X221A1 loop 2110).

The rules are the published ones in cob/ (open balance, OTAF, normal benefit, the COB
methods), applied the way a payer applies them; only the plan's terms are the simulator's.
"""

from __future__ import annotations

from decimal import Decimal

from cob.benefits import (
    SUPPLEMENT_PAYS,
    PlanBenefit,
    SecondaryPayment,
    SecondaryPaymentCase,
)
from cob.model import Adjustment, ClaimSubmission, CobMethod, LineAdjudication, ServiceLine
from cob.money import ZERO, open_balance, prior_payer_impact
from cob.payment_case import obligated_to_accept, prior_payments
from payers.simulator.plans import PayerProfile


def prior_lines(submission: ClaimSubmission, line_number: int) -> list[LineAdjudication]:
    return [
        prior_line
        for remittance in submission.prior_remittances
        for prior_line in remittance.lines
        if prior_line.line_number == line_number
    ]


def left_open(submission: ClaimSubmission, line: ServiceLine) -> Decimal:
    """The line's open balance after the earlier payers on the claim (cob.money.open_balance)."""
    return open_balance(line.charge, prior_lines(submission, line.line_number))


def payment_case(
    profile: PayerProfile,
    submission: ClaimSubmission,
    line: ServiceLine,
    allowed: Decimal,
    deductible_remaining: Decimal,
    copay: Decimal,
    credit_reserve: Decimal,
) -> SecondaryPaymentCase:
    """The case this payer decides on one line, from its plan terms and the earlier payers'
    line adjudications; `deductible_remaining`, `copay` and `credit_reserve` are what is left
    of them at this line of the claim."""
    prior = prior_payments(submission.prior_remittances, line.line_number)
    otaf = None
    if profile.obligated_to_accept_pct is not None:
        # professional claims: the payer derives the OTAF from the earlier payers' adjudication
        otaf = obligated_to_accept(line.charge, prior, profile.obligated_to_accept_pct)
    return SecondaryPaymentCase(
        method=profile.cob_method,
        allowable_basis=profile.allowable_basis,
        charge=line.charge,
        open_balance=left_open(submission, line),
        prior_payers=prior,
        own_allowed=allowed,
        own_deductible_remaining=deductible_remaining,
        own_coinsurance=profile.coinsurance,
        own_copay=copay,
        obligated_to_accept=otaf,
        medicare_pct=1 - profile.coinsurance,
        credit_reserve=credit_reserve,
    )


def later_payer_adjustments(
    profile: PayerProfile, submission: ClaimSubmission, line: ServiceLine, result: SecondaryPayment
) -> list[Adjustment]:
    """The later payer's CAS on the line: OA-23 for the earlier payers' impact (X12 CARC 23),
    CO-45 for its write-off, and PR for what the patient still owes."""
    prior = prior_lines(submission, line.line_number)
    prior_pr = [adj for adj in prior[-1].adjustments if adj.group == "PR"] if prior else []
    return [
        prior_payer_impact(line.charge, result.open_balance),
        Adjustment(group="CO", reason="45", amount=result.write_off),
        *patient_share(
            profile.cob_method, result.patient_responsibility, result.normal_benefit, prior_pr
        ),
    ]


def patient_share(
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
