"""One line's secondary payment: the case a later payer decides and its answer, with the working.

Both are plain JSON (`cob explain payment FILE.json` reads a case and prints the answer); a bad
case fails validation with the field named. Amounts are `Decimal` cents, rounded half-up at the
last step (industry practice; a payer's own rounding rule would replace it).
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from cob.model import Adjustment, AllowableBasis, CobMethod, Model, Remittance
from cob.money import ZERO, cents, patient_responsibility
from cob.normal_benefit import PlanBenefit

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Share = Annotated[Decimal, Field(ge=0, le=1)]  # 0.20 = 20%
MedicarePart = Literal["A", "B"]


class PriorPayment(Model):
    """One earlier payer's adjudication of this line, as the 837 carries it (2430 SVD, CAS)."""

    payer_id: str = ""
    allowed: Money
    paid: Money  # SVD02
    adjustments: list[Adjustment] = Field(default_factory=list)  # its CAS on this line
    # The provider's contract with this payer: out of network it need not accept this
    # payer's allowed amount as payment in full (no OTAF: 42 CFR 411.32(b), 411.33(a)(1)).
    in_network: bool = True

    @field_validator("adjustments")
    @classmethod
    def _patient_share_not_negative(cls, adjustments: list[Adjustment]) -> list[Adjustment]:
        for adj in adjustments:
            if adj.group == "PR" and adj.amount < 0:
                raise ValueError(f"PR-{adj.reason} must not be negative, got {adj.amount}")
        return adjustments

    @property
    def patient_responsibility(self) -> Decimal:
        return patient_responsibility(self)

    @property
    def states_patient_share(self) -> bool:
        return any(adj.group == "PR" for adj in self.adjustments)

    @property
    def not_patient_adjustments(self) -> Decimal:
        return sum((adj.amount for adj in self.adjustments if adj.group != "PR"), ZERO)


def left_open(charge: Decimal, prior: list[PriorPayment]) -> Decimal:
    return left_open_working(charge, prior)[0]


def left_open_working(charge: Decimal, prior: list[PriorPayment]) -> tuple[Decimal, str]:
    """What the earlier payers left open on the line (005010X222A1 loop 2430 AMT*EAF): the last
    payer's PR, as cob.money.open_balance takes it, or the charge when no payer came before.

    A last payer with no PR is read line by line, never as a silent zero:
    - its CAS balance the line (charge = paid + CAS): it left nothing open (e.g. CO-45);
    - it is the only earlier payer: the rest is the patient's, charge - paid - its non-PR
      adjustments (005010X222A1 2430 balancing: SV102 = SVD02 + CAS); with no CAS at all the
      non-PR part is the charge above its allowed amount when the provider is in its network
      (allowed = charge - non-PR CAS, cob.money.allowed_amount), none when it is not;
    - otherwise the line cannot be read: a ValueError names the field to give."""
    if not prior:
        return charge, "no earlier payer: the charge"
    last, n = prior[-1], len(prior) - 1
    if last.states_patient_share:
        return patient_responsibility(last), "the last earlier payer's PR"
    if last.paid + last.not_patient_adjustments == charge:
        return ZERO, (
            f"no PR: paid {last.paid} + adjustments {last.not_patient_adjustments} settle "
            f"the charge {charge}"
        )
    if n > 0:
        raise ValueError(
            f"prior_payers[{n}].adjustments: no PR and its CAS do not balance the charge "
            f"{charge}; with payers before it what it left open cannot be derived: give its "
            "PR adjustments or open_balance"
        )
    if last.adjustments:
        not_patient = last.not_patient_adjustments
        if last.in_network and charge - not_patient != last.allowed:
            raise ValueError(
                f"prior_payers[0].allowed {last.allowed} differs from the charge {charge} "
                f"less its non-PR adjustments {not_patient}: give its PR adjustments or "
                "open_balance"
            )
        why = f"its non-PR adjustments {not_patient}"
    elif last.in_network:
        not_patient = charge - last.allowed
        why = f"no CAS: the charge above its allowed {last.allowed}, {not_patient}"
    else:
        not_patient = ZERO
        why = "no CAS, out of network: nothing binds the provider to its allowed"
    left = charge - last.paid - not_patient
    if left < 0:
        raise ValueError(
            f"prior_payers[0].paid {last.paid} is more than the charge {charge} less its "
            f"non-PR adjustments {not_patient}: give its adjustments or open_balance"
        )
    return left, (f"no PR: charge {charge} - paid {last.paid} - {not_patient} ({why})")


class SecondaryPaymentCase(Model):
    """What a later payer knows about one line when it decides its payment: the 837's charge
    (SV102) and the earlier payers' line adjudications (005010X222A1 loops 2320/2430)."""

    method: CobMethod
    charge: Money  # SV102
    # Which allowed amount is the allowable expense (NAIC MDL-120 §3): the plan's COB terms.
    allowable_basis: AllowableBasis = AllowableBasis.HIGHER_OF
    # What the earlier payers left the patient (AMT*EAF); by default `left_open`: the last
    # payer's PR total, or the charge when there is no earlier payer.
    open_balance: Money | None = None
    prior_payers: list[PriorPayment] = Field(default_factory=list, max_length=10)  # 2320 x10
    # This plan's allowed amount: 0 when it excludes the service (its normal benefit is 0);
    # Medicare: the fee schedule amount (Part B) or the gross amount payable (Part A).
    own_allowed: Money
    own_deductible_remaining: Money = ZERO
    own_coinsurance: Share = ZERO  # the patient's share; Part A: a percentage coinsurance
    own_copay: Money = ZERO  # Part A: a fixed coinsurance amount (e.g. per day)
    obligated_to_accept: Money | None = None  # OTAF: 42 CFR 411.33(a)(1); NUBC value code 44
    part: MedicarePart = "B"  # MEDICARE_SECONDARY: 42 CFR 411.33(a) for B, (e) for A
    medicare_pct: Share = Decimal("0.80")  # Part B test 2: 62.5%, 80% or 100% (FCSO)
    credit_reserve: Money = ZERO  # STANDARD_WITH_CREDIT_RESERVE: the member's balance this year

    @model_validator(mode="after")
    def _terms_the_method_allows(self) -> SecondaryPaymentCase:
        medicare = self.method == CobMethod.MEDICARE_SECONDARY
        if medicare and self.allowable_basis != AllowableBasis.HIGHER_OF:
            raise ValueError(
                f"allowable_basis {self.allowable_basis.value}: Medicare's test 3 takes the "
                "higher of its own and the primary's allowed (42 CFR 411.33(a)(3)); give "
                "higher_of"
            )
        in_network = [prior for prior in self.prior_payers if prior.in_network]
        if self.obligated_to_accept is not None and self.prior_payers and not in_network:
            raise ValueError(
                f"obligated_to_accept {self.obligated_to_accept}: the provider is in no earlier "
                "payer's network (prior_payers in_network false), so no amount binds it as "
                "payment in full (42 CFR 411.32(b)); leave it out"
            )
        return self

    @model_validator(mode="after")
    def _open_balance_within_what_is_unpaid(self) -> SecondaryPaymentCase:
        unpaid = self.charge - self.prior_paid
        if unpaid < 0:
            raise ValueError(
                f"prior_payers paid {self.prior_paid} in total, more than the charge {self.charge}"
            )
        if self.balance > unpaid:
            raise ValueError(
                f"open_balance {self.balance} exceeds the charge {self.charge} minus what the "
                f"prior_payers paid ({self.prior_paid})"
            )
        return self

    @property
    def balance(self) -> Decimal:
        """The open balance this payer splits: given (AMT*EAF), or `left_open`."""
        if self.open_balance is not None:
            return cents(self.open_balance)
        return cents(left_open(self.charge, self.prior_payers))

    @property
    def prior_paid(self) -> Decimal:
        """All earlier payers' payments together (for payer N, the payers before it count as
        its primary: industry practice, configurable)."""
        return cents(sum((prior.paid for prior in self.prior_payers), ZERO))

    @property
    def prior_allowed(self) -> Decimal:
        """The highest earlier allowed amount (industry practice for payer N, configurable)."""
        return cents(max((prior.allowed for prior in self.prior_payers), default=ZERO))

    @property
    def primary_allowed(self) -> Decimal:
        """The primary's allowed amount (the first earlier payer's); this plan's own when none."""
        if not self.prior_payers:
            return cents(self.own_allowed)
        return cents(self.prior_payers[0].allowed)

    @property
    def allowable(self) -> Decimal:
        """The allowable expense, by the plan's basis (NAIC Coordination of Benefits Model
        Regulation (MDL-120) section 3, allowable expense): the highest allowed of all the
        plans (higher_of), this plan's own (own), or the primary's arrangement (primary)."""
        if self.allowable_basis == AllowableBasis.OWN:
            return cents(self.own_allowed)
        if self.allowable_basis == AllowableBasis.PRIMARY:
            return self.primary_allowed
        return max(cents(self.own_allowed), self.prior_allowed)

    @property
    def allowable_shown(self) -> str:
        """The allowable expense as the working shows it."""
        if self.allowable_basis == AllowableBasis.OWN:
            return f"own allowed {cents(self.own_allowed)}"
        if self.allowable_basis == AllowableBasis.PRIMARY:
            return f"primary allowed {self.primary_allowed}"
        return f"max({cents(self.own_allowed)}, {self.prior_allowed})"

    @property
    def unpaid_allowable(self) -> Decimal:
        return self.allowable - self.prior_paid


class PaymentStep(Model):
    """One test or limit in the working: the payment is the lowest step (never below 0)."""

    name: str
    amount: Decimal
    formula: str  # the arithmetic with this case's numbers
    citation: str
    won: bool = False  # this step decided the payment


class SecondaryPayment(Model):
    """A later payer's answer on one line: paid + write_off + patient_responsibility is exactly
    the open balance, and `steps` say why (the audit trail)."""

    method: CobMethod
    part: MedicarePart | None = None  # MEDICARE_SECONDARY only
    open_balance: Decimal
    paid: Decimal
    write_off: Decimal  # CO: the provider may not collect it
    patient_responsibility: Decimal  # PR: what the patient still owes
    steps: list[PaymentStep]
    # The plan's own cost sharing as the method figured it; its deductible is what the plan
    # credits to the member's deductible (NAIC COB Model Regulation (MDL-120) section 7).
    normal_benefit: PlanBenefit
    credit_reserve_before: Decimal | None = None
    credit_reserve_after: Decimal | None = None

    @model_validator(mode="after")
    def _balances_to_the_cent(self) -> SecondaryPayment:
        parts = (self.paid, self.write_off, self.patient_responsibility)
        if min(parts) < 0 or sum(parts) != self.open_balance:
            raise ValueError(
                f"paid {self.paid} + write_off {self.write_off} + patient_responsibility "
                f"{self.patient_responsibility} must split the open_balance {self.open_balance}"
            )
        if sum(step.won for step in self.steps) != 1:
            raise ValueError("exactly one step must have won")
        return self

    @property
    def deciding_step(self) -> PaymentStep:
        return next(step for step in self.steps if step.won)


def decide(
    steps: list[PaymentStep], forced: PaymentStep | None = None
) -> tuple[Decimal, list[PaymentStep]]:
    """Mark the step that decides (`forced`, else the first lowest) and return the payment:
    that step's amount, never below zero."""
    winner = forced or min(steps, key=lambda step: step.amount)
    marked = [step.model_copy(update={"won": step is winner}) for step in steps]
    return max(ZERO, cents(winner.amount)), marked


def percent(share: Decimal) -> str:
    return f"{cents(share * 100).normalize():f}%"


def open_balance_step(case: SecondaryPaymentCase) -> PaymentStep:
    formula = f"what the earlier payers left the patient: {case.balance}"
    if case.open_balance is None and case.prior_payers:
        _, how = left_open_working(case.charge, case.prior_payers)
        if how.startswith("no PR"):
            formula += f" ({how})"
    return PaymentStep(
        name="open balance",
        amount=case.balance,
        formula=formula,
        citation="ASC X12 005010X222A1 loop 2430 AMT*EAF (remaining patient liability)",
    )


def unpaid_allowable_step(case: SecondaryPaymentCase, citation: str) -> PaymentStep:
    return PaymentStep(
        name="allowable expense - prior paid",
        amount=case.unpaid_allowable,
        formula=f"{case.allowable_shown} - {case.prior_paid}",
        citation=citation,
    )


def patient_keeps_the_rest(
    case: SecondaryPaymentCase,
    steps: list[PaymentStep],
    benefit: PlanBenefit,
    reserve_before: Decimal | None = None,
    reserve_after: Decimal | None = None,
) -> SecondaryPayment:
    """The plan pays the lowest step and writes nothing off: the patient keeps the rest."""
    paid, marked = decide(steps)
    return SecondaryPayment(
        method=case.method,
        open_balance=case.balance,
        paid=paid,
        write_off=ZERO,
        patient_responsibility=case.balance - paid,
        steps=marked,
        normal_benefit=benefit,
        credit_reserve_before=reserve_before,
        credit_reserve_after=reserve_after,
    )


def obligated_to_accept(
    charge: Decimal, prior: list[PriorPayment], contract_share: Decimal | None = None
) -> Decimal | None:
    """The OTAF on a professional line, derived from the earlier payers' adjudication: the
    highest allowed amount (times the provider's contract share with the payer, when it
    accepts less), never more than the charge. A provider must accept it as payment in full
    (42 CFR 411.32(b)); None when the earlier payers paid nothing: "If the primary paid amount
    is zero, then the supplier is not obligated to accept" (CGS JB MSP line-level calculator).
    Only the payers whose network the provider is in bind it (411.33(a)(1): "the amount the
    supplier is obligated to accept"); with none, there is no OTAF."""
    prior = [payment for payment in prior if payment.in_network]
    if sum((payment.paid for payment in prior), ZERO) <= 0:
        return None
    highest_allowed = max(payment.allowed for payment in prior)
    if contract_share is not None:
        highest_allowed = cents(highest_allowed * contract_share)
    return min(charge, highest_allowed)


def prior_payments(
    remittances: list[Remittance], line_number: int, out_of_network: Collection[str] = ()
) -> list[PriorPayment]:
    """The earlier payers' adjudications of one line, in payer order (837 loops 2430);
    `out_of_network`: the payer ids whose network the provider is not in."""
    return [
        PriorPayment(
            payer_id=remittance.payer_id,
            allowed=line.allowed,
            paid=line.paid,
            adjustments=line.adjustments,
            in_network=remittance.payer_id not in out_of_network,
        )
        for remittance in remittances
        for line in remittance.lines
        if line.line_number == line_number
    ]
