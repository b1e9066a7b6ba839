"""Money: cents, and the line invariant that holds everywhere.

For every service line, across all payers in order (DESIGN.md, "Money invariant"):

    charge = Σ payer paid + Σ adjustments + patient responsibility

Each payer's own remittance line balances too: charge = paid + Σ CAS (DOMAIN.md §5, posting
algorithm). A later payer reports the earlier payers' impact as OA-23 (DOMAIN.md §5, CARC 23),
so OA-23 is not counted again; the patient owes what the last payer left as PR (§6.1).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel

from cob.model import LineAdjudication, Remittance

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PRIOR_PAYER_IMPACT = ("OA", "23")


class UnbalancedLine(ValueError):
    pass


def cents(amount: Decimal | int | str) -> Decimal:
    """Round half-up to cents (DOMAIN.md §0: round at the last step, half-up)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def adjustments_total(line: LineAdjudication) -> Decimal:
    return sum((adj.amount for adj in line.adjustments), ZERO)


def patient_responsibility(line: LineAdjudication) -> Decimal:
    return sum((adj.amount for adj in line.adjustments if adj.group == "PR"), ZERO)


def own_adjustments(line: LineAdjudication) -> Decimal:
    """What this payer adjusted itself: every CAS except the earlier payers' impact (OA-23),
    and except PR, which is the patient's share rather than a write-off."""
    return sum(
        (
            adj.amount
            for adj in line.adjustments
            if (adj.group, adj.reason) != PRIOR_PAYER_IMPACT and adj.group != "PR"
        ),
        ZERO,
    )


def check_remittance_line(line: LineAdjudication, payer_id: str = "") -> None:
    """One payer's 835 line: SVC02 charge = SVC03 paid + Σ CAS (DOMAIN.md §5)."""
    total = line.paid + adjustments_total(line)
    if total != line.charge:
        raise UnbalancedLine(
            f"payer {payer_id} line {line.line_number}: charge {line.charge} != "
            f"paid {line.paid} + adjustments {adjustments_total(line)}"
        )


class LineAccount(BaseModel):
    """Where one line's charge went, after every payer that adjudicated it."""

    line_number: int
    procedure_code: str
    charge: Decimal
    paid_by_payer: dict[str, Decimal]
    adjustments: Decimal
    patient_responsibility: Decimal

    @property
    def paid(self) -> Decimal:
        return sum(self.paid_by_payer.values(), ZERO)


def account_line(
    line_number: int, procedure_code: str, charge: Decimal, remittances: list[Remittance]
) -> LineAccount:
    """Fold the payers' line adjudications, in payer order, into one balanced account.

    With no remittance (self-pay, or every payer gone), the patient owes the charge.
    Raises UnbalancedLine if any payer's line or the whole does not balance to the cent.
    """
    paid_by_payer: dict[str, Decimal] = {}
    adjustments = ZERO
    responsibility = charge
    for remittance in remittances:
        line = next((ln for ln in remittance.lines if ln.line_number == line_number), None)
        if line is None:
            continue
        if line.charge != charge:
            raise UnbalancedLine(
                f"payer {remittance.payer_id} line {line_number}: charge {line.charge} "
                f"differs from the billed {charge}"
            )
        check_remittance_line(line, remittance.payer_id)
        paid_by_payer[remittance.payer_id] = (
            paid_by_payer.get(remittance.payer_id, ZERO) + line.paid
        )
        adjustments += own_adjustments(line)
        responsibility = patient_responsibility(line)
    account = LineAccount(
        line_number=line_number,
        procedure_code=procedure_code,
        charge=charge,
        paid_by_payer=paid_by_payer,
        adjustments=adjustments,
        patient_responsibility=responsibility,
    )
    if account.paid + account.adjustments + account.patient_responsibility != charge:
        raise UnbalancedLine(
            f"line {line_number}: charge {charge} != paid {account.paid} + adjustments "
            f"{account.adjustments} + patient {account.patient_responsibility}"
        )
    if account.patient_responsibility < ZERO:
        raise UnbalancedLine(f"line {line_number}: negative patient responsibility")
    return account
