"""Medicare as secondary payer, line by line: 42 CFR 411.33(a) for Part B (fee schedule or
reasonable charge), 411.33(e) for Part A (paid on another basis), and 411.32(b)
(see docs/secondary-payment.md).

Medicare pays the lowest of the tests, never below zero, and never when the provider accepts
(or must accept) the primary payment as payment in full. Sequestration (CARC 253) comes after.
"""

from __future__ import annotations

from decimal import Decimal

from cob.money import ZERO, cents
from cob.normal_benefit import PlanBenefit, plan_benefit
from cob.payment_case import (
    PaymentStep,
    SecondaryPayment,
    SecondaryPaymentCase,
    decide,
    open_balance_step,
    percent,
)


def medicare_secondary(case: SecondaryPaymentCase) -> SecondaryPayment:
    benefit = _part_b_payment(case) if case.part == "B" else _part_a_payment(case)
    steps = _part_b_tests(case, benefit) if case.part == "B" else _part_a_tests(case, benefit)
    steps.append(open_balance_step(case))
    in_full = _payment_in_full(case)
    if in_full is not None:
        steps.insert(0, in_full)
    paid, marked = decide(steps, forced=in_full)
    patient = max(ZERO, min(case.balance - paid, _patient_limit(case) - case.prior_paid - paid))
    return SecondaryPayment(
        method=case.method,
        part=case.part,
        open_balance=case.balance,
        paid=paid,
        write_off=case.balance - paid - patient,
        patient_responsibility=patient,
        steps=marked,
        normal_benefit=benefit,
    )


def _base_amount(case: SecondaryPaymentCase) -> tuple[Decimal, str]:
    """The actual charge, or the OTAF if that is less (411.33(a)(1), (e)(3), (e)(4))."""
    charge = cents(case.charge)
    if case.obligated_to_accept is None:
        if case.prior_payers and not any(prior.in_network for prior in case.prior_payers):
            # 42 CFR 411.32(b) binds only a provider obligated to accept the primary payment
            return charge, f"{charge} (no OTAF: the provider is not in the primary's network)"
        return charge, f"{charge}"
    otaf = cents(case.obligated_to_accept)
    return min(charge, otaf), f"min(charge {charge}, OTAF {otaf})"


def _payment_in_full(case: SecondaryPaymentCase) -> PaymentStep | None:
    # 42 CFR 411.32(b); CGS: with nothing paid the supplier is not obligated to accept it
    otaf = case.obligated_to_accept
    if otaf is None or case.prior_paid <= 0 or case.prior_paid < cents(otaf):
        return None
    return PaymentStep(
        name="primary payment accepted as payment in full",
        amount=ZERO,
        formula=f"prior paid {case.prior_paid} >= OTAF {cents(otaf)}: no secondary payment",
        citation="42 CFR 411.32(b)",
    )


def _patient_limit(case: SecondaryPaymentCase) -> Decimal:
    """What all payers and the patient together may collect: the higher allowable, and never
    more than the OTAF ("Medicare's allowable is the deciding factor when determining the
    patient's liability", Noridian; 411.32(b))."""
    limit = case.allowable
    if case.obligated_to_accept is not None:
        limit = min(limit, cents(case.obligated_to_accept))
    return limit


def _part_b_payment(case: SecondaryPaymentCase) -> PlanBenefit:
    """What Medicare would pay alone: (allowed - unmet deductible) x 80% (or 62.5%, 100%)."""
    allowed = cents(case.own_allowed)
    deductible = min(cents(case.own_deductible_remaining), allowed)
    paid = cents((allowed - deductible) * case.medicare_pct)
    return PlanBenefit(
        deductible=deductible, copay=ZERO, coinsurance=allowed - deductible - paid, paid=paid
    )


def _part_b_tests(case: SecondaryPaymentCase, benefit: PlanBenefit) -> list[PaymentStep]:
    base, base_shown = _base_amount(case)
    allowed = cents(case.own_allowed)
    return [
        PaymentStep(
            name="test 1: actual charge (or OTAF if less) - primary paid",
            amount=base - case.prior_paid,
            formula=f"{base_shown} - {case.prior_paid}",
            citation="42 CFR 411.33(a)(1)",
        ),
        PaymentStep(
            name="test 2: what Medicare would pay if it were primary",
            amount=benefit.paid,
            formula=(
                f"({allowed} - unmet deductible {benefit.deductible}) x "
                f"{percent(case.medicare_pct)}"
            ),
            citation="42 CFR 411.33(a)(2)",
        ),
        PaymentStep(
            name="test 3: higher of Medicare and primary allowed - primary paid",
            amount=case.allowable - case.prior_paid,
            formula=f"max({allowed}, {case.prior_allowed}) - {case.prior_paid}",
            citation="42 CFR 411.33(a)(3)",
        ),
    ]


def _part_a_payment(case: SecondaryPaymentCase) -> PlanBenefit:
    """The gross amount payable by Medicare less its deductible and coinsurance."""
    return plan_benefit(
        case.own_allowed, case.own_deductible_remaining, case.own_coinsurance, case.own_copay
    )


def _part_a_tests(case: SecondaryPaymentCase, benefit: PlanBenefit) -> list[PaymentStep]:
    base, base_shown = _base_amount(case)
    gross = cents(case.own_allowed)
    cost_sharing = benefit.patient_share
    shown_sharing = f"deductible and coinsurance {cost_sharing}"
    return [
        PaymentStep(
            name="test 1: gross amount payable by Medicare - deductible and coinsurance",
            amount=gross - cost_sharing,
            formula=f"{gross} - {shown_sharing}",
            citation="42 CFR 411.33(e)(1)",
        ),
        PaymentStep(
            name="test 2: gross amount payable by Medicare - primary paid",
            amount=gross - case.prior_paid,
            formula=f"{gross} - {case.prior_paid}",
            citation="42 CFR 411.33(e)(2) (as CGS summarizes it; unverified)",
        ),
        PaymentStep(
            name="test 3: provider's charges (or OTAF if less) - primary paid",
            amount=base - case.prior_paid,
            formula=f"{base_shown} - {case.prior_paid}",
            citation="42 CFR 411.33(e)(3)",
        ),
        PaymentStep(
            name="test 4: provider's charges (or OTAF if less) - deductible and coinsurance",
            amount=base - cost_sharing,
            formula=f"{base_shown} - {shown_sharing}",
            citation="42 CFR 411.33(e)(4)",
        ),
    ]
