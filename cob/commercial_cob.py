"""How a commercial plan pays when it is not primary: NAIC standard COB (with or without a
credit reserve), non-duplication, carve-out, maintenance of benefits and exclusion
(see docs/secondary-payment.md).

Every method leaves the rest of the open balance to the patient: the provider may bill what
the earlier payers assigned as patient responsibility (CARC 1/2/3, X12 External Code Source 139).
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
    patient_keeps_the_rest,
    percent,
    unpaid_allowable_step,
)

NAIC_7 = "NAIC MDL-120 §7"
CREDIT_RESERVE = "WAC 284-51-230(1) (credit reserve)"
NON_DUPLICATION = "ERI glossary, non-duplication of benefits (plan document)"
CARVE_OUT = "Open Dental COB manual, carve out (plan document)"
MAINTENANCE_OF_BENEFITS = "plan document (maintenance of benefits; industry practice)"
EXCLUSION = "plan document (exclusion variant; industry practice)"


def normal_benefit(case: SecondaryPaymentCase) -> PlanBenefit:
    """The plan's benefit as if it were primary, on its own allowed amount."""
    return plan_benefit(
        case.own_allowed, case.own_deductible_remaining, case.own_coinsurance, case.own_copay
    )


def _benefit_formula(allowed: Decimal, benefit: PlanBenefit, coinsurance: Decimal) -> str:
    return (
        f"{cents(allowed)} - deductible {benefit.deductible} - copay {benefit.copay} - "
        f"coinsurance {percent(coinsurance)} ({benefit.coinsurance}) = {benefit.paid}"
    )


def normal_benefit_step(case: SecondaryPaymentCase, benefit: PlanBenefit) -> PaymentStep:
    return PaymentStep(
        name="normal benefit (as if primary)",
        amount=benefit.paid,
        formula=_benefit_formula(case.own_allowed, benefit, case.own_coinsurance),
        citation=NAIC_7,
    )


def standard(case: SecondaryPaymentCase) -> SecondaryPayment:
    """The lesser of the normal benefit and the unpaid allowable expense (NAIC MDL-120 §7)."""
    benefit = normal_benefit(case)
    steps = [
        normal_benefit_step(case, benefit),
        unpaid_allowable_step(case, NAIC_7),
        open_balance_step(case),
    ]
    return patient_keeps_the_rest(case, steps, benefit)


def standard_with_credit_reserve(case: SecondaryPaymentCase) -> SecondaryPayment:
    """Standard COB whose savings (normal benefit - paid) go into the member's calendar-year
    reserve; the reserve pays otherwise-unpaid allowable expense later, even for a service the
    plan excludes. The plan never pays more than its benefit plus accrued savings (WAC
    284-51-230(1))."""
    benefit = normal_benefit(case)
    reserve = cents(case.credit_reserve)
    steps = [
        PaymentStep(
            name="normal benefit + credit reserve",
            amount=benefit.paid + reserve,
            formula=f"{benefit.paid} + reserve {reserve}",
            citation=CREDIT_RESERVE,
        ),
        unpaid_allowable_step(case, NAIC_7),
        open_balance_step(case),
    ]
    paid, _ = decide(steps)
    used = max(ZERO, paid - benefit.paid)
    savings = max(ZERO, benefit.paid - paid)
    return patient_keeps_the_rest(
        case,
        steps,
        benefit,
        reserve_before=reserve,
        reserve_after=reserve - used + savings,
    )


def _normal_benefit_minus_prior_paid(
    case: SecondaryPaymentCase, name: str, citation: str
) -> SecondaryPayment:
    benefit = normal_benefit(case)
    steps = [
        PaymentStep(
            name=name,
            amount=benefit.paid - case.prior_paid,
            formula=(
                f"normal benefit ({_benefit_formula(case.own_allowed, benefit, case.own_coinsurance)})"
                f" - prior paid {case.prior_paid}"
            ),
            citation=citation,
        ),
        open_balance_step(case),
    ]
    return patient_keeps_the_rest(case, steps, benefit)


def non_duplication(case: SecondaryPaymentCase) -> SecondaryPayment:
    """The normal benefit minus what the earlier payers paid (plan document)."""
    return _normal_benefit_minus_prior_paid(
        case, "non-duplication: normal benefit - prior paid", NON_DUPLICATION
    )


def carve_out(case: SecondaryPaymentCase) -> SecondaryPayment:
    """(Allowed - deductible) x plan share - paid by others: numerically non-dup."""
    return _normal_benefit_minus_prior_paid(
        case, "carve-out: normal benefit - prior paid", CARVE_OUT
    )


def maintenance_of_benefits(case: SecondaryPaymentCase) -> SecondaryPayment:
    """Keeps the member's total benefit at this plan's level: numerically non-dup."""
    return _normal_benefit_minus_prior_paid(
        case, "maintenance of benefits: normal benefit - prior paid", MAINTENANCE_OF_BENEFITS
    )


def exclusion(case: SecondaryPaymentCase) -> SecondaryPayment:
    """Takes the prior payment off the allowable expense first, then applies the plan's own
    cost sharing to the remainder: (allowable - prior paid - deductible) x plan share."""
    remainder = max(ZERO, case.unpaid_allowable)
    benefit = plan_benefit(
        remainder, case.own_deductible_remaining, case.own_coinsurance, case.own_copay
    )
    steps = [
        PaymentStep(
            name="exclusion: cost sharing on the allowable expense - prior paid",
            amount=benefit.paid,
            formula=(
                f"{case.allowable_shown} - prior paid {case.prior_paid} = {remainder}; "
                + _benefit_formula(remainder, benefit, case.own_coinsurance)
            ),
            citation=EXCLUSION,
        ),
        open_balance_step(case),
    ]
    return patient_keeps_the_rest(case, steps, benefit)
