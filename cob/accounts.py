"""The patient account's money: each line's payer side, the patient's share, what the patient
paid and what was written off, and the account's credit.

Per line, everywhere (cob.money's invariant, grown by the patient side):

    charge = Σ paid by payer + payer adjustments + patient paid + Σ write-offs + balance

with balance ≥ 0. Money beyond every balance is never dropped: it is the account's credit,
refunded or applied to a later balance. Per account: Σ patient payments received =
Σ patient paid over lines + credit + Σ refunds made.

Pure functions returning new objects (usable from workflow code); amounts exact to the cent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, NamedTuple

from pydantic import Field

from cob.model import Model
from cob.money import ZERO, UnbalancedLine, cents


class AccountLine(Model):
    """One service line on the patient's account, after its payers."""

    encounter_id: str
    service_date: date
    line_number: int
    procedure_code: str
    charge: Decimal
    paid_by_payer: dict[str, Decimal]  # payer id -> paid, in payer order (primary first)
    payer_adjustments: Decimal  # every non-PR adjustment (CO, OA, PI), all payers
    responsibility: dict[str, Decimal]  # the patient's share by kind (cob.statements.PR_KINDS)
    patient_paid: Decimal = ZERO  # patient payments applied to this line
    write_offs: dict[str, Decimal] = Field(default_factory=dict)  # reason -> amount

    @property
    def patient_share(self) -> Decimal:
        """What the payers left the patient: Σ of the last payer's PR, by kind."""
        return sum(self.responsibility.values(), ZERO)

    @property
    def written_off(self) -> Decimal:
        return sum(self.write_offs.values(), ZERO)

    @property
    def balance(self) -> Decimal:
        """What the patient still owes on the line."""
        return self.patient_share - self.patient_paid - self.written_off


class Applied(NamedTuple):
    """Where part of a patient payment went: a line of an encounter, and how much."""

    encounter_id: str
    line_number: int
    amount: Decimal


class PatientPayment(Model):
    """A payment from the patient (or guarantor); payment_id makes posting it idempotent."""

    payment_id: str
    amount: Decimal = Field(gt=0)
    received_on: date
    method: Literal["card", "check", "cash"]
    reference: str = ""
    encounter_id: str | None = None  # the encounter the payer designated, if any
    applied: list[Applied] = Field(default_factory=list)  # filled by apply_payment


def check_line(line: AccountLine) -> None:
    """Raise UnbalancedLine, naming the encounter and line, unless the line balances to the
    cent with a balance that is not negative."""
    where = f"encounter {line.encounter_id} line {line.line_number}"
    patient_side = [line.patient_paid, *line.write_offs.values(), line.patient_share]
    amounts = [
        line.charge,
        line.payer_adjustments,
        *line.paid_by_payer.values(),
        *line.responsibility.values(),
        *patient_side,
    ]
    if any(amount != cents(amount) for amount in amounts):
        raise UnbalancedLine(f"{where}: an amount is not exact to the cent")
    if any(amount < ZERO for amount in patient_side):
        raise UnbalancedLine(f"{where}: a negative patient share, payment or write-off")
    if line.balance < ZERO:
        raise UnbalancedLine(
            f"{where}: patient paid {line.patient_paid} and wrote off {line.written_off} "
            f"beyond the patient's share {line.patient_share}"
        )
    payer_side = sum(line.paid_by_payer.values(), ZERO) + line.payer_adjustments
    total = payer_side + line.patient_paid + line.written_off + line.balance
    if total != line.charge:
        raise UnbalancedLine(
            f"{where}: charge {line.charge} != paid by payers and adjusted {payer_side} + "
            f"patient paid {line.patient_paid} + written off {line.written_off} + "
            f"balance {line.balance}"
        )
