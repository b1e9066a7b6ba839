"""The engine's own expectation of what a payer should have paid, line by line, and the
variance against what it did pay. An underpaid claim is a claim to review or appeal.

The expectation uses what the engine knows independently of the payer's check: the benefits
the payer stated in its 271 (deductible left, coinsurance, copay and what it applies to, its COB
method), the allowed amount on its 835 line, and the earlier payers' adjudications, through the
same rules a payer applies (cob.benefits: NAIC COB Model Regulation (MDL-120) sections 6-7,
42 CFR 411.33).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from decimal import Decimal

from cob.benefits import PriorPayment, SecondaryPaymentCase, plan_benefit, secondary_payment
from cob.cost_sharing import CostSharingLeft
from cob.deadlines import DeadlineRules, appeal_deadline
from cob.denials import is_denial
from cob.model import Benefits, CobMethod, LineAdjudication, Model, Remittance
from cob.money import ZERO
from cob.payment_case import obligated_to_accept, prior_payments


class LineExpectation(Model):
    line_number: int
    paid: Decimal
    expected: Decimal | None  # None: the line was denied, which routing works instead
    working: str

    @property
    def variance(self) -> Decimal:
        return ZERO if self.expected is None else self.paid - self.expected


class PaymentReview(Model):
    payer_id: str
    lines: list[LineExpectation]

    @property
    def variance(self) -> Decimal:
        return sum((line.variance for line in self.lines), ZERO)

    @property
    def underpaid(self) -> bool:
        return any(line.variance < ZERO for line in self.lines)

    def summary(self) -> str:
        if not self.underpaid:
            return f"{self.payer_id}: paid as expected"
        short = [f"line {ln.line_number} {ln.variance}" for ln in self.lines if ln.variance < 0]
        return f"{self.payer_id}: UNDERPAID {-self.variance} ({', '.join(short)}): review or appeal"


# An underpayment is worked within 30 days of the 835 that paid short (industry practice for
# payment-variance follow-up; configurable), and never later than the payer's first appeal
# deadline, where a payment dispute is filed (29 CFR 2560.503-1(h)(3)(i); 42 USC
# 1395ff(a)(3)(C)(i) for Medicare; the payer contract otherwise).
UNDERPAYMENT_WORK_DAYS = 30


def underpayment_due(rules: DeadlineRules, remitted_on: date) -> date:
    """When the task about an underpaid claim is due: UNDERPAYMENT_WORK_DAYS after the 835,
    or the payer's first appeal deadline when that is earlier."""
    appeal = appeal_deadline(rules, 1, remitted_on)
    return min(remitted_on + timedelta(days=UNDERPAYMENT_WORK_DAYS), appeal.due)


def underpayment_task(review: PaymentReview, ccn: str) -> str:
    """The worklist task's text for an underpaid claim: per line what the engine expected,
    what the payer paid, the variance and how the expectation was worked out."""
    lines = [
        f"line {ln.line_number}: expected {ln.expected}, paid {ln.paid}, variance "
        f"{ln.variance} ({ln.working})"
        for ln in review.lines
        if ln.expected is not None
    ]
    return (
        f"claim {ccn} underpaid by {-review.variance}: {'; '.join(lines)}; ask the payer to "
        "reprocess, or appeal the payment"
    )


def _denied(line: LineAdjudication) -> bool:
    return any(is_denial(adj) for adj in line.adjustments)


def review_payment(
    remittance: Remittance,
    benefits: Benefits,
    prior_remittances: list[Remittance],
    out_of_network: Collection[str] = (),
) -> PaymentReview:
    """`out_of_network`: the earlier payers whose network the provider is not in (the
    encounter's Coverage.provider_in_network false): they bind it to no OTAF."""
    left = CostSharingLeft(deductible=benefits.deductible_remaining, copay=benefits.copay)
    expectations = []
    for line in remittance.lines:
        if _denied(line):
            expectations.append(
                LineExpectation(
                    line_number=line.line_number, paid=line.paid, expected=None,
                    working="denied: routed by CARC, not reviewed as a payment",
                )
            )  # fmt: skip
            continue
        copay = left.copay_on(line.procedure_code, benefits.copay_procedures)
        prior = prior_payments(prior_remittances, line.line_number, out_of_network)
        if not prior:  # primary: it pays as if no other plan existed (NAIC MDL-120 section 6)
            benefit = plan_benefit(line.allowed, left.deductible, benefits.coinsurance, copay)
            expected, working = (
                benefit.paid,
                (
                    f"allowed {line.allowed} - deductible {benefit.deductible} - copay "
                    f"{benefit.copay} - coinsurance {benefit.coinsurance} = {benefit.paid}"
                ),
            )
        else:
            result = secondary_payment(
                SecondaryPaymentCase(
                    method=benefits.cob_method,
                    allowable_basis=benefits.allowable_basis,  # the 271's MSG, else higher_of
                    charge=line.charge,
                    prior_payers=prior,
                    own_allowed=line.allowed,
                    own_deductible_remaining=left.deductible,
                    own_coinsurance=benefits.coinsurance,
                    own_copay=copay,
                    # A contracted provider must accept the primary's allowed amount as payment
                    # in full (42 CFR 411.32(b)).
                    obligated_to_accept=_obligated_to_accept(benefits, line, prior),
                    medicare_pct=1 - benefits.coinsurance,
                )
            )
            benefit = result.normal_benefit
            won = result.deciding_step
            expected, working = result.paid, f"{benefits.cob_method}: {won.name} = {won.amount}"
        left.take(benefit)
        expectations.append(
            LineExpectation(
                line_number=line.line_number, paid=line.paid, expected=expected, working=working
            )
        )
    return PaymentReview(payer_id=remittance.payer_id, lines=expectations)


def _obligated_to_accept(
    benefits: Benefits, line: LineAdjudication, prior: list[PriorPayment]
) -> Decimal | None:
    if benefits.cob_method != CobMethod.MEDICARE_SECONDARY:
        return None
    return obligated_to_accept(line.charge, prior)
