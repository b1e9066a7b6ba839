"""A guarantor's patient account (workflows/patient_account.py) from the outside: which
account a person means, what is sent to it and what it answers. One code path for the CLI
(cli/account_commands.py) and the API (console/api.py).

An account is named by its id (A1B2C3D4E5, or the practice's own account number), its
workflow id (account-A1B2C3D4E5), or an encounter billed to it (E1001, encounter-E1001, a
claim's workflow id: the ledger's encounters.account_id). An encounter id comes first: an
encounter and an account sharing a name means the encounter's account.

What people send goes in through the account's updates; their validators refuse what the
account cannot take (a payment dated after today, a refund beyond the credit, a plan that
is not for what the account owes), and that reason is what the person reads
(AccountRefused). Input that cannot be a message at all is InvalidInput naming the field.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from cli.views import encounter_id, json_ready
from cob.accounts import PatientPayment
from cob.validation import MAX_CHARGE, InvalidInput, parse_input
from contract.accounts import AccountStatus, PaymentReceipt, account_workflow_id

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

ACCOUNT_PREFIX = "account-"
ACCOUNT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,29}")  # cob.model.Encounter.account_id
METHODS = ("card", "check", "cash")


class AccountNotFound(LookupError):
    """No account by that name, or the encounter named was billed to none."""


class AccountRefused(Exception):
    """The account's validator refused the update; str() is its reason."""


def today() -> date:
    """The engine's day: the account's workflow dates everything in UTC (workflow.now())."""
    return datetime.now(UTC).date()


# --- which account ---


def account_id_of(engine: Engine, typed: str) -> str:
    """The account id for any of its names: an encounter billed to it (the ledger), its
    workflow id, or the id itself."""
    from ledger.accounts import account_of_encounter

    typed = typed.strip()
    if typed.startswith(ACCOUNT_PREFIX):
        return _checked_id(typed.removeprefix(ACCOUNT_PREFIX))
    named = encounter_id(typed)
    billed = account_of_encounter(engine, named)
    if billed is not None:
        return billed
    if _encounter_known(engine, named):
        raise AccountNotFound(
            f"encounter {named} is billed to no patient account (it has not closed with a "
            "balance for the patient)"
        )
    return _checked_id(typed)


def _encounter_known(engine: Engine, named: str) -> bool:
    from sqlmodel import Session

    from ledger.tables import Encounter

    with Session(engine) as session:
        return session.get(Encounter, named) is not None


def _checked_id(account_id: str) -> str:
    if not ACCOUNT_ID.fullmatch(account_id):
        raise InvalidInput(
            "account", f"{account_id[:40]!r} is not an account id, account-ID or encounter id"
        )
    return account_id


def _not_found(account_id: str) -> AccountNotFound:
    return AccountNotFound(
        f"no patient account {account_id} (name an account id, account-ID, or an encounter "
        "billed to one)"
    )


# --- what the account says and what it is told ---


async def account_status(client: Client, account_id: str) -> AccountStatus:
    """The account workflow's status query; AccountNotFound when there is no such account."""
    from workflows.patient_account import PatientAccountWorkflow

    handle = client.get_workflow_handle(account_workflow_id(account_id))
    try:
        return await handle.query(PatientAccountWorkflow.status)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        raise _not_found(account_id) from None


async def send_update(client: Client, account_id: str, update: Any, message: BaseModel) -> Any:
    """Run one of the account's updates (PatientAccountWorkflow.post_payment, open_dispute,
    ...) with its message; AccountRefused with the validator's reason, AccountNotFound when
    no such account runs."""
    handle = client.get_workflow_handle(account_workflow_id(account_id))
    try:
        return await handle.execute_update(update, message)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        why = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
        raise AccountRefused(why) from None
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        raise _not_found(account_id) from None


async def post_payment(client: Client, account_id: str, payment: PatientPayment) -> PaymentReceipt:
    """Post a patient payment: a designated encounter must be one of the account's (else the
    account would quietly apply it to another); its receipt, the first one again for a
    payment id posted before."""
    from workflows.patient_account import PatientAccountWorkflow

    if payment.encounter_id is not None:
        on_account = (await account_status(client, account_id)).encounters
        if payment.encounter_id not in on_account:
            raise InvalidInput(
                "encounter_id",
                f"{payment.encounter_id} is not on account {account_id} "
                f"(its encounters: {', '.join(on_account) or 'none'})",
            )
    return await send_update(client, account_id, PatientAccountWorkflow.post_payment, payment)


async def set_plan(client: Client, account_id: str, terms: dict[str, Any]) -> AccountStatus:
    """A payment plan (cob.dunning.PaymentPlan's terms but its total) for what the account
    owes now; its validator refuses it when that changed before the plan arrived."""
    from cob.dunning import PaymentPlan
    from workflows.patient_account import PatientAccountWorkflow

    status = await account_status(client, account_id)
    if status.balance <= 0:
        raise AccountRefused(f"account {account_id} owes nothing: no plan to set")
    plan = parse_input(PaymentPlan, {**terms, "total": status.balance})
    return await send_update(client, account_id, PatientAccountWorkflow.set_plan, plan)


# --- reading what people type or send ---


def parse_amount(field: str, value: str | Decimal) -> Decimal:
    """An amount of money as typed ("40", "40.00"): a number from 0.01 to the largest charge
    the engine takes, exact to the cent; InvalidInput naming `field` otherwise."""
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else value
    except InvalidOperation:
        raise InvalidInput(field, f"{str(value)[:40]!r} is not an amount like 25.00") from None
    if not amount.is_finite() or not Decimal("0.01") <= amount <= MAX_CHARGE:
        raise InvalidInput(field, f"{str(value)[:40]!r} is not an amount from 0.01 to {MAX_CHARGE}")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(field, f"{amount} is not exact to the cent")
    return amount


def parse_day(field: str, value: str | None) -> date:
    """A day as typed (YYYY-MM-DD); none given is today (the engine's)."""
    if value is None:
        return today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(field, f"{value[:40]!r} is not a date (YYYY-MM-DD)") from None


def payment_id_for(method: str, reference: str, given: str | None) -> str:
    """The payment's idempotency key: the one given, else method and reference (a check
    number posted twice is one payment), else a new one, which the person is shown so a
    retry can name it."""
    if given:
        return given
    if reference:
        return f"{method}-{reference}"
    return str(uuid.uuid4())


def patient_payment(
    amount: Decimal,
    method: str,
    reference: str,
    received_on: date,
    encounter: str | None,
    payment_id: str,
    by: str,
) -> PatientPayment:
    """The payment as the account takes it; InvalidInput names the field at fault."""
    if method not in METHODS:
        raise InvalidInput("method", f"{method[:20]!r} is not one of {', '.join(METHODS)}")
    return parse_input(PatientPayment, {
        "payment_id": payment_id, "amount": amount, "received_on": received_on,
        "method": method, "reference": reference,
        "encounter_id": encounter_id(encounter) if encounter else None, "by": by,
    })  # fmt: skip


def new_plan_id() -> str:
    """A plan's id, new for each plan: the account's audit trail keys its steps by it."""
    return f"PL-{uuid.uuid4().hex[:8]}"


# --- what is shown (the CLI's --json and the API serve the same) ---


def account_view(status: AccountStatus) -> dict[str, Any]:
    """The account's status query field by field, its workflow id second and each statement
    as {on, step}."""
    fields = status.model_dump(mode="python")
    statements = [{"on": on, "step": step} for on, step in status.statements]
    return json_ready({
        "account_id": status.account_id,
        "workflow_id": account_workflow_id(status.account_id),
        **fields,
        "statements": statements,
    })  # fmt: skip


def receipt_view(receipt: PaymentReceipt) -> dict[str, Any]:
    """A payment's receipt: where each part went (encounter, line, amount), then the credit
    and the balance after it."""
    return json_ready({
        **receipt.model_dump(mode="python"),
        "applied": [a._asdict() for a in receipt.applied],
    })  # fmt: skip


def statement_rows(engine: Engine, account_id: str) -> list[dict[str, Any]]:
    """The account's statements as its audit trail records them (activities/accounts.py
    issue_statement), oldest first: name (the files' stem, which the API serves them by),
    date, step, amount due, due date, and the PDF's and the text's paths."""
    from ledger.queries import audit_events

    rows = []
    for event in audit_events(engine, account_workflow_id(account_id)):
        if event["kind"] != "statement_issued":
            continue
        detail = event["detail"]
        rows.append({
            "name": Path(detail["pdf"]).stem, "on": detail["on"], "step": detail["step"],
            "amount_due": detail["amount_due"], "due_date": detail["due_date"],
            "pdf": detail["pdf"], "text": detail["text"],
        })  # fmt: skip
    return rows


def write_statement(row: dict[str, Any], account_id: str, folder: Path) -> list[Path]:
    """Copy a statement's PDF and text into `folder` (made 0700 if it is not there), each file
    0600: a statement is patient data. The files are named by account and statement so
    several accounts can share the folder; OSError when a file cannot be read or written."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for kept in (Path(row["pdf"]), Path(row["text"])):
        target = folder / f"{account_id}-{kept.name}"
        content = kept.read_bytes()
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # a file that was there keeps no wider mode
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
        written.append(target)
    return written
