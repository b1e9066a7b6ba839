"""Plans that pay after Medicare or everyone else: a Medicare supplement (Medigap) and Medicaid,
the payer of last resort (42 USC 1396a(a)(25))."""

from __future__ import annotations

from cob.commercial_cob import normal_benefit
from cob.money import ZERO, cents
from cob.payment_case import (
    PaymentStep,
    SecondaryPayment,
    SecondaryPaymentCase,
    decide,
    open_balance_step,
    patient_keeps_the_rest,
    unpaid_allowable_step,
)

# Medigap Plan G pays the PR coinsurance (CARC 2) and copay (CARC 3), not the deductible (CARC 1)
SUPPLEMENT_PAYS = ("2", "3")


def supplement(case: SecondaryPaymentCase) -> SecondaryPayment:
    """Pays the prior payer's coinsurance and copay; the Part B deductible stays with the
    patient (Medigap Plan G). Never more than the unpaid allowable expense."""
    last = case.prior_payers[-1].adjustments if case.prior_payers else []
    covered = [adj for adj in last if adj.group == "PR" and adj.reason in SUPPLEMENT_PAYS]
    shown = " + ".join(f"PR-{adj.reason} {adj.amount}" for adj in covered) or "none"
    steps = [
        PaymentStep(
            name="prior payer's coinsurance and copay",
            amount=cents(sum((adj.amount for adj in covered), ZERO)),
            formula=shown,
            citation="Medigap Plan G (CARC 2, 3; not CARC 1)",
        ),
        unpaid_allowable_step(case, "NAIC MDL-120 §3 allowable expense"),
        open_balance_step(case),
    ]
    return patient_keeps_the_rest(case, steps, normal_benefit(case))


def medicaid_lesser_of(case: SecondaryPaymentCase) -> SecondaryPayment:
    """Pays up to its own allowed amount less what the others paid; the provider writes off the
    rest and may not bill the patient (42 USC 1396a(a)(25)(C))."""
    allowed = cents(case.own_allowed)
    steps = [
        PaymentStep(
            name="Medicaid allowed - prior paid",
            amount=allowed - case.prior_paid,
            formula=f"{allowed} - {case.prior_paid}",
            citation="42 USC 1396a(a)(25)",
        ),
        open_balance_step(case),
    ]
    paid, marked = decide(steps)
    return SecondaryPayment(
        method=case.method,
        open_balance=case.balance,
        paid=paid,
        write_off=case.balance - paid,
        patient_responsibility=ZERO,
        steps=marked,
        normal_benefit=normal_benefit(case),
    )
