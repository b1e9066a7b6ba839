"""What a plan pays on one line: as primary (its normal benefit) and when it is not primary.

Pure rules, no I/O: the payer simulator uses them to adjudicate and workflows may use them to
estimate. Every amount is `Decimal` in cents (DOMAIN.md §0); every result balances exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

from pydantic import BaseModel

from cob.model import Adjustment, CobMethod
from cob.money import ZERO, cents

# Medigap Plan G pays the PR coinsurance (CARC 2) and copay (CARC 3), not the deductible (CARC 1)
SUPPLEMENT_PAYS = ("2", "3")


class PlanBenefit(BaseModel):
    """A plan's normal benefit on one allowed amount: deductible + copay + coinsurance + paid."""

    deductible: Decimal
    copay: Decimal
    coinsurance: Decimal
    paid: Decimal

    @property
    def patient_share(self) -> Decimal:
        return self.deductible + self.copay + self.coinsurance


class SecondaryResult(BaseModel):
    """How a later payer splits the open balance; `working` is the audit trail of the tests."""

    paid: Decimal
    write_off: Decimal
    patient_responsibility: Decimal
    working: str


def _require_non_negative(**amounts: Decimal) -> None:
    for name, amount in amounts.items():
        if amount < 0:
            raise ValueError(f"{name} must not be negative, got {amount}")


def plan_benefit(
    allowed: Decimal, deductible_remaining: Decimal, coinsurance: Decimal, copay: Decimal
) -> PlanBenefit:
    """The plan's payment as if no other plan existed (NAIC §6: the primary pays as if alone)."""
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
    # DOMAIN.md §0: round at the last step, half-up
    coinsurance_due = cents((allowed - deductible - copay_due) * coinsurance)
    paid = allowed - deductible - copay_due - coinsurance_due
    return PlanBenefit(
        deductible=deductible, copay=copay_due, coinsurance=coinsurance_due, paid=paid
    )


def secondary_payment(
    method: CobMethod,
    *,
    charge: Decimal,
    open_balance: Decimal,
    prior_paid: Decimal,
    prior_allowed: Decimal,
    own_allowed: Decimal,
    own_benefit: PlanBenefit,
    prior_patient_adjustments: list[Adjustment],
) -> SecondaryResult:
    """Split what the previous payer left to the patient (`open_balance`) into this payer's
    payment, its write-off and what the patient still owes. For payer N, `prior_paid` is the sum
    of the earlier payers' payments and `prior_allowed` the highest earlier allowed (DOMAIN.md §2.6).
    """
    _require_non_negative(
        charge=charge,
        open_balance=open_balance,
        prior_paid=prior_paid,
        prior_allowed=prior_allowed,
        own_allowed=own_allowed,
        own_benefit_paid=own_benefit.paid,
    )
    for adj in prior_patient_adjustments:
        _require_non_negative(**{f"prior {adj.group}-{adj.reason}": adj.amount})
    rule = _RULES.get(method)
    if rule is None:
        raise ValueError(f"no secondary payment rule for COB method {method!r}")
    line = _Line(
        charge=cents(charge),
        open_balance=cents(open_balance),
        prior_paid=cents(prior_paid),
        prior_allowed=cents(prior_allowed),
        own_allowed=cents(own_allowed),
        own_benefit=own_benefit,
        prior_patient_adjustments=prior_patient_adjustments,
    )
    paid, patient, working = rule(line)
    write_off = line.open_balance - paid - patient
    return SecondaryResult(
        paid=paid, write_off=write_off, patient_responsibility=patient, working=working
    )


class _Line(NamedTuple):
    charge: Decimal
    open_balance: Decimal
    prior_paid: Decimal
    prior_allowed: Decimal
    own_allowed: Decimal
    own_benefit: PlanBenefit
    prior_patient_adjustments: list[Adjustment]


Split = tuple[Decimal, Decimal, str]  # paid, patient responsibility, working


def _standard(line: _Line) -> Split:
    # NAIC Model #120 §7; DOMAIN.md §2.2: the lesser of the normal benefit and the unpaid allowable
    allowable = max(line.own_allowed, line.prior_allowed)
    unpaid = allowable - line.prior_paid
    normal = line.own_benefit.paid
    paid = max(ZERO, min(normal, unpaid, line.open_balance))
    working = (
        f"standard COB: normal benefit {normal}; allowable {allowable} - prior paid "
        f"{line.prior_paid} = {unpaid}; open balance {line.open_balance}; pays the least, {paid}"
    )
    return paid, line.open_balance - paid, working


def _non_duplication(line: _Line) -> Split:
    # ERI glossary; DOMAIN.md §2.3: the normal benefit minus what the earlier payers paid
    normal = line.own_benefit.paid
    difference = normal - line.prior_paid
    paid = max(ZERO, min(difference, line.open_balance))
    working = (
        f"non-duplication: normal benefit {normal} - prior paid {line.prior_paid} = "
        f"{difference}; open balance {line.open_balance}; pays {paid}"
    )
    return paid, line.open_balance - paid, working


def _medicare_secondary(line: _Line) -> Split:
    # 42 CFR 411.33(a); DOMAIN.md §2.5 (Part B, line by line)
    allowable = max(line.own_allowed, line.prior_allowed)
    tests = {
        "t1 (charge - prior paid)": line.charge - line.prior_paid,  # 411.33(a)(1)
        "t2 (Medicare's normal payment)": line.own_benefit.paid,  # 411.33(a)(2)
        "t3 (higher allowable - prior paid)": allowable - line.prior_paid,  # 411.33(a)(3)
        # the open balance is what the provider may still collect: OTAF - prior paid (411.32(b))
        "open balance": line.open_balance,
    }
    lowest = min(tests, key=lambda name: tests[name])
    paid = max(ZERO, tests[lowest])
    # Noridian: "Medicare's allowable is the deciding factor when determining the patient's liability"
    patient = max(ZERO, min(line.open_balance - paid, allowable - line.prior_paid - paid))
    shown = "; ".join(f"{name} {amount}" for name, amount in tests.items())
    working = (
        f"Medicare secondary (42 CFR 411.33(a)): {shown}; lowest is {lowest}, pays {paid}; "
        f"patient liability limited to {patient}, the rest CO-45"
    )
    return paid, patient, working


def _supplement(line: _Line) -> Split:
    # Medigap Plan G: pays Medicare's coinsurance and copay, not the Part B deductible
    covered = sum(
        (
            adj.amount
            for adj in line.prior_patient_adjustments
            if adj.group == "PR" and adj.reason in SUPPLEMENT_PAYS
        ),
        ZERO,
    )
    paid = min(cents(covered), line.open_balance)
    working = (
        f"supplement: prior PR-2 and PR-3 {covered}; open balance {line.open_balance}; "
        f"pays {paid}; the deductible stays with the patient"
    )
    return paid, line.open_balance - paid, working


def _medicaid_lesser_of(line: _Line) -> Split:
    # 42 USC 1396a(a)(25); DOMAIN.md §1.4: payer of last resort; the patient is not balance-billed
    unpaid = line.own_allowed - line.prior_paid
    paid = max(ZERO, min(line.open_balance, unpaid))
    working = (
        f"Medicaid lesser-of: allowed {line.own_allowed} - prior paid {line.prior_paid} = "
        f"{unpaid}; open balance {line.open_balance}; pays {paid}; the rest written off"
    )
    return paid, ZERO, working


_RULES: dict[CobMethod, Callable[[_Line], Split]] = {
    CobMethod.STANDARD: _standard,
    CobMethod.NON_DUPLICATION: _non_duplication,
    CobMethod.MEDICARE_SECONDARY: _medicare_secondary,
    CobMethod.SUPPLEMENT: _supplement,
    CobMethod.MEDICAID_LESSER_OF: _medicaid_lesser_of,
}
