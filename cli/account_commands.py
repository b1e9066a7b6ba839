"""`cob payment post`, `cob account` and `cob statements`: a guarantor's patient account as
the billing team works it. Finding the account, building what is sent and shaping what is
shown live in cli/accounts.py, which the API shares; these commands parse, call and print.

Who acts (`by`, where the message carries one) is COB_USER or the login name. Exit codes: 0
done; 1 the account refuses (its reason is printed: a payment dated after today, a refund
beyond the credit, ...) or a part cannot be reached; 2 bad input (an amount, a date, an id,
no such account).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
import typer
from typer.core import TyperGroup

from cli.terminal import errors, run

if TYPE_CHECKING:
    from pydantic import BaseModel
    from temporalio.client import Client

    from contract.accounts import AccountStatus, PaymentReceipt

T = TypeVar("T")
EXIT_REFUSED, EXIT_BAD_INPUT = 1, 2

ACCOUNT = typer.Argument(
    ...,
    help="the account: its id (A1B2C3D4E5), its workflow id (account-A1B2C3D4E5), or an "
    "encounter billed to it (E1001)",
)
JSON = typer.Option(False, "--json", help="print one JSON document on stdout (what the API serves)")


class AccountCommands(TyperGroup):
    """`cob account ACCOUNT` shows the account; `cob account dispute ACCOUNT ...` and the other
    subcommands act on it."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().resolve_command(ctx, args)


payment_app = typer.Typer(no_args_is_help=True, help="Post a patient payment to an account")
account_app = typer.Typer(
    cls=AccountCommands,
    no_args_is_help=True,
    help="A patient account: `cob account ACCOUNT` shows it; the subcommands record a "
    "dispute and its resolution, a payment plan, a refund paid, an assistance application and "
    "its decision (exit 1 the account refuses, 2 bad input).",
)


def _fail(message: str, code: int) -> typer.Exit:
    errors.print(message, markup=False, highlight=False)
    return typer.Exit(code)


def _on_account(account: str, not_done: str, act: Callable[[Client, str], Awaitable[T]]) -> T:
    """Find the account and do `act` on it; each refusal one line ("`not_done`: why") and its
    exit code."""
    from cli.accounts import AccountNotFound, AccountRefused, account_id_of
    from cob.validation import InvalidInput
    from ledger.db import make_engine
    from workers.temporal import connect

    async def go() -> T:
        account_id = account_id_of(make_engine(), account)
        return await act(await connect(), account_id)

    try:
        return run(go())  # type: ignore[return-value]
    except (InvalidInput, AccountNotFound) as error:
        raise _bad_input(error, not_done) from None
    except AccountRefused as error:
        raise _fail(f"{not_done}: {error}" if not_done else str(error), EXIT_REFUSED) from None


def _by() -> str:
    from workers.temporal import current_user

    return current_user()


def _bad_input(error: Exception, not_done: str) -> typer.Exit:
    return _fail(f"{not_done}: {error}" if not_done else str(error), EXIT_BAD_INPUT)


# --- cob payment post ---


@payment_app.command("post")
def post(
    account: str = ACCOUNT,
    amount: str = typer.Argument(..., help="the amount paid, e.g. 40.00 (exact to the cent)"),
    encounter: str | None = typer.Option(
        None, help="the encounter the payer designated (else the oldest balance is paid first)"
    ),
    method: str = typer.Option("card", help="card, check or cash"),
    reference: str = typer.Option(
        "", help="the check number or card authorization; with --method it names the payment"
    ),
    received_on: str | None = typer.Option(None, help="YYYY-MM-DD (default: today, UTC)"),
    payment_id: str | None = typer.Option(
        None, "--id", help="the payment's id, to post a payment again after a cut-off run"
    ),
    json_output: bool = JSON,
) -> None:
    """Post a patient payment: to the designated encounter, else the oldest date of service
    first, line by line; what is beyond every balance becomes credit (and a refund task).
    The same payment id posted again changes nothing and says "already posted"."""
    from cli.accounts import (
        parse_amount,
        parse_day,
        patient_payment,
        payment_id_for,
        post_payment,
        receipt_view,
    )
    from cli.views import json_text
    from cob.validation import InvalidInput

    not_done = "payment not posted"
    try:
        chosen = payment_id_for(method, reference, payment_id)
        payment = patient_payment(parse_amount("amount", amount), method, reference,
                                  parse_day("received_on", received_on), encounter, chosen,
                                  _by())  # fmt: skip
    except InvalidInput as error:
        raise _bad_input(error, not_done) from None
    if not payment_id and not reference:  # a new id: shown first, so a retry can name it
        errors.print(f"payment id {chosen} (if this run is cut off, post it again with --id {chosen})",
                     markup=False, highlight=False)  # fmt: skip
    receipt = _on_account(account, not_done,
                          lambda client, account_id: post_payment(client, account_id, payment))  # fmt: skip
    if json_output:
        print(json_text(receipt_view(receipt)))
    else:
        _print_receipt(receipt)


def _print_receipt(receipt: PaymentReceipt) -> None:
    if receipt.duplicate:
        print(f"already posted: payment {receipt.payment_id} of {receipt.amount}; its receipt:")
    else:
        print(f"posted payment {receipt.payment_id} of {receipt.amount}")
    for applied in receipt.applied:
        print(f"  {applied.encounter_id} line {applied.line_number}: {applied.amount}")
    to_credit = receipt.amount - sum((a.amount for a in receipt.applied), Decimal("0.00"))
    if to_credit > 0:
        print(f"  to credit: {to_credit}")
    print(f"balance {receipt.balance}, credit {receipt.credit}")


# --- cob account ACCOUNT ---


@account_app.command("show")
def show(account: str = ACCOUNT, json_output: bool = JSON) -> None:
    """The account: balance, credit and refund due; the collection cycle (its start, the next
    step and its date, or what holds it); plan, disputes, applications; statements;
    encounters. `cob account ACCOUNT` is the same."""
    from cli.accounts import account_status, account_view
    from cli.views import json_text

    status = _on_account(account, "", account_status)
    if json_output:
        print(json_text(account_view(status)))
        return
    print(f"account {status.account_id}")
    for line in status_lines(status):
        print(line)


def status_lines(status: AccountStatus) -> list[str]:
    """The account as a person reads it, one fact a line."""
    lines = [
        f"  balance {status.balance}, credit {status.credit}, refund due {status.refund_due}",
        f"  cycle: {_cycle(status)}",
    ]
    if status.plan is not None:
        plan, standing = status.plan, status.plan_standing
        where = f": {standing.status}" if standing else ""
        if standing is not None and standing.status == "reminder":
            where += f", {standing.past_due} past due since {standing.due}, defaults on {standing.defaults_on}"
        lines.append(f"  plan {plan.plan_id}: {plan.total} in {plan.installment_count} "
                     f"installment(s) on day {plan.day_of_month} from {plan.start}{where}")  # fmt: skip
    for encounter, ppdr in status.ppdr.items():
        lines.append(f"  {encounter} may be disputed until {ppdr.deadline}: billed "
                     f"{ppdr.billed_total}, {ppdr.excess} over its Good Faith Estimate "
                     f"{ppdr.gfe_total} (45 CFR 149.620)")  # fmt: skip
    lines.append(f"  encounters: {', '.join(status.encounters) or 'none'}")
    lines.append(f"  statements: {len(status.statements) or 'none'}")
    lines += [f"    {on}  {step.value}" for on, step in status.statements]
    return lines


def _cycle(status: AccountStatus) -> str:
    holds = [f"dispute {d}" for d in status.open_disputes]
    holds += [f"payment plan {status.plan.plan_id}"] if status.plan is not None else []
    holds += [f"assistance application {a}" for a in status.assistance_pending]
    if status.paused:
        return f"paused by {', '.join(holds)}"
    if status.cycle_start is None:
        return "none running" + (" (nothing owed)" if status.balance == 0 else "")
    coming = (f"next {status.next_step.value} on {status.next_step_on}"
              if status.next_step is not None else "no step left")  # fmt: skip
    return f"since {status.cycle_start}, {status.steps_taken} step(s) taken; {coming}"


# --- what people tell the account ---


def _after(done: str, status: AccountStatus) -> None:
    print(f"{done} (account {status.account_id})")
    for line in status_lines(status)[:2]:
        print(line)


def _update(account: str, not_done: str, update_name: str, message: BaseModel) -> AccountStatus:
    """Send the account's update `update_name` (PatientAccountWorkflow's) with `message`; the
    account's status after it."""
    from cli.accounts import send_update
    from workflows.patient_account import PatientAccountWorkflow

    update = getattr(PatientAccountWorkflow, update_name)
    return _on_account(account, not_done,
                       lambda client, account_id: send_update(client, account_id, update, message))  # fmt: skip


@account_app.command("dispute")
def dispute(
    account: str = ACCOUNT,
    dispute_id: str = typer.Option(..., "--id", help="the dispute's id, e.g. D1"),
    reason: str = typer.Option(..., help="what the guarantor disputes, in their words"),
) -> None:
    """Record the guarantor's dispute: the cycle stands still and a task asks for a decision."""
    from cob.validation import InvalidInput, parse_input
    from contract.accounts import Dispute

    not_done = "dispute not opened"
    try:
        opened = parse_input(Dispute, {"dispute_id": dispute_id, "reason": reason, "by": _by()})
    except InvalidInput as error:
        raise _bad_input(error, not_done) from None
    status = _update(account, not_done, "open_dispute", opened)
    _after(f"dispute {dispute_id} open: the cycle waits for its resolution", status)


@account_app.command("resolve")
def resolve(
    account: str = ACCOUNT,
    dispute_id: str = typer.Option(..., "--id", help="the open dispute"),
    upheld: bool = typer.Option(False, "--upheld", help="the bill stands"),
    adjusted: str | None = typer.Option(None, "--adjusted", help="AMOUNT written off"),
    encounter: str | None = typer.Option(None, help="the encounter the write-off is on"),
    note: str = typer.Option("", help="why, for the audit trail"),
) -> None:
    """Resolve a dispute: --upheld (the bill stands) or --adjusted AMOUNT (written off); the
    cycle resumes where it paused."""
    from cli.accounts import parse_amount
    from cli.views import encounter_id
    from cob.validation import InvalidInput, parse_input
    from contract.accounts import DisputeResolution

    not_done = "dispute not resolved"
    if upheld == (adjusted is not None):
        raise _fail(f"{not_done}: give --upheld or --adjusted AMOUNT", EXIT_BAD_INPUT)
    try:
        fields = {"dispute_id": dispute_id, "outcome": "upheld" if upheld else "adjusted",
                  "amount": parse_amount("amount", adjusted) if adjusted else Decimal("0.00"),
                  "encounter_id": encounter_id(encounter) if encounter else None,
                  "note": note, "by": _by()}  # fmt: skip
        resolution = parse_input(DisputeResolution, fields)
    except InvalidInput as error:
        raise _bad_input(error, not_done) from None
    status = _update(account, not_done, "resolve_dispute", resolution)
    _after(f"dispute {dispute_id} resolved: {resolution.outcome}", status)


@account_app.command("plan")
def plan(
    account: str = ACCOUNT,
    installments: int | None = typer.Option(None, help="the number of monthly installments"),
    monthly: str | None = typer.Option(None, help="AMOUNT paid each month"),
    day: int = typer.Option(..., help="the day of the month (29-31: the last day when shorter)"),
    start: str | None = typer.Option(None, help="YYYY-MM-DD the plan is agreed (default: today)"),
    plan_id: str | None = typer.Option(None, "--id", help="the plan's id (default: a new one)"),
) -> None:
    """Set a payment plan for what the account owes: --installments N or --monthly AMOUNT, on
    a day of the month. The cycle stands still while it is kept."""
    from cli.accounts import new_plan_id, parse_amount, parse_day, set_plan
    from cob.dunning import plan_schedule
    from cob.validation import InvalidInput

    not_done = "plan not set"
    if (installments is None) == (monthly is None):
        raise _fail(f"{not_done}: give --installments N or --monthly AMOUNT", EXIT_BAD_INPUT)
    try:
        terms = {"plan_id": plan_id or new_plan_id(), "installments": installments,
                 "monthly_amount": parse_amount("monthly_amount", monthly) if monthly else None,
                 "day_of_month": day, "start": parse_day("start", start), "by": _by()}  # fmt: skip
    except InvalidInput as error:
        raise _bad_input(error, not_done) from None

    status = _on_account(account, not_done,
                         lambda client, account_id: set_plan(client, account_id, terms))  # fmt: skip
    assert status.plan is not None
    dues = ", ".join(f"{amount} on {due}" for due, amount in plan_schedule(status.plan))
    _after(f"plan {status.plan.plan_id} set for {status.plan.total}: {dues}", status)


@account_app.command("refunded")
def refunded(
    account: str = ACCOUNT,
    amount: str = typer.Argument(..., help="the amount paid back, e.g. 30.00"),
    reference: str = typer.Option(..., help="the refund check's number or the card refund's id"),
    on: str | None = typer.Option(None, help="YYYY-MM-DD it was paid back (default: today)"),
) -> None:
    """Record a refund of the account's credit paid back to the guarantor; the refund task
    closes once nothing more is due."""
    from cli.accounts import parse_amount, parse_day
    from cob.validation import InvalidInput, parse_input
    from contract.accounts import RefundMade

    not_done = "refund not recorded"
    try:
        refund = parse_input(RefundMade, {"amount": parse_amount("amount", amount),
                                          "on": parse_day("on", on), "reference": reference,
                                          "by": _by()})  # fmt: skip
    except InvalidInput as error:
        raise _bad_input(error, not_done) from None
    status = _update(account, not_done, "refund_made", refund)
    _after(f"refund of {refund.amount} recorded ({refund.reference})", status)


@account_app.command("assistance")
def assistance(
    account: str = ACCOUNT,
    application_id: str = typer.Option(..., "--id", help="the application's id, e.g. FA1"),
    received_on: str | None = typer.Option(None, help="YYYY-MM-DD (default: today)"),
) -> None:
    """Record a financial-assistance application: the cycle waits for its decision (a
    nonprofit hospital takes them until day 240, 26 CFR 1.501(r)-6)."""
    from cli.accounts import parse_day
    from cob.validation import InvalidInput, parse_input
    from contract.accounts import AssistanceApplication

    not_done = "application not recorded"
    try:
        application = parse_input(AssistanceApplication, {
            "application_id": application_id,
            "received_on": parse_day("received_on", received_on), "by": _by()})  # fmt: skip
    except InvalidInput as error:
        raise _bad_input(error, not_done) from None
    status = _update(account, not_done, "apply_for_assistance", application)
    _after(f"assistance application {application_id} pending: the cycle waits for it", status)


@account_app.command("assistance-decision")
def assistance_decision(
    account: str = ACCOUNT,
    application_id: str = typer.Option(..., "--id", help="the pending application"),
    approved: str | None = typer.Option(
        None, "--approved", help="PERCENT of what the account owes written off as charity care"
    ),
    denied: bool = typer.Option(False, "--denied", help="the bill stands"),
    note: str = typer.Option("", help="why, for the audit trail"),
) -> None:
    """Decide an assistance application: --approved PERCENT or --denied; the cycle resumes
    where it paused."""
    from cob.validation import InvalidInput, parse_input
    from contract.accounts import AssistanceDecision

    not_done = "decision not recorded"
    if denied == (approved is not None):
        raise _fail(f"{not_done}: give --approved PERCENT or --denied", EXIT_BAD_INPUT)
    fields = {"application_id": application_id, "outcome": "denied" if denied else "approved",
              "note": note, "by": _by()}  # fmt: skip
    try:
        decision = parse_input(AssistanceDecision,
                               fields if denied else {**fields, "percent": approved})  # fmt: skip
    except InvalidInput as error:
        raise _bad_input(error, not_done) from None
    status = _update(account, not_done, "decide_assistance", decision)
    granted = f" ({decision.percent}%)" if decision.outcome == "approved" else ""
    _after(f"assistance application {application_id} {decision.outcome}{granted}", status)


# --- cob statements ---


def statements(
    account: str = typer.Argument(
        ...,
        help="an encounter billed to the account (E1001), or the account: its id or workflow id",
    ),
    write: Path | None = typer.Option(
        None, help="copy each statement's PDF and text into this folder (0700; files 0600)"
    ),
    json_output: bool = typer.Option(
        False, "--json", help="print one JSON list on stdout (what the API serves); none is []"
    ),
) -> None:
    """List an account's statements (date, step, amount due, due date, the PDF), from the
    audit trail; --write copies them out. No statement is exit 1 (stderr)."""
    from cli.accounts import AccountNotFound, account_id_of, statement_rows, write_statement
    from cli.views import json_text
    from cob.validation import InvalidInput
    from ledger.db import make_engine

    engine = make_engine()
    try:
        account_id = account_id_of(engine, account)
    except (InvalidInput, AccountNotFound) as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from None
    rows = statement_rows(engine, account_id)
    if not rows and not json_output:
        raise _fail(f"no statements in the ledger for account {account_id}", EXIT_REFUSED)
    if write is not None:
        for row in rows:
            try:
                row["files"] = [str(p) for p in write_statement(row, account_id, write)]
            except OSError as error:
                raise _fail(f"statement {row['name']} not written: {error}", EXIT_REFUSED) from None
    if json_output:
        print(json_text(rows))
        return
    for row in rows:
        written = f"  -> {', '.join(row['files'])}" if "files" in row else f"  {row['pdf']}"
        print(f"{row['on']}  {row['step']:14} amount due {row['amount_due']:>10}  due "
              f"{row['due_date']}{written}")  # fmt: skip
    print(f"{len(rows)} statement(s) of account {account_id}")
