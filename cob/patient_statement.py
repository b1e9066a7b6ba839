"""What a patient statement says: one statement per guarantor's account, every open date of
service on it, and the notices that go with the cycle's step. The layout (text, PDF) is
activities/statement_pdf.py's; this module decides the content and checks that it adds up.

No single federal rule sets a statement's content for every provider: the items are industry
practice, with the notices the sources named below require. The statement never says "This
is not a bill" (that phrase is for a payer's explanation of benefits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, NamedTuple

from pydantic import AfterValidator, Field

from cob.accounts import AccountLine, PatientPayment, aging, check_line, oldest_first
from cob.dunning import NOTICES, PPDR_THRESHOLD, DunningStep, PracticePolicy, ppdr
from cob.model import Model
from cob.money import ZERO, cents
from cob.statements import NOT_COVERED, PR_KINDS

SHARE_KINDS = (*PR_KINDS.values(), NOT_COVERED)  # the order a line's share is shown in
TITLES = {
    DunningStep.STATEMENT: "Statement",
    DunningStep.PAST_DUE: "Past due",
    DunningStep.SECOND_NOTICE: "Second notice",
    DunningStep.FINAL_NOTICE: "Final notice",
}
WRITE_OFF_LABELS = {
    "prompt_pay": "prompt-pay discount",
    "small_balance": "small-balance adjustment",
    "financial_assistance": "financial assistance",
    "dispute": "dispute adjustment",
    "bad_debt": "bad debt",
}
# The federal No Surprises Help Desk, named by CMS's model notices (45 CFR 149.430, 149.610).
NSA_HELP = "1-800-985-3059 or www.cms.gov/nosurprises"
PPDR_FEE = Decimal("25.00")  # 45 CFR 149.620(c): the administrative fee the patient pays


def _printable(text: str) -> str:
    """Text a statement prints in its core fonts (Latin-1, ISO 8859-1), without control
    characters: a name or a practice's wording that could not be printed fails here, naming
    its field, rather than when the statement is rendered."""
    for character in text:
        if ord(character) > 0xFF or not character.isprintable():
            raise ValueError(f"holds {character!r}, which a statement cannot print (Latin-1 only)")
    return text


Printable = Annotated[str, AfterValidator(_printable)]


class UnreconciledStatement(ValueError):
    """A statement whose amounts do not add up: it is never sent."""


class ProviderContact(Model):
    """Who bills, and how the patient reaches them."""

    name: Printable
    address: Printable
    phone: Printable
    portal_url: Printable = ""
    hours: Printable = ""


class GoodFaithEstimate(Model):
    """A self-pay encounter's Good Faith Estimate (45 CFR 149.610), as the statement cites it."""

    reference: Printable
    total: Decimal = Field(ge=0)


class EstimateNotice(Model):
    """A self-pay encounter's bill against its Good Faith Estimate: eligible for the
    patient-provider dispute process (45 CFR 149.620) when `dispute_by` is set."""

    reference: Printable
    estimate_total: Decimal
    billed_total: Decimal
    bill_date: date
    dispute_by: date | None


class PayerPayment(Model):
    payer_id: str
    payer_name: Printable
    amount: Decimal


class StatementLine(Model):
    """One service line as the patient reads it, its patient side from cob.accounts."""

    line_number: int
    procedure_code: str
    description: Printable
    charge: Decimal
    paid_by_payers: list[PayerPayment]  # in payer order, primary first
    adjustments: Decimal  # the payers' contractual and other adjustments: not the patient's
    patient_share: dict[str, Decimal]  # by kind, in SHARE_KINDS order
    patient_paid: Decimal
    write_offs: dict[str, Decimal]  # reason -> amount
    balance: Decimal


class EncounterSection(Model):
    """A date of service: one encounter's lines."""

    encounter_id: str
    service_date: date
    patient: Printable
    lines: list[StatementLine]
    balance: Decimal
    estimate: EstimateNotice | None = None


class ReceivedPayment(Model):
    received_on: date
    method: str
    amount: Decimal


class FinalNotice(Model):
    """What happens to the balance on `on` unless it is paid or arranged."""

    action: Literal["collections", "bad_debt"]
    on: date
    credit_reporting: bool  # the collection actions named include a credit report


class Statement(Model):
    account_id: Printable
    step: DunningStep
    statement_date: date
    due_date: date
    guarantor: Printable
    patients: list[Printable]
    provider: ProviderContact
    encounters: list[EncounterSection]
    previous_balance: Decimal
    payments: list[ReceivedPayment]  # received since the last statement
    payments_total: Decimal
    activity: Decimal  # charges, payer changes and adjustments since the last statement
    amount_due: Decimal
    aging: dict[str, Decimal]  # bucket -> amount, from the date each encounter was billed
    payment_phone: Printable
    payment_url: Printable
    payment_mail_address: Printable
    prompt_pay_amount: Decimal | None = None  # what settles the account by the due date
    prompt_pay_percent: Decimal | None = None
    plan_min_installment: Decimal | None = None  # a payment plan offered, from this amount
    final_notice: FinalNotice | None = None
    financial_assistance_phone: Printable
    financial_assistance_url: Printable
    nonprofit_hospital: bool  # the assistance notice is conspicuous (26 CFR 1.501(r)-4(b)(5))
    assistance_deadline: date | None = None  # applications taken until (26 CFR 1.501(r)-1(b))


class Notice(NamedTuple):
    title: str
    text: str
    conspicuous: bool = False


def build_statement(
    *,
    account_id: str,
    guarantor: str,
    patients: Mapping[str, str],
    provider: ProviderContact,
    lines: Sequence[AccountLine],
    payer_names: Mapping[str, str],
    payments: Sequence[PatientPayment],
    previous_statement_date: date | None,
    previous_balance: Decimal,
    first_billed: Mapping[str, date],
    statement_date: date,
    due_date: date,
    step: DunningStep,
    policy: PracticePolicy,
    collections_on: date | None = None,
    assistance_deadline: date | None = None,
    estimates: Mapping[str, GoodFaithEstimate] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> Statement:
    """The statement for an account on `statement_date`: every encounter with an open balance
    (oldest date of service first) with all its lines, the payments received after the
    previous statement (all of them for the first), and the step's notices.

    `patients` names each encounter's patient, `first_billed` the date each encounter was first
    billed to the patient (aging, and the bill date of the dispute process; an encounter not in
    it is billed first by this statement), `estimates` the Good Faith Estimate of each self-pay
    encounter that has one, `descriptions` each procedure code in plain words. `collections_on` is the date the final notice names (required on it);
    `assistance_deadline` the last day a financial-assistance application is taken, shown for
    a nonprofit hospital. Raises UnreconciledStatement when the amounts do not add up, and
    ValueError for a step that is not a notice or an account that owes nothing."""
    if step not in NOTICES:
        raise ValueError(f"{step} is a collection step, not a statement")
    if step is DunningStep.FINAL_NOTICE and collections_on is None:
        raise ValueError("a final notice names the date of its action: collections_on is None")
    sections = _sections(
        lines,
        patients,
        payer_names,
        first_billed,
        estimates or {},
        descriptions or {},
        statement_date,
    )
    if not sections:
        raise ValueError(f"account {account_id} owes nothing on {statement_date}")
    open_lines = [line for line in lines if line.encounter_id in {s.encounter_id for s in sections}]
    received = [
        ReceivedPayment(received_on=p.received_on, method=p.method, amount=p.amount)
        for p in sorted(payments, key=lambda p: (p.received_on, p.payment_id))
        if (previous_statement_date is None or p.received_on > previous_statement_date)
        and p.received_on <= statement_date
    ]
    payments_total = sum((p.amount for p in received), ZERO)
    amount_due = sum((s.balance for s in sections), ZERO)
    discount = policy.prompt_pay_discount_percent
    # as cob.dunning.prompt_pay_discount grants it: paid in full by the first due date
    prompt_pay = step is DunningStep.STATEMENT and discount > ZERO
    statement = Statement(
        account_id=account_id,
        step=step,
        statement_date=statement_date,
        due_date=due_date,
        guarantor=guarantor,
        patients=list(dict.fromkeys(s.patient for s in sections)),
        provider=provider,
        encounters=sections,
        previous_balance=previous_balance,
        payments=received,
        payments_total=payments_total,
        activity=amount_due - previous_balance + payments_total,
        amount_due=amount_due,
        aging=aging(open_lines, dict(first_billed), statement_date),
        payment_phone=policy.payment_phone or provider.phone,
        payment_url=policy.payment_url or provider.portal_url,
        payment_mail_address=policy.payment_mail_address or provider.address,
        prompt_pay_amount=amount_due - cents(amount_due * discount / 100) if prompt_pay else None,
        prompt_pay_percent=discount if prompt_pay else None,
        plan_min_installment=(
            policy.plan_min_installment
            if step is DunningStep.SECOND_NOTICE and amount_due > policy.plan_min_installment
            else None
        ),
        final_notice=(
            FinalNotice(
                action=policy.final_action,
                on=collections_on,
                credit_reporting=policy.credit_reporting_allowed,
            )
            if step is DunningStep.FINAL_NOTICE and collections_on is not None
            else None
        ),
        financial_assistance_phone=policy.financial_assistance_phone or provider.phone,
        financial_assistance_url=policy.financial_assistance_url or provider.portal_url,
        nonprofit_hospital=policy.nonprofit_hospital,
        assistance_deadline=assistance_deadline if policy.nonprofit_hospital else None,
    )
    check_statement(statement)
    return statement


def _sections(
    lines: Sequence[AccountLine],
    patients: Mapping[str, str],
    payer_names: Mapping[str, str],
    first_billed: Mapping[str, date],
    estimates: Mapping[str, GoodFaithEstimate],
    descriptions: Mapping[str, str],
    statement_date: date,
) -> list[EncounterSection]:
    """The encounters with an open balance, oldest date of service first, each with all its
    lines (a settled line stays beside the open ones: the patient sees the whole visit)."""
    by_encounter: dict[str, list[AccountLine]] = {}
    for line in sorted(lines, key=oldest_first):
        check_line(line)
        by_encounter.setdefault(line.encounter_id, []).append(line)
    sections = []
    for encounter_id, encounter_lines in by_encounter.items():
        balance = sum((line.balance for line in encounter_lines), ZERO)
        if balance <= ZERO:
            continue
        estimate = estimates.get(encounter_id)
        sections.append(
            EncounterSection(
                encounter_id=encounter_id,
                service_date=encounter_lines[0].service_date,
                patient=patients[encounter_id],
                lines=[_line(line, payer_names, descriptions) for line in encounter_lines],
                balance=balance,
                estimate=(
                    None
                    if estimate is None
                    else _estimate(
                        estimate,
                        encounter_lines,
                        first_billed.get(encounter_id, statement_date),
                    )
                ),
            )
        )
    return sections


def _line(
    line: AccountLine, payer_names: Mapping[str, str], descriptions: Mapping[str, str]
) -> StatementLine:
    kinds = [*SHARE_KINDS, *sorted(set(line.responsibility) - set(SHARE_KINDS))]
    return StatementLine(
        line_number=line.line_number,
        procedure_code=line.procedure_code,
        description=descriptions.get(line.procedure_code, ""),
        charge=line.charge,
        paid_by_payers=[
            PayerPayment(
                payer_id=payer_id, payer_name=payer_names.get(payer_id, payer_id), amount=paid
            )
            for payer_id, paid in line.paid_by_payer.items()
        ],
        adjustments=line.payer_adjustments,
        patient_share={k: line.responsibility[k] for k in kinds if k in line.responsibility},
        patient_paid=line.patient_paid,
        write_offs=dict(line.write_offs),
        balance=line.balance,
    )


def _estimate(
    estimate: GoodFaithEstimate, lines: Sequence[AccountLine], bill_date: date
) -> EstimateNotice:
    """A self-pay encounter's bill (its charges) against its Good Faith Estimate; the dispute
    window, when the bill is far enough above it (45 CFR 149.620)."""
    billed = sum((line.charge for line in lines), ZERO)
    status = ppdr(estimate.total, billed, bill_date)
    return EstimateNotice(
        reference=estimate.reference,
        estimate_total=estimate.total,
        billed_total=billed,
        bill_date=bill_date,
        dispute_by=None if status is None else status.deadline,
    )


def _unreconciled(what: str, stated: Decimal, computed: Decimal) -> None:
    if stated != computed:
        raise UnreconciledStatement(f"{what}: stated {stated}, adds up to {computed}")


def check_statement(statement: Statement) -> None:
    """Raise UnreconciledStatement unless every amount on the statement adds up, to the cent:
    each line (charge = payers' payments + adjustments + patient paid + write-offs + balance,
    and balance = patient's share - patient paid - write-offs, never negative), each date of
    service's balance, the amount due (Σ balances, and Σ aging buckets), the payments' total
    and the summary (previous balance - payments + activity = amount due)."""
    for section in statement.encounters:
        for line in section.lines:
            _check_line(section.encounter_id, line)
        _unreconciled(
            f"encounter {section.encounter_id} balance",
            section.balance,
            sum((line.balance for line in section.lines), ZERO),
        )
    due = statement.amount_due
    _unreconciled("amount due", due, sum((s.balance for s in statement.encounters), ZERO))
    _unreconciled("aging buckets", due, sum(statement.aging.values(), ZERO))
    _unreconciled(
        "payments since the last statement",
        statement.payments_total,
        sum((p.amount for p in statement.payments), ZERO),
    )
    _unreconciled(
        "summary",
        due,
        statement.previous_balance - statement.payments_total + statement.activity,
    )
    for amount in (due, statement.previous_balance, statement.activity):
        if amount != cents(amount):
            raise UnreconciledStatement(f"{amount} on the statement is not exact to the cent")


def _check_line(encounter_id: str, line: StatementLine) -> None:
    where = f"encounter {encounter_id} line {line.line_number}"
    written_off = sum(line.write_offs.values(), ZERO)
    share = sum(line.patient_share.values(), ZERO)
    _unreconciled(f"{where} balance", line.balance, share - line.patient_paid - written_off)
    paid = sum((p.amount for p in line.paid_by_payers), ZERO)
    _unreconciled(
        f"{where} charge",
        line.charge,
        paid + line.adjustments + line.patient_paid + written_off + line.balance,
    )
    if line.balance < ZERO:
        raise UnreconciledStatement(f"{where}: a negative balance {line.balance}")


def write_off_label(reason: str) -> str:
    return WRITE_OFF_LABELS.get(reason, reason.replace("_", " "))


def money(amount: Decimal) -> str:
    return f"-${-amount:,.2f}" if amount < ZERO else f"${amount:,.2f}"


def long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def notices(statement: Statement) -> list[Notice]:
    """What the statement tells the patient besides the amounts, in the order it is read: how
    to pay (and the step's offer or warning), financial assistance, questions and disputes,
    each self-pay encounter's Good Faith Estimate, and the surprise-billing protections."""
    found = [_how_to_pay(statement)]
    if statement.plan_min_installment is not None:
        found.append(
            Notice(
                "Payment plan",
                "If you cannot pay the whole balance at once, you can pay it in monthly "
                f"installments of {money(statement.plan_min_installment)} or more. Call "
                f"{statement.payment_phone} to set up a plan; while you keep to it, we send "
                "no further notices.",
            )
        )
    if statement.final_notice is not None:
        found.append(_final_notice(statement.final_notice))
    found += [
        _financial_assistance(statement),
        _questions(statement.provider),
        *[
            _estimate_notice(section.service_date, section.estimate)
            for section in statement.encounters
            if section.estimate is not None
        ],
        # 45 CFR 149.430: the disclosure of the balance-billing protections, after CMS's model.
        Notice(
            "Your rights and protections against surprise medical bills",
            "When you get emergency care or are treated by an out-of-network provider at an "
            "in-network hospital or ambulatory surgical center, you are protected from surprise "
            "billing or balance billing: you should not be charged more than your plan's "
            "copayments, coinsurance and deductible. If you think you have been wrongly billed, "
            f"contact the No Surprises Help Desk at {NSA_HELP}.",
        ),
    ]
    return found


def _how_to_pay(statement: Statement) -> Notice:
    ways = []
    if statement.payment_url:
        ways.append(f"Online at {statement.payment_url}.")
    if statement.payment_phone:
        ways.append(f"By phone at {statement.payment_phone}.")
    ways.append(
        f"By mail: a check payable to {statement.provider.name}, with account number "
        f"{statement.account_id}, to {statement.payment_mail_address}."
    )
    if statement.prompt_pay_amount is not None:
        ways.append(
            f"Pay in full by {long_date(statement.due_date)} and pay only "
            f"{money(statement.prompt_pay_amount)}: a {statement.prompt_pay_percent}% "
            "prompt-pay discount."
        )
    return Notice("How to pay", " ".join(ways))


def _final_notice(final: FinalNotice) -> Notice:
    by = long_date(final.on)
    if final.action == "bad_debt":
        text = (
            f"Please pay the balance, set up a payment plan or apply for financial assistance "
            f"by {by}. This is the last statement we will send for this balance."
        )
    else:
        reported = (
            " and may be reported to consumer credit reporting agencies"
            if final.credit_reporting
            else ""
        )
        text = (
            f"Unless the balance is paid, a payment plan is set up or a financial-assistance "
            f"application is made by {by}, the account will be referred to a collection "
            f"agency{reported}."
        )
    return Notice("Final notice", text, conspicuous=True)


def _financial_assistance(statement: Statement) -> Notice:
    """The financial-assistance notice; a nonprofit hospital's is conspicuous on every statement
    (26 CFR 1.501(r)-4(b)(5)), names where a plain-language summary of its policy is
    (1.501(r)-6(c)(4)) and how long applications are taken (1.501(r)-1(b))."""
    text = (
        "You may qualify for free or discounted care based on your income. Ask for our "
        f"financial assistance policy and an application: call "
        f"{statement.financial_assistance_phone}"
    )
    if statement.financial_assistance_url:
        text += f" or visit {statement.financial_assistance_url}"
    text += "."
    if statement.nonprofit_hospital:
        text += " A plain-language summary of the policy is available the same way."
    if statement.assistance_deadline is not None:
        text += (
            f" We accept applications until {long_date(statement.assistance_deadline)}, and "
            "pause collection on this account while one is pending."
        )
    return Notice("Financial assistance", text, conspicuous=statement.nonprofit_hospital)


def _questions(provider: ProviderContact) -> Notice:
    hours = f" ({provider.hours})" if provider.hours else ""
    return Notice(
        "Questions or disputes",
        f"If you have a question about this bill or think it is wrong, call us at "
        f"{provider.phone}{hours} or write to {provider.name}, {provider.address}. You may "
        "ask for an itemized bill. While we review a dispute, we pause collection on this "
        "account.",
    )


def _estimate_notice(service_date: date, estimate: EstimateNotice) -> Notice:
    """A self-pay encounter's Good Faith Estimate (45 CFR 149.610) and the patient-provider
    dispute process (45 CFR 149.620), with its deadline when this bill qualifies."""
    text = (
        f"For your care on {long_date(service_date)} you received Good Faith Estimate "
        f"{estimate.reference} of {money(estimate.estimate_total)}; this bill is "
        f"{money(estimate.billed_total)}. "
    )
    if estimate.dispute_by is None:
        text += (
            f"If a bill is at least {money(PPDR_THRESHOLD)} more than your Good Faith "
            "Estimate, you can dispute it."
        )
    else:
        over = estimate.billed_total - estimate.estimate_total
        text += (
            f"It is {money(over)} more than the estimate, so you can dispute it: start the "
            f"patient-provider dispute resolution process by {long_date(estimate.dispute_by)} "
            f"(120 calendar days from the bill of {long_date(estimate.bill_date)}). There is a "
            f"{money(PPDR_FEE)} fee. We will not send this bill to collections before then."
        )
    return Notice("Your Good Faith Estimate", f"{text} Learn more: {NSA_HELP}.", conspicuous=True)
