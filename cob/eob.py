"""A primary payer's EOB or 835 read from paper, and what a secondary's calculation takes from
it, line by line: the allowed amount, the patient's share, the OTAF, the open balance the
secondary bills on, and what the secondary 837 carries in its 2320/2430 loops.

`cob explain eob FILE.json` reads the figures a biller copies from the EOB (billed, each
adjustment by group and reason, paid, and the deductible, coinsurance and copay when the EOB
splits the patient's share that way) and prints this working, so a secondary bill can be
checked by hand. Pure: no I/O.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, model_validator

from cob.model import Adjustment, Model
from cob.money import (
    ZERO,
    allowed_amount,
    cents,
    open_balance,
    patient_responsibility,
)
from cob.payment_case import Money, PriorPayment, obligated_to_accept

# The patient's share as an EOB splits it, and the X12 CARC each is carried as (group PR):
# 1 deductible, 2 coinsurance, 3 copayment (X12 External Code Source 139).
PATIENT_SHARE_CARCS = {"deductible": "1", "coinsurance": "2", "copay": "3"}
NOT_PATIENT_GROUPS = ("CO", "PI", "OA", "CR")  # allowed = billed - these (005010X221A1 2110)


class EobLine(Model):
    """One service line of the primary's EOB (an 835's 2110 loop: SVC, CAS, AMT*B6)."""

    line_number: int | None = Field(default=None, ge=1)  # counted from 1 when left out
    procedure_code: str = ""
    billed: Money  # SVC02
    paid: Money  # SVC03
    adjustments: list[Adjustment] = Field(default_factory=list, max_length=30)  # CAS
    # The patient's share when the EOB prints it in columns, not as PR codes: carried as
    # PR-1, PR-2 and PR-3. Give each either here or as a PR adjustment, not both.
    deductible: Money | None = None
    coinsurance: Money | None = None
    copay: Money | None = None
    allowed: Money | None = None  # as the EOB prints it (AMT*B6): checked, never trusted

    @model_validator(mode="after")
    def _share_once_and_balanced(self) -> EobLine:
        given = {(a.group, a.reason) for a in self.adjustments}
        for name, carc in PATIENT_SHARE_CARCS.items():
            amount = getattr(self, name)
            if amount is not None and ("PR", carc) in given:
                raise ValueError(
                    f"{name} {amount} is also given as adjustment PR-{carc}: give it once"
                )
        for n, adj in enumerate(self.adjustments):
            if adj.amount != cents(adj.amount):
                raise ValueError(f"adjustments[{n}] amount {adj.amount} is not in cents")
        self.adjustments = [
            *(a.model_copy(update={"amount": cents(a.amount)}) for a in self.adjustments),
            *self._split_share(),
        ]
        for adj in self.adjustments:
            if adj.group == "PR" and adj.amount < 0:
                raise ValueError(f"PR-{adj.reason} must not be negative, got {adj.amount}")
        self.billed, self.paid = cents(self.billed), cents(self.paid)
        # 005010X221A1 loop 2110: SVC02 billed = SVC03 paid + the sum of the line's CAS
        adjusted = sum((adj.amount for adj in self.adjustments), ZERO)
        if self.paid + adjusted != self.billed:
            raise ValueError(
                f"billed {self.billed} is not paid {self.paid} + adjustments {adjusted} = "
                f"{self.paid + adjusted}: an amount is missing or misread"
            )
        derived = allowed_amount(self.billed, self.adjustments)
        if self.allowed is not None and self.allowed != derived:
            raise ValueError(
                f"allowed {self.allowed} as printed is not billed {self.billed} less the "
                f"CO, PI and OA adjustments ({self.billed - derived}) = {derived}: check them"
            )
        return self

    def _split_share(self) -> list[Adjustment]:
        return [
            Adjustment(group="PR", reason=carc, amount=cents(getattr(self, name)))
            for name, carc in PATIENT_SHARE_CARCS.items()
            if getattr(self, name)
        ]


class PrimaryEob(Model):
    """The primary payer's EOB or 835 for one claim, as the biller reads it."""

    payer_id: str = ""
    # The provider's contract with the primary: in its network, the provider must accept the
    # primary's allowed amount as payment in full (the OTAF); out of network it need not.
    in_network: bool = True
    lines: list[EobLine] = Field(min_length=1, max_length=50)  # 2400 loop, repeat 50


class EobStep(Model):
    """One figure of the working: its amount (None: there is none), the arithmetic, the source."""

    name: str
    amount: Decimal | None
    formula: str
    citation: str


class EobLineAnswer(Model):
    line_number: int
    procedure_code: str
    billed: Decimal
    paid: Decimal
    adjustments_by_group: dict[str, Decimal]  # CO, PI, OA, CR, PR: each group's total
    allowed: Decimal
    patient_share: Decimal  # the PR total
    patient_share_by_reason: dict[str, Decimal]  # PR-1 deductible, PR-2, PR-3, PR-96, ...
    obligated_to_accept: Decimal | None  # OTAF; None out of network or when nothing was paid
    charge_or_otaf: Decimal  # what a Medicare secondary's test 1 takes the primary's payment from
    open_balance: Decimal  # what the secondary splits: 2430 AMT*EAF
    secondary_837: list[str]  # the 2430 segments for this primary
    steps: list[EobStep]
    notes: list[str]


class EobAnswer(Model):
    payer_id: str
    in_network: bool
    lines: list[EobLineAnswer]
    billed: Decimal  # CLM02 of the secondary claim
    paid: Decimal  # 2320 AMT*D
    open_balance: Decimal  # 2320 AMT*EAF
    secondary_837: list[str]  # the 2320 amounts for this primary


def explain_eob(eob: PrimaryEob) -> EobAnswer:
    """The working of every line, and the claim's 2320 amounts for the secondary 837."""
    lines = [
        explain_line(line, line.line_number or n, eob.in_network, eob.payer_id)
        for n, line in enumerate(eob.lines, start=1)
    ]
    paid = sum((line.paid for line in lines), ZERO)
    still_open = sum((line.open_balance for line in lines), ZERO)
    return EobAnswer(
        payer_id=eob.payer_id,
        in_network=eob.in_network,
        lines=lines,
        billed=sum((line.billed for line in lines), ZERO),
        paid=paid,
        open_balance=still_open,
        # 005010X222A1 loop 2320: AMT*D payer paid = the sum of 2430 SVD02; AMT*EAF remaining
        # patient liability
        secondary_837=[f"AMT*D*{paid}", f"AMT*EAF*{still_open}"],
    )


def explain_line(
    line: EobLine, line_number: int, in_network: bool, payer_id: str = ""
) -> EobLineAnswer:
    by_group: dict[str, Decimal] = {}
    share: dict[str, Decimal] = {}
    for adj in line.adjustments:
        by_group[adj.group] = by_group.get(adj.group, ZERO) + adj.amount
        if adj.group == "PR":
            key = f"PR-{adj.reason}"
            share[key] = share.get(key, ZERO) + adj.amount
    allowed = allowed_amount(line.billed, line.adjustments)
    patient = patient_responsibility(line)
    prior = PriorPayment(allowed=allowed, paid=line.paid, adjustments=line.adjustments,
                         in_network=in_network)  # fmt: skip
    otaf = obligated_to_accept(line.billed, [prior])
    charge_or_otaf = line.billed if otaf is None else min(line.billed, otaf)
    still_open = open_balance(line.billed, [line])
    not_patient = line.billed - allowed
    cas = [f"CAS*{a.group}*{a.reason}*{a.amount}" for a in line.adjustments if a.amount]
    # 005010X222A1 loop 2430: SVD01 the primary's payer id, SVD02 its payment, SVD03 the code
    procedure = f"*HC:{line.procedure_code}" if line.procedure_code else ""
    svd = f"SVD*{payer_id or '(payer id)'}*{line.paid}{procedure}"
    segments = [svd, *cas, f"AMT*EAF*{still_open}"]
    steps = [
        EobStep(name="allowed", amount=allowed,
                formula=f"billed {line.billed} - CO, PI and OA {not_patient}",
                citation="ASC X12 005010X221A1 loop 2110: SVC02 - CAS other than PR"),
        EobStep(name="patient share (PR)", amount=patient,
                formula=" + ".join(f"{k} {v}" for k, v in share.items()) or "no PR",
                citation="ASC X12 005010X221A1 CAS01 PR: the patient's responsibility"),
        _otaf_step(otaf, allowed, line, in_network),
        EobStep(name="charge, or OTAF if less", amount=charge_or_otaf,
                formula=(f"min(billed {line.billed}, OTAF {otaf})" if otaf is not None
                         else f"billed {line.billed} (no OTAF)"),
                citation="42 CFR 411.33(a)(1), (e)(3): what a Medicare secondary's test "
                         "subtracts the primary's payment from"),
        EobStep(name="open balance the secondary bills on", amount=still_open,
                formula=f"the primary's patient share {patient}",
                citation="ASC X12 005010X222A1 loop 2430 AMT*EAF remaining patient liability"),
    ]  # fmt: skip
    notes = []
    if otaf is not None and line.paid >= otaf:
        notes.append(
            f"the primary paid the OTAF {otaf} in full: a Medicare secondary pays nothing on "
            "this line (42 CFR 411.32(b))"
        )
    return EobLineAnswer(
        line_number=line_number,
        procedure_code=line.procedure_code,
        billed=line.billed,
        paid=line.paid,
        adjustments_by_group=by_group,
        allowed=allowed,
        patient_share=patient,
        patient_share_by_reason=share,
        obligated_to_accept=otaf,
        charge_or_otaf=charge_or_otaf,
        open_balance=still_open,
        secondary_837=segments,
        steps=steps,
        notes=notes,
    )


def _otaf_step(otaf: Decimal | None, allowed: Decimal, line: EobLine, in_network: bool) -> EobStep:
    # 42 CFR 411.32(b): a provider obligated to accept the primary's payment as payment in
    # full; 411.33(a)(1), (e)(3): "the amount the supplier is obligated to accept"
    citation = "42 CFR 411.32(b); 411.33(a)(1), (e)(3)"
    if not in_network:
        formula = "out of the primary's network: its allowed amount does not bind the provider"
    elif otaf is None:
        formula = "the primary paid nothing: the provider is not obligated to accept it"
    else:
        formula = (
            f"in the primary's network: the provider must accept its allowed {allowed} as "
            f"payment in full (at most billed {line.billed})"
        )
    return EobStep(name="OTAF (obligated to accept)", amount=otaf, formula=formula,
                   citation=citation)  # fmt: skip
