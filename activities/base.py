"""What every activity class shares: the payer client, the ledger, and the audit trail."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from cob.model import ClaimAcknowledgment, Remittance
from contract.messages import SubmitClaim
from ledger import documents, writes
from ledger.db import in_one_transaction
from payers.client import PayerCallFault, PayerClient, PayerConnection, PayerRejected

T = TypeVar("T")


def business_error(error: Exception) -> ApplicationError:
    """A payer's or the data's own 'no' is a decision for the workflow, never a retry."""
    return ApplicationError(str(error), type=type(error).__name__, non_retryable=True)


def fault_error(error: PayerCallFault) -> ApplicationError:
    """No answer to decide on. Its type tells the workflow which kind; a transient one is
    retried on the activity's policy, a refused or unwritable request is not. The message
    (logged by the worker) names the call and the segment; the detail, which may quote the
    payer's text, travels only as the failure's details, for the worklist."""
    return ApplicationError(
        str(error), error.detail, type=type(error).__name__, non_retryable=not error.retryable
    )


class Steps(list):
    """The ledger writes of one activity step, committed together (PayerAndLedger._commit):
    one transaction instead of one per row and audit event."""

    def add(self, fn: Callable[..., object], **kwargs: object) -> None:
        self.append(lambda session: fn(session, **kwargs))


class PayerAndLedger:
    def __init__(
        self,
        payer_url: str,
        ledger: Engine,
        statements_dir: Path,
        payers: PayerConnection | None = None,  # the worker's, shared by its activities
    ) -> None:
        self.payer_url = payer_url
        self.payers = payers or PayerConnection(payer_url)
        self.ledger = ledger
        self.statements_dir = statements_dir

    async def _ask_payer(
        self,
        question: Callable[[PayerClient], Awaitable[T]],
        step: str,
        encounter_id: str | None = None,
        ccn: str | None = None,
    ) -> T:
        """Ask through a client of its own on the worker's connections; whatever the answer,
        every X12 document it sent and received is kept in the ledger, keyed by workflow,
        step and attempt."""
        info = activity.info()
        payers = self.payers.client()
        try:
            return await question(payers)
        except PayerRejected as error:
            raise business_error(error) from None
        except PayerCallFault as error:
            raise fault_error(error) from None
        finally:
            await payers.aclose()
            prefix = f"{info.workflow_id}/{step}/attempt-{info.attempt}"
            kept = [
                documents.Document(
                    key=f"{prefix}/{n}-{exchange.transaction}",
                    transaction=exchange.transaction,
                    direction=exchange.direction,
                    payer_id=exchange.payer_id,
                    text=exchange.text,
                    encounter_id=encounter_id,
                    claim_control_number=ccn,
                )
                for n, exchange in enumerate(payers.exchanges, start=1)
            ]
            if kept:
                await self._write(documents.record_documents, documents=kept)

    async def _write(self, fn, **kwargs) -> object:
        return await asyncio.to_thread(partial(fn, self.ledger, **kwargs))

    async def _commit(self, steps: Steps) -> None:
        """The step's ledger writes, in one transaction (ledger.db.in_one_transaction)."""
        if steps:
            await asyncio.to_thread(in_one_transaction, self.ledger, steps)

    async def _audit(
        self, workflow_id: str, step: str, kind: str, detail: dict, into: Steps | None = None
    ) -> None:
        """Append an audit event once per (workflow, step); with `into`, as one of the step's
        writes. Its `on` is the engine's date for the step: when Temporal scheduled this
        attempt, by the workflow's clock."""
        on = activity.info().current_attempt_scheduled_time.date()
        steps = Steps() if into is None else into
        steps.add(
            writes.append_audit_event,
            workflow_id=workflow_id,
            step=step,
            kind=kind,
            detail={"on": on, **detail},
        )
        if into is None:
            await self._commit(steps)

    def _record_claim(
        self,
        claim: SubmitClaim,
        ack: ClaimAcknowledgment,
        remittance: Remittance | None,
        into: Steps,
    ) -> None:
        submission = claim.submission
        into.add(
            writes.record_claim,
            encounter_id=submission.encounter.encounter_id,
            submission=submission,
            ack=ack,
            remittance=remittance,
        )
        on = activity.info().current_attempt_scheduled_time.date()
        step = f"claim:{submission.claim_control_number}:{'remittance' if remittance else 'ack'}"
        into.add(
            writes.append_audit_event,
            workflow_id=claim.workflow_id,
            step=step,
            kind="remittance" if remittance else "claim_acknowledged",
            detail={"on": on, **(remittance or ack).model_dump(mode="json")},
        )
