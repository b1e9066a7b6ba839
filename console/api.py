"""The HTTP API under /api: the CLI's operations, one code path each (cli/views.py for what is
read, cli/correct.py, cli/appeals.py, cli/order.py, cli/encounters.py, cli/accounts.py and
ledger/task_actions.py for what is done), for a signed-in user allowed the action
(console/auth.py).

Every action is recorded in the audit trail with the user who took it (task actions by
ledger/task_actions.py; corrections, appeal filings and decisions, order choices, encounter
starts and what is sent to a patient account here), and reaches the workflow with that name
(`by`). Errors are JSON `{"detail": "field: problem"}`: 401 not signed in, 403 not allowed,
404 not found, 409 the workflow or the task refuses, 422 bad input (nothing started or
changed), 503 Temporal down.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from cli import accounts, views
from cli.appeals import AppealRefused, appeal_handle, send_decision, send_filing
from cli.correct import CorrectionRefused, checked_correction, send_correction
from cli.encounters import list_query, parse_balance_over, parse_within, start_encounter
from cli.imports import MAX_837_BYTES, read_837_batch, start_batch
from cli.order import OrderRefused, set_payer_order
from cob.appeals import AppealDecision, AppealFiling
from cob.denials import ClaimCorrection
from cob.money import ZERO
from cob.validation import InvalidInput, parse_input, validate_encounter
from console.auth import current_user, ledger, may
from contract.accounts import (
    AccountStatus,
    AssistanceApplication,
    AssistanceDecision,
    Dispute,
    DisputeResolution,
    PaymentReceipt,
    RefundMade,
    account_workflow_id,
)
from ledger import task_actions
from ledger.queries import encounter_summary
from ledger.reports import REPORTS, ReportParamError, UnknownReport, report_params, run_report
from ledger.tables import User
from ledger.users import list_users
from ledger.writes import append_audit_event
from payers.directory import known_payer_ids
from payers.x12.segments import X12Error
from workers.temporal import TemporalUnreachable, connect

router = APIRouter(prefix="/api")


async def temporal(request: Request) -> Client:
    """The app's Temporal client, connected on first use; 503 while the server is down."""
    state = request.app.state
    if state.temporal is None:
        try:
            state.temporal = await connect(state.temporal_address)
        except TemporalUnreachable as error:
            raise HTTPException(503, str(error)) from None
    return state.temporal


def refused(status: int, error: Exception) -> HTTPException:
    return HTTPException(status, str(error))


def record_action(
    engine: Engine, workflow_id: str, user: User, kind: str, detail: dict[str, Any]
) -> None:
    """The audit trail's entry for an action a person took through the API."""
    append_audit_event(
        engine,
        workflow_id=workflow_id,
        step=f"api:{kind}:{uuid.uuid4().hex}",
        kind=kind,
        detail={"by": user.name, "role": user.role, "on": date.today(), **detail},
    )


# --- who am I ---


@router.get("/me")
def me(user: User = Depends(current_user)) -> dict[str, str]:
    return {"name": user.name, "role": user.role}


# --- the team ---


@router.get("/users")
def users(
    user: User = Depends(may("user.read")), engine: Engine = Depends(ledger)
) -> list[dict[str, Any]]:
    """The team by name, disabled people too (`cob users list`): whom a task can go to. Never
    a token's hash: a name, a role, and whether the user may still sign in."""
    return [
        {"name": u.name, "role": u.role, "active": u.disabled_at is None}
        for u in list_users(engine)
    ]


# --- encounters ---


@router.get("/encounters")
async def list_encounters(
    stage: str | None = None,
    payer: str | None = None,
    balance_over: str | None = None,
    deadline_within: str | None = None,
    underpaid: bool = False,
    limit: int = Query(50, ge=1, le=1000),
    user: User = Depends(may("encounter.read")),
    client: Client = Depends(temporal),
) -> list[dict[str, Any]]:
    """Encounters by the filters of `cob list` (stage, current payer, patient balance above,
    next deadline within, underpaid), newest first."""
    from datetime import UTC, datetime

    try:
        by = datetime.now(UTC) + parse_within(deadline_within) if deadline_within else None
        balance = parse_balance_over(balance_over) if balance_over is not None else None
        query = list_query(stage, payer, balance, by, underpaid)
    except InvalidInput as error:
        raise refused(422, error) from None
    return await views.encounter_rows(client, query, limit)


@router.post("/encounters", status_code=201)
async def start(
    request: Request,
    user: User = Depends(may("encounter.start")),
    engine: Engine = Depends(ledger),
) -> dict[str, str]:
    """Validate one encounter (the JSON of an encounter file, as `cob submit` reads it) and
    start its workflow. 422 names the field at fault; nothing starts."""
    try:
        data = json.loads(await request.body(), parse_float=Decimal)
    except ValueError as error:
        raise HTTPException(422, f"(body): not valid JSON: {error}") from None
    try:
        encounter = validate_encounter(data, known_payer_ids(), date.today())
    except InvalidInput as error:
        raise refused(422, error) from None
    client = await temporal(request)
    try:
        handle = await start_encounter(client, encounter)
    except WorkflowAlreadyStartedError:
        raise HTTPException(
            409, f"encounter {encounter.encounter_id} was already started"
        ) from None
    record_action(
        engine, handle.id, user, "encounter_submitted", {"reason": f"started by {user.name}"}
    )
    return {"workflow_id": handle.id, "encounter_id": encounter.encounter_id}


@router.post("/encounters/batch", status_code=201)
async def import_batch(
    request: Request,
    user: User = Depends(may("encounter.start")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """Start an encounter for every good claim of an 837P batch (the X12 text as the body, as
    `cob import` reads a file): what started, what was skipped and why, what was refused. 422
    when nothing in it can be read; a claim started before is skipped, never started twice."""
    body = await request.body()
    if len(body) > MAX_837_BYTES:
        raise HTTPException(413, f"(body): over {MAX_837_BYTES:,} bytes: split the batch")
    try:
        batch = read_837_batch(body, known_payer_ids(), date.today())
    except X12Error as error:
        raise HTTPException(422, str(error)) from None
    if not batch.claims and not batch.skipped:
        reasons = [r.reason for r in batch.refused] or ["the body holds no 837 transaction"]
        raise HTTPException(422, "; ".join(reasons))
    started = await start_batch(await temporal(request), batch)
    for ready, workflow_id in started:
        if workflow_id is not None:
            record_action(engine, workflow_id, user, "encounter_submitted",
                          {"reason": f"started by {user.name} from an 837P batch",
                           "claim_control_number": ready.claim_control_number})  # fmt: skip
    return {
        "started": [{"claim_control_number": r.claim_control_number, "workflow_id": w}
                    for r, w in started if w is not None],
        "skipped": [s.model_dump() for s in batch.skipped]
        + [{"claim_control_number": r.claim_control_number, "reason": "already started"}
           for r, w in started if w is None],
        "refused": [r.model_dump() for r in batch.refused],
    }  # fmt: skip


@router.get("/encounters/{encounter}")
async def encounter_page(
    encounter: str,
    request: Request,
    user: User = Depends(may("encounter.read")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """An encounter's facts: the ledger's order and rules, coverages, claims and money per
    line, patient balance; its timeline and documents; and, while Temporal answers, the
    workflow's own status (else `status` is null and `temporal` says why)."""
    encounter_id = views.encounter_id(encounter)
    summary = await asyncio.to_thread(encounter_summary, engine, encounter_id)
    status, temporal_problem = None, None
    try:
        view = await views.encounter_view(await temporal(request), encounter, engine)
        status = view.as_dict() if view else None
    except HTTPException as error:
        temporal_problem = error.detail
    if summary is None and status is None:
        raise HTTPException(404, f"no encounter {encounter_id} in the ledger or in Temporal")
    return {
        "encounter_id": encounter_id,
        "workflow_id": views.encounter_workflow(encounter),
        "ledger": views.json_ready(summary),
        "status": status,
        "temporal": temporal_problem,
        "timeline": await asyncio.to_thread(views.timeline_rows, engine, encounter),
        "documents": await asyncio.to_thread(views.document_rows, engine, encounter),
    }


class Correction(BaseModel):
    rendering_provider_npi: str | None = None
    line_modifiers: dict[int, list[str]] = {}
    diagnoses: list[str] | None = None
    note: str = ""


@router.post("/encounters/{encounter}/correction")
async def correct(
    encounter: str,
    body: Correction,
    request: Request,
    user: User = Depends(may("claim.correct")),
    engine: Engine = Depends(ledger),
) -> dict[str, str]:
    """The team's correction to the encounter's claim waiting for one (`cob correct`)."""
    try:
        correction = checked_correction(ClaimCorrection(**body.model_dump(), by=user.name))
    except InvalidInput as error:
        raise refused(422, error) from None
    client = await temporal(request)
    try:
        answer = await send_correction(client, encounter, correction)
    except CorrectionRefused as error:
        raise refused(409, error) from None
    workflow_id = views.encounter_workflow(encounter)
    record_action(engine, workflow_id, user, "correction_sent",
                  {"reason": f"correction sent by {user.name}: {answer}", "note": correction.note})  # fmt: skip
    return {"answer": answer}


class Filing(BaseModel):
    level: int = Field(gt=0)
    note: str = ""


class Decision(BaseModel):
    level: int = Field(gt=0)
    outcome: Literal["overturned", "upheld"]
    note: str = ""


@router.post("/encounters/{encounter}/appeal/filing")
async def file_appeal(
    encounter: str,
    body: Filing,
    request: Request,
    user: User = Depends(may("appeal.file")),
    engine: Engine = Depends(ledger),
) -> dict[str, str]:
    """The team filed the appeal at `level` (`cob appeal file`)."""
    client = await temporal(request)
    try:
        workflow_id = (await appeal_handle(client, encounter)).id
        answer = await send_filing(
            client, encounter, AppealFiling(**body.model_dump(), by=user.name)
        )
    except AppealRefused as error:
        raise refused(409, error) from None
    record_action(engine, workflow_id, user, "appeal_filing_sent",
                  {"reason": f"appeal level {body.level} filed by {user.name}", "note": body.note})  # fmt: skip
    return {"answer": answer}


@router.post("/encounters/{encounter}/appeal/decision")
async def decide_appeal(
    encounter: str,
    body: Decision,
    request: Request,
    user: User = Depends(may("appeal.decide")),
    engine: Engine = Depends(ledger),
) -> dict[str, str]:
    """The reviewer's decision on a filed level, as the team received it (`cob appeal decided`)."""
    client = await temporal(request)
    try:
        workflow_id = (await appeal_handle(client, encounter)).id
        await send_decision(client, encounter, AppealDecision(**body.model_dump(), by=user.name))
    except AppealRefused as error:
        raise refused(409, error) from None
    record_action(engine, workflow_id, user, "appeal_decision_sent",
                  {"reason": f"level {body.level} {body.outcome}, recorded by {user.name}"})  # fmt: skip
    return {"answer": f"level {body.level} decision recorded: {body.outcome}"}


class Order(BaseModel):
    payer_ids: list[str]
    reason: str = Field(min_length=1)


@router.post("/encounters/{encounter}/order")
async def set_order(
    encounter: str,
    body: Order,
    request: Request,
    user: User = Depends(may("order.set")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """The payers' order for an encounter held for an order review (`cob order set`)."""
    client = await temporal(request)
    try:
        order = await set_payer_order(client, encounter, body.payer_ids, user.name, body.reason)
    except OrderRefused as error:
        raise refused(409, error) from None
    # the workflow records the choice with its `by` in the audit trail (order_chosen)
    return {"order": order}


# --- the worklist ---


@router.get("/tasks")
def worklist(
    encounter: str | None = None,
    include_closed: bool = Query(False, alias="all"),
    hide_snoozed: bool = False,
    user: User = Depends(may("task.read")),
    engine: Engine = Depends(ledger),
) -> list[dict[str, Any]]:
    """Tasks by due date (`cob tasks`), with who holds each and its snooze; `hide_snoozed`
    leaves out the tasks snoozed past today until their day comes."""
    return views.task_rows(
        engine, encounter, include_closed, date.today() if hide_snoozed else None
    )


class TaskNote(BaseModel):
    note: str


class TaskSnooze(BaseModel):
    until: date


class TaskReassign(BaseModel):
    to: str


def _task(engine: Engine, key: str, act) -> dict[str, Any]:
    try:
        outcome = act(task_actions.find_task_key(engine, key))
    except (task_actions.TaskNotFound, task_actions.AmbiguousTaskKey) as error:
        raise refused(404, error) from None
    except task_actions.InvalidTaskAction as error:
        raise refused(422, error) from None
    except task_actions.TaskActionError as error:  # taken, closed, not claimed
        raise refused(409, error) from None
    return {"task": views.json_ready(outcome.task), "changed": outcome.changed}


@router.post("/tasks/{key:path}/claim")
def claim(key: str, user: User = Depends(may("task.claim")), engine: Engine = Depends(ledger)):
    """Take a task: nobody else works it until it is released (409 names who has it)."""
    return _task(engine, key, lambda full: task_actions.claim_task(engine, full, user))


@router.post("/tasks/{key:path}/release")
def release(key: str, user: User = Depends(may("task.release")), engine: Engine = Depends(ledger)):
    return _task(engine, key, lambda full: task_actions.release_task(engine, full, user))


@router.post("/tasks/{key:path}/resolve")
def resolve(
    key: str, body: TaskNote, user: User = Depends(may("task.resolve")),
    engine: Engine = Depends(ledger),
):  # fmt: skip
    """Close a task you hold, with what was done."""
    return _task(engine, key, lambda full: task_actions.resolve_task(engine, full, user, body.note))


@router.post("/tasks/{key:path}/snooze")
def snooze(
    key: str, body: TaskSnooze, user: User = Depends(may("task.snooze")),
    engine: Engine = Depends(ledger),
):  # fmt: skip
    """Out of sight until a day, never past the task's own due date."""
    return _task(engine, key, lambda full: task_actions.snooze_task(engine, full, user, body.until))


@router.post("/tasks/{key:path}/reassign")
def reassign(
    key: str, body: TaskReassign, user: User = Depends(may("task.reassign")),
    engine: Engine = Depends(ledger),
):  # fmt: skip
    """Give the task to another biller or supervisor (supervisors only)."""
    return _task(engine, key, lambda full: task_actions.reassign_task(engine, full, user, body.to))


# --- reports ---


@router.get("/reports")
def reports(user: User = Depends(may("encounter.read"))) -> list[dict[str, Any]]:
    """Every report with its definition and columns."""
    return [
        {"name": name, "title": r.title, "definition": r.definition, "columns": list(r.columns)}
        for name, r in REPORTS.items()
    ]


@router.get("/reports/{name}")
def report(
    name: str,
    as_of: str | None = None,
    limit: str | None = None,
    format: Literal["json", "csv"] = "json",
    user: User = Depends(may("encounter.read")),
    engine: Engine = Depends(ledger),
):
    """One report's rows (`cob report NAME`), as JSON or CSV."""
    given = {k: v for k, v in {"as_of": as_of, "limit": limit}.items() if v is not None}
    try:
        params = report_params(name, **given)
    except UnknownReport as error:
        raise refused(404, error) from None
    except ReportParamError as error:
        raise refused(422, error) from None
    rows = views.json_ready(run_report(engine, name, **params))
    if format == "json":
        return rows
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(REPORTS[name].columns))
    writer.writeheader()
    writer.writerows(rows)
    return PlainTextResponse(out.getvalue(), media_type="text/csv")


# --- patient accounts ---


class AccountBody(BaseModel):
    """What a person sends an account: a misspelled field is refused, never ignored (a
    payment's designated encounter would quietly go missing)."""

    model_config = ConfigDict(extra="forbid")


class PaymentBody(AccountBody):
    amount: Decimal
    method: Literal["card", "check", "cash"] = "card"
    reference: str = ""
    received_on: date | None = None  # default: today (UTC, the account's clock)
    encounter_id: str | None = None  # the encounter the payer designated
    payment_id: str | None = None  # default: method-reference, else a new id


class DisputeBody(AccountBody):
    dispute_id: str
    reason: str


class ResolutionBody(AccountBody):
    outcome: Literal["upheld", "adjusted"]
    amount: Decimal | None = None  # written off when adjusted
    encounter_id: str | None = None
    note: str = ""


class PlanBody(AccountBody):
    installments: int | None = None
    monthly_amount: Decimal | None = None
    day_of_month: int
    start: date | None = None  # default: today
    plan_id: str | None = None  # default: a new one


class RefundBody(AccountBody):
    amount: Decimal
    reference: str
    on: date | None = None  # default: today


class ApplicationBody(AccountBody):
    application_id: str
    received_on: date | None = None  # default: today


class AssistanceDecisionBody(AccountBody):
    outcome: Literal["approved", "denied"]
    percent: Decimal | None = None  # of what the account owes, when approved (default 100)
    note: str = ""


async def _account_id(engine: Engine, account: str) -> str:
    try:
        return await asyncio.to_thread(accounts.account_id_of, engine, account)
    except accounts.AccountNotFound as error:
        raise refused(404, error) from None
    except InvalidInput as error:
        raise refused(422, error) from None


async def _on_account(request: Request, engine: Engine, account: str, act) -> tuple[str, Any]:
    """The account's id and what `act(client, account_id)` answers: 404 no such account, 409
    the account refuses (its validator's reason), 422 bad input."""
    account_id = await _account_id(engine, account)
    client = await temporal(request)
    try:
        return account_id, await act(client, account_id)
    except accounts.AccountNotFound as error:
        raise refused(404, error) from None
    except accounts.AccountRefused as error:
        raise refused(409, error) from None
    except InvalidInput as error:
        raise refused(422, error) from None


def _update(update_name: str, build):
    """An `act` for _on_account: the account's update `update_name` with the message `build()`
    makes (InvalidInput, a 422, names the field at fault)."""
    from workflows.patient_account import PatientAccountWorkflow

    async def act(client: Client, account_id: str) -> Any:
        update = getattr(PatientAccountWorkflow, update_name)
        return await accounts.send_update(client, account_id, update, build())

    return act


def _record_on_account(engine: Engine, account_id: str, user: User, kind: str, reason: str,
                       **detail: Any) -> None:  # fmt: skip
    record_action(engine, account_workflow_id(account_id), user, kind, {"reason": reason, **detail})


@router.get("/accounts/{account}")
async def show_account(
    account: str,
    request: Request,
    user: User = Depends(may("encounter.read")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """A patient account (`cob account`): by its id, account-ID, or an encounter billed to it."""
    _, status = await _on_account(request, engine, account, accounts.account_status)
    return accounts.account_view(status)


@router.post("/accounts/{account}/payments")
async def post_payment(
    account: str,
    body: PaymentBody,
    request: Request,
    user: User = Depends(may("payment.post")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """Post a patient payment (`cob payment post`); its receipt, `duplicate` true when the
    payment id was posted before (nothing changes)."""
    payment_id = accounts.payment_id_for(body.method, body.reference, body.payment_id)

    async def act(client: Client, account_id: str) -> PaymentReceipt:
        payment = accounts.patient_payment(
            accounts.parse_amount("amount", body.amount), body.method, body.reference,
            body.received_on or accounts.today(), body.encounter_id, payment_id, user.name,
        )  # fmt: skip
        return await accounts.post_payment(client, account_id, payment)

    account_id, receipt = await _on_account(request, engine, account, act)
    done = "was already posted" if receipt.duplicate else "posted"
    _record_on_account(engine, account_id, user, "payment_sent",
                       f"payment {payment_id} of {receipt.amount} {done} by {user.name}",
                       payment_id=payment_id, amount=receipt.amount, duplicate=receipt.duplicate)  # fmt: skip
    return accounts.receipt_view(receipt)


@router.post("/accounts/{account}/disputes")
async def open_dispute(
    account: str,
    body: DisputeBody,
    request: Request,
    user: User = Depends(may("payment.post")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """Record the guarantor's dispute (`cob account dispute`): the cycle stands still and a
    task asks a supervisor to resolve it."""
    act = _update(
        "open_dispute", lambda: parse_input(Dispute, {**body.model_dump(), "by": user.name})
    )
    account_id, status = await _on_account(request, engine, account, act)
    _record_on_account(engine, account_id, user, "dispute_sent",
                       f"dispute {body.dispute_id} recorded by {user.name}",
                       dispute_id=body.dispute_id)  # fmt: skip
    return accounts.account_view(status)


@router.post("/accounts/{account}/disputes/{dispute_id}/resolution")
async def resolve_dispute(
    account: str,
    dispute_id: str,
    body: ResolutionBody,
    request: Request,
    user: User = Depends(may("account.manage")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """Uphold the bill or write off `amount` (`cob account resolve`); the cycle resumes."""

    def resolution() -> DisputeResolution:
        if (body.outcome == "adjusted") != (body.amount is not None):
            raise InvalidInput("amount", "is required when adjusted, and only then")
        amount = accounts.parse_amount("amount", body.amount) if body.amount is not None else ZERO
        encounter = views.encounter_id(body.encounter_id) if body.encounter_id else None
        return parse_input(DisputeResolution, {
            "dispute_id": dispute_id, "outcome": body.outcome, "amount": amount,
            "encounter_id": encounter, "note": body.note, "by": user.name,
        })  # fmt: skip

    act = _update("resolve_dispute", resolution)
    account_id, status = await _on_account(request, engine, account, act)
    _record_on_account(engine, account_id, user, "dispute_resolution_sent",
                       f"dispute {dispute_id} {body.outcome}, resolved by {user.name}",
                       dispute_id=dispute_id, amount=body.amount or ZERO, note=body.note)  # fmt: skip
    return accounts.account_view(status)


@router.post("/accounts/{account}/plan")
async def set_plan(
    account: str,
    body: PlanBody,
    request: Request,
    user: User = Depends(may("account.manage")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """A payment plan for what the account owes (`cob account plan`): `installments` or
    `monthly_amount`, on `day_of_month`; the cycle stands still while it is kept."""

    async def act(client: Client, account_id: str) -> AccountStatus:
        monthly = body.monthly_amount
        terms = {**body.model_dump(), "plan_id": body.plan_id or accounts.new_plan_id(),
                 "start": body.start or accounts.today(), "by": user.name,
                 "monthly_amount": None if monthly is None
                 else accounts.parse_amount("monthly_amount", monthly)}  # fmt: skip
        return await accounts.set_plan(client, account_id, terms)

    account_id, status = await _on_account(request, engine, account, act)
    plan = status.plan
    assert plan is not None
    _record_on_account(engine, account_id, user, "plan_sent",
                       f"plan {plan.plan_id} for {plan.total} in {plan.installment_count} "
                       f"installment(s) set by {user.name}", plan_id=plan.plan_id)  # fmt: skip
    return accounts.account_view(status)


@router.post("/accounts/{account}/refunds")
async def refund_made(
    account: str,
    body: RefundBody,
    request: Request,
    user: User = Depends(may("account.manage")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """A refund of the credit paid back to the guarantor (`cob account refunded`)."""
    act = _update("refund_made", lambda: parse_input(RefundMade, {
        "amount": accounts.parse_amount("amount", body.amount), "reference": body.reference,
        "on": body.on or accounts.today(), "by": user.name,
    }))  # fmt: skip
    account_id, status = await _on_account(request, engine, account, act)
    _record_on_account(engine, account_id, user, "refund_sent",
                       f"refund of {body.amount} ({body.reference}) recorded by {user.name}",
                       amount=body.amount, reference=body.reference)  # fmt: skip
    return accounts.account_view(status)


@router.post("/accounts/{account}/assistance")
async def apply_for_assistance(
    account: str,
    body: ApplicationBody,
    request: Request,
    user: User = Depends(may("payment.post")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """A financial-assistance application (`cob account assistance`): the cycle waits for its
    decision, a task asks for it."""
    act = _update("apply_for_assistance", lambda: parse_input(AssistanceApplication, {
        "application_id": body.application_id,
        "received_on": body.received_on or accounts.today(), "by": user.name,
    }))  # fmt: skip
    account_id, status = await _on_account(request, engine, account, act)
    _record_on_account(engine, account_id, user, "assistance_application_sent",
                       f"assistance application {body.application_id} recorded by {user.name}",
                       application_id=body.application_id)  # fmt: skip
    return accounts.account_view(status)


@router.post("/accounts/{account}/assistance/{application_id}/decision")
async def decide_assistance(
    account: str,
    application_id: str,
    body: AssistanceDecisionBody,
    request: Request,
    user: User = Depends(may("account.manage")),
    engine: Engine = Depends(ledger),
) -> dict[str, Any]:
    """Approve (`percent` of what the account owes written off as charity care) or deny an
    application (`cob account assistance-decision`); the cycle resumes."""

    def decision() -> AssistanceDecision:
        if body.outcome == "denied" and body.percent is not None:
            raise InvalidInput("percent", "is for an approval only")
        fields = {"application_id": application_id, "outcome": body.outcome,
                  "note": body.note, "by": user.name}  # fmt: skip
        if body.percent is not None:
            fields["percent"] = body.percent
        return parse_input(AssistanceDecision, fields)

    act = _update("decide_assistance", decision)
    account_id, status = await _on_account(request, engine, account, act)
    _record_on_account(engine, account_id, user, "assistance_decision_sent",
                       f"assistance application {application_id} {body.outcome} by {user.name}",
                       application_id=application_id, percent=body.percent)  # fmt: skip
    return accounts.account_view(status)


@router.get("/accounts/{account}/statements")
async def account_statements(
    account: str, user: User = Depends(may("encounter.read")), engine: Engine = Depends(ledger)
) -> list[dict[str, Any]]:
    """The account's statements (`cob statements`), oldest first, each with `pdf_url`."""
    account_id = await _account_id(engine, account)
    rows = await asyncio.to_thread(accounts.statement_rows, engine, account_id)
    return [{**row, "pdf_url": f"/api/accounts/{account_id}/statements/{row['name']}"}
            for row in rows]  # fmt: skip


@router.get("/accounts/{account}/statements/{name}")
async def statement_pdf(
    account: str, name: str, user: User = Depends(may("document.read")),
    engine: Engine = Depends(ledger),
) -> FileResponse:  # fmt: skip
    """One statement's PDF, by the name its listing gives: only a file the account's audit
    trail names is ever served, never a path from the request."""
    account_id = await _account_id(engine, account)
    rows = await asyncio.to_thread(accounts.statement_rows, engine, account_id)
    found = next((row for row in rows if row["name"] == name), None)
    if found is None:
        raise HTTPException(404, f"name: account {account_id} has no statement {name[:40]!r}")
    pdf = Path(found["pdf"])
    if not await asyncio.to_thread(pdf.is_file):
        raise HTTPException(404, f"statement {name}: its PDF is not on this server")
    return FileResponse(pdf, media_type="application/pdf", filename=f"{account_id}-{pdf.name}",
                        headers={"Cache-Control": "no-store"})  # fmt: skip
