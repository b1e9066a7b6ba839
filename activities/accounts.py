"""What the patient account does to the world: joins an encounter to its guarantor's account
(signal-with-start), writes statements (PDF and text, owner-only files), and records each
step of the account in the audit trail and the worklist."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy.engine import Engine
from temporalio import activity

from activities.statement_pdf import render_pdf, render_text
from cob.accounts import account_lines
from cob.dunning import PracticePolicy
from cob.guarantor import guarantor, guarantor_key
from cob.money import ZERO
from cob.patient_statement import GoodFaithEstimate, ProviderContact, build_statement
from cob.validation import InvalidInput, parse_input
from contract.accounts import (
    AccountRun,
    AccountStep,
    BilledEncounter,
    JoinAccount,
    StatementIssued,
    StatementRequest,
    account_workflow_id,
)
from contract.messages import GENERATION
from ledger import worklist, writes
from ledger.accounts import AccountNumberTaken, account_for, link_encounter
from payers.directory import payer_names

ACCOUNT_WORKFLOW_TYPE = "PatientAccountWorkflow"  # workflows/patient_account.py, by name
POLICY_ENV = "COB_PRACTICE_POLICY"  # a JSON file of cob.dunning.PracticePolicy's fields
ACCOUNT_TASK_DAYS = 7  # an encounter that could not be billed to its account


class PolicyFileError(ValueError):
    """The practice's policy file cannot be read; the message names the file and field."""


def practice_policy() -> PracticePolicy:
    """The practice's collection terms: COB_PRACTICE_POLICY's JSON file, else the defaults
    (cob.dunning.PracticePolicy: industry practice)."""
    path = os.environ.get(POLICY_ENV, "").strip()
    if not path:
        return PracticePolicy()
    try:
        return parse_input(PracticePolicy, json.loads(Path(path).read_bytes()))
    except OSError as error:
        raise PolicyFileError(f"{POLICY_ENV} {path}: {error.strerror}") from None
    except InvalidInput as error:
        raise PolicyFileError(f"{POLICY_ENV} {path}: {error}") from None
    except ValueError as error:  # not JSON
        raise PolicyFileError(f"{POLICY_ENV} {path}: not JSON ({error})") from None


def full_name(first: str, last: str) -> str:
    return f"{first} {last}"


class AccountActivities:
    def __init__(self, ledger: Engine, statements_dir: Path) -> None:
        self.ledger = ledger
        self.statements_dir = statements_dir

    async def _write(self, fn, **kwargs) -> object:
        return await asyncio.to_thread(partial(fn, self.ledger, **kwargs))

    @activity.defn
    async def join_account(self, join: JoinAccount) -> str | None:
        """Bill the encounter's patient balance to its guarantor's account (join)."""
        return await self.join(join)

    async def join(self, join: JoinAccount) -> str | None:
        """Bill the encounter's patient balance to its guarantor's account: the account's
        workflow is signalled, or started with the signal when it is not running. A retried
        attempt signals again, which the account takes as the same encounter. Returns the
        account id; None when the practice's account number is another guarantor's, which
        a task asks a person to sort out. Within an activity (join_account, or the
        encounter's close_encounter)."""
        encounter = join.encounter
        person = guarantor(encounter)
        name = full_name(person.first_name, person.last_name)
        try:
            account_id = await asyncio.to_thread(
                account_for, self.ledger, key=guarantor_key(person), name=name,
                given_id=encounter.account_id,
            )  # fmt: skip
        except AccountNumberTaken as error:
            await self._account_task(join, str(error))
            return None
        provider = encounter.billing_provider
        run = AccountRun(
            account_id=account_id,
            guarantor_name=name,
            provider=ProviderContact(
                name=provider.name, address=provider.address, phone=provider.phone
            ),
            policy=practice_policy(),
            payer_names=payer_names(),
            generation=GENERATION,
        )
        self_pay = not join.remittances
        billed = BilledEncounter(
            encounter_id=encounter.encounter_id,
            patient_name=full_name(encounter.patient.first_name, encounter.patient.last_name),
            lines=account_lines(
                encounter.encounter_id, encounter.service_date, join.lines, join.remittances
            ),
            self_pay=self_pay,
            estimate=encounter.gfe if self_pay else None,
        )
        await self._write(link_encounter, encounter_id=encounter.encounter_id,
                          account_id=account_id)  # fmt: skip
        await activity.client().start_workflow(
            ACCOUNT_WORKFLOW_TYPE,
            run,
            id=account_workflow_id(account_id),
            task_queue=activity.info().task_queue,
            start_signal="add_encounter",
            start_signal_args=[billed],
        )
        return account_id

    async def _account_task(self, join: JoinAccount, why: str) -> None:
        today = activity.info().current_attempt_scheduled_time.date()
        await self._write(
            worklist.open_task,
            workflow_id=join.encounter_workflow_id,
            encounter_id=join.encounter.encounter_id,
            payer_id="patient",
            claim_control_number=None,
            kind="account_unbilled",
            reason=f"the patient balance was not billed to an account: {why}; correct the "
            "account number and bill it",
            due=today + timedelta(days=ACCOUNT_TASK_DAYS),
            opened_on=today,
        )

    @activity.defn
    async def issue_statement(self, request: StatementRequest) -> StatementIssued:
        """Write the statement as PDF and as text (the same statement, the same bytes on a
        retried attempt) into the account's folder, readable by the owner alone."""
        run, state = request.run, request.run.state
        statement = build_statement(
            account_id=run.account_id,
            guarantor=run.guarantor_name,
            patients=state.patients,
            provider=run.provider,
            lines=state.lines,
            payer_names=run.payer_names,
            payments=state.payments,
            previous_statement_date=state.last_statement,
            previous_balance=state.last_amount_due if state.last_statement else ZERO,
            first_billed=state.first_billed,
            statement_date=request.statement_date,
            due_date=request.due_date,
            step=request.step,
            policy=run.policy,
            collections_on=request.collections_on,
            assistance_deadline=request.assistance_deadline,
            estimates={
                encounter_id: GoodFaithEstimate(reference=gfe.reference, total=gfe.total)
                for encounter_id, gfe in state.estimates.items()
            },
        )
        folder = self.statements_dir / "accounts" / run.account_id
        stem = f"{request.statement_date.isoformat()}-{request.step.value}"
        pdf = await asyncio.to_thread(_owner_only, folder / f"{stem}.pdf", render_pdf(statement))
        text = await asyncio.to_thread(
            _owner_only, folder / f"{stem}.txt", render_text(statement).encode()
        )
        workflow_id = account_workflow_id(run.account_id)
        await self._write(
            writes.append_audit_event,
            workflow_id=workflow_id,
            step=f"statement:{stem}",
            kind="statement_issued",
            detail={
                "on": request.statement_date.isoformat(),
                "step": request.step.value,
                "amount_due": str(statement.amount_due),
                "due_date": request.due_date.isoformat(),
                "pdf": str(pdf),
                "text": str(text),
            },
        )
        return StatementIssued(pdf_path=str(pdf), text_path=str(text),
                               amount_due=statement.amount_due)  # fmt: skip

    @activity.defn
    async def record_step(self, step: AccountStep) -> None:
        """The step in the account's audit trail, once; its task opened, or its kind's open
        tasks closed."""
        await self._write(
            writes.append_audit_event,
            workflow_id=step.workflow_id,
            step=step.step,
            kind=step.kind,
            detail={"on": step.on.isoformat(), **step.detail},
        )
        if step.closes_kind:
            await self._write(
                worklist.close_tasks,
                workflow_id=step.workflow_id,
                resolution=f"{step.kind} on {step.on.isoformat()}",
                kind=step.closes_kind,
            )
        if step.task is not None:
            await self._write(
                worklist.open_task,
                workflow_id=step.workflow_id,
                encounter_id=step.task.encounter_id,
                payer_id="patient",
                claim_control_number=None,
                kind=step.task.kind,
                reason=step.task.reason,
                due=step.task.due,
                opened_on=step.on,
            )

    def all(self) -> list:
        return [self.join_account, self.issue_statement, self.record_step]


def _owner_only(path: Path, content: bytes) -> Path:
    """Write the file whole (a temporary file renamed), 0600 in a 0700 folder: a statement
    is patient data."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    temporary.replace(path)
    return path
