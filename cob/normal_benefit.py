"""A plan's normal benefit on one line: what it pays as if no other plan existed.

The primary pays it (NAIC MDL-120 §6); a later payer starts from it (NAIC MDL-120 §7;
see docs/secondary-payment.md).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from cob.money import cents


class PlanBenefit(BaseModel):
    """A plan's normal benefit on one allowed amount: deductible + copay + coinsurance + paid."""

    deductible: Decimal
    copay: Decimal
    coinsurance: Decimal
    paid: Decimal

    @property
    def patient_share(self) -> Decimal:
        return self.deductible + self.copay + self.coinsurance


def _require_non_negative(**amounts: Decimal) -> None:
    for name, amount in amounts.items():
        if amount < 0:
            raise ValueError(f"{name} must not be negative, got {amount}")


def plan_benefit(
    allowed: Decimal, deductible_remaining: Decimal, coinsurance: Decimal, copay: Decimal
) -> PlanBenefit:
    """The plan's payment as if no other plan existed (NAIC MDL-120 §6: the primary pays
    as if alone).

    The deductible comes first, then the copay, then coinsurance (the patient's share, 0.20 =
    20%) on the rest."""
    _require_non_negative(
        allowed=allowed,
        deductible_remaining=deductible_remaining,
        coinsurance=coinsurance,
        copay=copay,
    )
    if coinsurance > 1:
        raise ValueError(f"coinsurance is the patient's share (0 to 1), got {coinsurance}")
    allowed = cents(allowed)
    deductible = min(cents(deductible_remaining), allowed)
    copay_due = min(cents(copay), allowed - deductible)
    # round at the last step, half-up (industry practice; no rule sets it)
    coinsurance_due = cents((allowed - deductible - copay_due) * coinsurance)
    paid = allowed - deductible - copay_due - coinsurance_due
    return PlanBenefit(
        deductible=deductible, copay=copay_due, coinsurance=coinsurance_due, paid=paid
    )
