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

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, NamedTuple

from pydantic import AfterValidator, Field

from cob.model import Model, Remittance
from cob.money import ZERO, LineAccount, UnbalancedLine, cents
from cob.statements import NOT_COVERED, responsibility_by_kind


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


def _exact_to_the_cent(amount: Decimal) -> Decimal:
    if amount != cents(amount):
        raise ValueError(f"{amount} is not exact to the cent")
    return amount


class PatientPayment(Model):
    """A payment from the patient (or guarantor); payment_id makes posting it idempotent."""

    payment_id: str
    amount: Annotated[Decimal, Field(gt=0), AfterValidator(_exact_to_the_cent)]
    received_on: date
    method: Literal["card", "check", "cash"]
    reference: str = ""
    by: str = ""  # who posted it, for the audit trail
    encounter_id: str | None = None  # the encounter the payer designated, if any
    applied: list[Applied] = Field(default_factory=list)  # apply_payment's answer


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


def patient_share(line: AccountLine) -> Decimal:
    """What the payers left the patient on the line, all kinds together."""
    return line.patient_share


def line_balance(line: AccountLine) -> Decimal:
    """What the patient still owes on the line: share less paid less written off."""
    return line.balance


def account_balance(lines: Sequence[AccountLine]) -> Decimal:
    """What the patient owes on the whole account (the credit is apart: it is the patient's)."""
    return sum((line.balance for line in lines), ZERO)


def check_account(
    lines: Sequence[AccountLine],
    credit: Decimal,
    payments: Sequence[PatientPayment],
    refunded: Decimal,
) -> None:
    """Raise UnbalancedLine unless every line balances and every patient payment received is
    on a line, in the credit or refunded: Σ payments = Σ patient paid + credit + refunded."""
    for line in lines:
        check_line(line)
    if credit < ZERO:
        raise UnbalancedLine(f"a negative credit {credit}")
    received = sum((payment.amount for payment in payments), ZERO)
    on_lines = sum((line.patient_paid for line in lines), ZERO)
    if received != on_lines + credit + refunded:
        raise UnbalancedLine(
            f"patient payments {received} != paid on lines {on_lines} + credit {credit} + "
            f"refunded {refunded}"
        )


def account_lines(
    encounter_id: str,
    service_date: date,
    line_accounts: Sequence[LineAccount],
    remittances: list[Remittance],
) -> list[AccountLine]:
    """A closed encounter's lines for the patient's account, from the engine's per-line
    accounts (cob.money.account_line) and the payers' remittances in payer order; the
    patient's share is split by kind from the last payer's PR (cob.statements). A line no
    payer adjudicated (self-pay, or every payer gone) is the patient's whole charge, not
    covered."""
    lines = []
    for account in line_accounts:
        responsibility = responsibility_by_kind(remittances, account.line_number)
        if not responsibility and account.patient_responsibility > ZERO:
            responsibility = {NOT_COVERED: account.patient_responsibility}
        line = AccountLine(
            encounter_id=encounter_id,
            service_date=service_date,
            line_number=account.line_number,
            procedure_code=account.procedure_code,
            charge=account.charge,
            paid_by_payer=dict(account.paid_by_payer),
            payer_adjustments=account.adjustments,
            responsibility=responsibility,
        )
        if line.patient_share != account.patient_responsibility:
            raise UnbalancedLine(
                f"encounter {encounter_id} line {account.line_number}: the patient's share by "
                f"kind {line.patient_share} != the line's patient responsibility "
                f"{account.patient_responsibility}"
            )
        check_line(line)
        lines.append(line)
    return lines


def oldest_first(line: AccountLine) -> tuple[date, str, int]:
    """The order money goes onto an account: oldest date of service, then encounter, then
    line (industry practice: the oldest balance is paid first)."""
    return line.service_date, line.encounter_id, line.line_number


def _spread(
    lines: Sequence[AccountLine],
    amount: Decimal,
    take: Callable[[AccountLine, Decimal], AccountLine],
    first: str | None = None,
    only: str | None = None,
) -> tuple[list[AccountLine], Decimal, list[Applied]]:
    """Put `amount` on the open balances, oldest first, each line up to its balance: the
    encounter `first` before the others, or the encounter `only` and no other. Returns the
    lines (in their order), what is left and where it went; `take(line, part)` books a part."""
    result = list(lines)
    order = sorted(
        (i for i, line in enumerate(result) if only in (None, line.encounter_id)),
        key=lambda i: (result[i].encounter_id != first, oldest_first(result[i])),
    )
    left = amount
    applied: list[Applied] = []
    for i in order:
        part = min(left, result[i].balance)
        if part <= ZERO:
            continue
        result[i] = take(result[i], part)
        check_line(result[i])
        applied.append(Applied(result[i].encounter_id, result[i].line_number, part))
        left -= part
    return result, left, applied


def _paid(line: AccountLine, part: Decimal) -> AccountLine:
    return line.model_copy(update={"patient_paid": line.patient_paid + part}, deep=True)


def apply_payment(
    lines: Sequence[AccountLine], credit: Decimal, payment: PatientPayment
) -> tuple[list[AccountLine], Decimal, list[Applied]]:
    """Apply a patient payment: to the encounter it designates first, then to the other open
    balances oldest date of service first (a designated encounter already settled, or not on
    the account, does not keep the money from the rest: industry practice applies it to the
    oldest balance), line by line; what is beyond every balance joins the credit, never
    dropped. Returns the lines, the credit and where the payment went. Posting a payment only
    once (its payment_id) is the caller's."""
    result, left, applied = _spread(lines, payment.amount, _paid, payment.encounter_id)
    return result, credit + left, applied


def apply_credit(
    lines: Sequence[AccountLine], credit: Decimal
) -> tuple[list[AccountLine], Decimal, list[Applied]]:
    """The account's credit pays its open balances, oldest first, before any refund is due;
    the credit returned is what is left to refund."""
    return _spread(lines, credit, _paid)


def write_off(
    lines: Sequence[AccountLine],
    reason: str,
    amount: Decimal | None = None,
    encounter_id: str | None = None,
) -> tuple[list[AccountLine], list[Applied]]:
    """Write off `amount` (None: the whole balance) of an encounter's balance (None: the
    account's), oldest first, under `reason` ("prompt_pay", "small_balance",
    "financial_assistance", "dispute", "bad_debt", "nsa"...). Raises ValueError for an amount
    that is not exact to the cent or beyond the open balance: a write-off never makes a
    credit."""
    owed = account_balance([ln for ln in lines if encounter_id in (None, ln.encounter_id)])
    wanted = owed if amount is None else _exact_to_the_cent(amount)
    if wanted < ZERO or wanted > owed:
        raise ValueError(f"write-off {reason} of {wanted}: the open balance is {owed}")

    def book(line: AccountLine, part: Decimal) -> AccountLine:
        write_offs = dict(line.write_offs)
        write_offs[reason] = write_offs.get(reason, ZERO) + part
        return line.model_copy(update={"write_offs": write_offs}, deep=True)

    written, _, applied = _spread(lines, wanted, book, only=encounter_id)
    return written, applied


def repost_line(
    line: AccountLine,
    new_paid_by_payer: dict[str, Decimal],
    new_payer_adjustments: Decimal,
    new_responsibility: dict[str, Decimal],
) -> tuple[AccountLine, Decimal]:
    """A late payer 835 or a reversal changes the line's payer side, so the patient's share is
    recomputed. A larger share raises the balance. When what the patient paid and what was
    written off now exceed the new share, the excess comes off the write-offs first, the
    latest taken first (they were taken against a share that no longer exists), then off
    what the patient paid: that much is freed, to become the account's credit (a refund,
    or an open balance elsewhere). Returns the line and what was freed (≥ 0). Raises
    UnbalancedLine when the new payer side and share do not make the charge."""
    share = sum(new_responsibility.values(), ZERO)
    excess = line.patient_paid + line.written_off - share
    write_offs = dict(line.write_offs)
    for reason in reversed(list(write_offs)):
        if excess <= ZERO:
            break
        back = min(excess, write_offs[reason])
        write_offs[reason] -= back
        if write_offs[reason] == ZERO:
            del write_offs[reason]
        excess -= back
    freed = max(excess, ZERO)
    reposted = line.model_copy(
        update={
            "paid_by_payer": dict(new_paid_by_payer),
            "payer_adjustments": new_payer_adjustments,
            "responsibility": dict(new_responsibility),
            "patient_paid": line.patient_paid - freed,
            "write_offs": write_offs,
        },
        deep=True,
    )
    check_line(reposted)
    return reposted, freed


AGING_BUCKETS = ("current", "31-60", "61-90", "91+")


def aging_bucket(days: int) -> str:
    """Days since the encounter was first billed to the patient -> its aging bucket
    (industry practice: 30-day buckets from the first statement)."""
    if days <= 30:
        return "current"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "91+"


def aging(
    lines: Sequence[AccountLine], first_billed: dict[str, date], as_of: date
) -> dict[str, Decimal]:
    """The open balance by aging bucket (current, 31-60, 61-90, 91+), each encounter aged from
    the date it was first billed to the patient; an encounter not yet billed is current (the
    statement being made bills it first). Every bucket is present, zero or not."""
    buckets = dict.fromkeys(AGING_BUCKETS, ZERO)
    for line in lines:
        billed = first_billed.get(line.encounter_id, as_of)
        buckets[aging_bucket((as_of - billed).days)] += line.balance
    return buckets
