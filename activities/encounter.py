"""What touches the world for an encounter: payer calls, ledger writes, the statement file.

Every activity is idempotent. Payer submissions carry a stable claim control number that the
payer deduplicates on; ledger writes are upserts; audit events are keyed by workflow id + step.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.statement import render_statement
from cob.deadlines import DeadlineRules, timely_filing_deadline
from cob.model import (
    Benefits,
    ClaimAcknowledgment,
    PriorAuthDecision,
    PriorAuthRequest,
    Remittance,
)
from cob.money import ZERO, UnbalancedLine, account_line, check_remittance_line
from ledger import documents, writes
from payers.client import PayerClient, PayerRejected
from payers.era import EraDocument
from payers.profiles import load_profiles
from payers.x12.remittance_835 import check_835_balance, parse_835
from payers.x12.segments import X12Error
from workflows.messages import (
    CloseEncounter,
    EligibilityCheck,
    EncounterClosed,
    EncounterRecord,
    OrderRecord,
    SubmitClaim,
)

T = TypeVar("T")


def era_record(era: EraDocument) -> dict:
    """An 835 as the ledger keeps it: the text as received, the claims it carries, and what
    is wrong with it if it does not balance or parse (DOMAIN.md §3.6)."""
    problem, claims = "", []
    try:
        check_835_balance(era.x12)
    except X12Error as error:
        problem = str(error)
    try:
        claims = [(r.claim_control_number, r.payer_id) for r in parse_835(era.x12)]
    except X12Error as error:
        problem = problem or str(error)
    document = documents.Document(
        key=f"era/{era.cursor}",
        transaction="835",
        direction="received",
        payer_id=era.payer_id,
        text=era.x12,
        era_cursor=era.cursor,
        problem=problem,
    )
    return {"document": document, "claims": claims}


def business_error(error: Exception) -> ApplicationError:
    """A payer's or the data's own 'no' is a decision for the workflow, never a retry."""
    return ApplicationError(str(error), type=type(error).__name__, non_retryable=True)


class EncounterActivities:
    def __init__(self, payer_url: str, ledger: Engine, statements_dir: Path) -> None:
        self.payer_url = payer_url
        self.ledger = ledger
        self.statements_dir = statements_dir

    async def _ask_payer(
        self,
        question: Callable[[PayerClient], Awaitable[T]],
        step: str,
        encounter_id: str | None = None,
        ccn: str | None = None,
    ) -> T:
        """Ask through a fresh client; whatever the answer, every X12 document it sent and
        received is kept in the ledger, keyed by workflow, step and attempt."""
        info = activity.info()
        payers = PayerClient(self.payer_url)
        try:
            return await question(payers)
        except PayerRejected as error:
            raise business_error(error) from error
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

    async def _record_claim(
        self, claim: SubmitClaim, ack: ClaimAcknowledgment, remittance: Remittance | None
    ) -> None:
        submission = claim.submission
        await self._write(
            writes.record_claim,
            encounter_id=submission.encounter.encounter_id,
            submission=submission,
            ack=ack,
            remittance=remittance,
        )
        kind = "remittance" if remittance else "claim_acknowledged"
        await self._audit(
            claim.workflow_id,
            f"claim:{submission.claim_control_number}:{'remittance' if remittance else 'ack'}",
            kind,
            (remittance or ack).model_dump(mode="json"),
        )

    async def _write(self, fn, **kwargs) -> object:
        return await asyncio.to_thread(partial(fn, self.ledger, **kwargs))

    async def _audit(self, workflow_id: str, step: str, kind: str, detail: dict) -> None:
        await self._write(
            writes.append_audit_event, workflow_id=workflow_id, step=step, kind=kind, detail=detail
        )

    @activity.defn
    async def record_encounter(self, record: EncounterRecord) -> None:
        await self._write(
            writes.record_encounter,
            workflow_id=record.workflow_id,
            encounter=record.encounter,
            status=record.status,
        )
        await self._audit(
            record.workflow_id,
            "encounter",
            "encounter_started",
            {"encounter": record.encounter.model_dump(mode="json")},
        )

    @activity.defn
    async def check_eligibility(self, check: EligibilityCheck) -> Benefits:
        benefits = await self._ask_payer(
            lambda payers: payers.eligibility(
                check.coverage, check.patient, check.service_date, check.provider
            ),
            step=f"eligibility/{check.coverage.key}",
            encounter_id=check.workflow_id.removeprefix("encounter-"),
        )
        await self._audit(
            check.workflow_id,
            f"eligibility:{check.coverage.key}",
            "eligibility",
            benefits.model_dump(mode="json"),
        )
        return benefits

    @activity.defn
    async def record_order(self, record: OrderRecord) -> None:
        await self._write(
            writes.record_coverages,
            encounter_id=record.encounter_id,
            benefits=record.benefits,
            order=record.order,
            coverages=record.coverages,
        )
        await self._audit(
            record.workflow_id,
            "order",
            "payer_order",
            {
                "order": [c.key for c in record.order.coverages],
                "decisions": [d.model_dump() for d in record.order.decisions],
                "excluded": record.order.excluded,
                "needs_manual_review": record.order.needs_manual_review,
            },
        )

    @activity.defn
    async def request_prior_auth(self, request: PriorAuthRequest) -> PriorAuthDecision:
        decision = await self._ask_payer(
            lambda payers: payers.prior_auth(request),
            step=f"prior_auth/{request.coverage.key}",
            encounter_id=request.encounter_id,
        )
        await self._audit(
            activity.info().workflow_id,
            f"prior_auth:{request.coverage.key}",
            "prior_auth",
            decision.model_dump(mode="json"),
        )
        return decision

    @activity.defn
    async def submit_claim(self, claim: SubmitClaim) -> ClaimAcknowledgment:
        submission = claim.submission
        ack = await self._ask_payer(
            lambda payers: payers.submit_claim(submission),
            step=f"claim/{submission.claim_control_number}",
            encounter_id=submission.encounter.encounter_id,
            ccn=submission.claim_control_number,
        )
        await self._record_claim(claim, ack, None)
        if ack.accepted:
            await self._record_filing(claim)
        return ack

    async def _record_filing(self, claim: SubmitClaim) -> None:
        """Proof of timely filing: the 277CA accepted it today; the payer's rule says by when
        it had to be filed (DOMAIN.md §4.1). A late claim is still sent, and flagged."""
        submission = claim.submission
        profile = load_profiles().get(submission.coverage.payer_id)
        rules = profile.deadlines if profile else DeadlineRules()
        prior = [r.adjudication_date for r in submission.prior_remittances]
        deadline = timely_filing_deadline(
            rules, submission.encounter.service_date, max(prior) if prior else None
        )
        filed_on = activity.info().current_attempt_scheduled_time.date()
        ccn = submission.claim_control_number
        await self._write(
            writes.record_filing,
            ccn=ccn,
            payer_id=submission.coverage.payer_id,
            filed_on=filed_on,
            deadline=deadline,
        )
        await self._audit(
            claim.workflow_id,
            f"claim:{ccn}:timely_filing",
            "timely_filing",
            {
                **deadline.model_dump(mode="json"),
                "filed_on": filed_on,
                "on_time": filed_on <= deadline.due,
            },
        )

    @activity.defn
    async def fetch_remittance(self, claim: SubmitClaim) -> Remittance:
        """The claim's 835, from the ERA mailbox: new 835s are picked up after the ledger's
        cursor and kept; then the newest one carrying this claim is read. None yet is an
        error Temporal retries on the payer-call schedule."""
        submission = claim.submission
        ccn, payer_id = submission.claim_control_number, submission.coverage.payer_id
        await self._pick_up_eras()
        row = await asyncio.to_thread(documents.remittance_document, self.ledger, ccn, payer_id)
        if row is None:
            raise ApplicationError(
                f"no 835 from {payer_id} for claim {ccn} yet", type="RemittanceNotYetAvailable"
            )
        if row.problem:
            raise business_error(X12Error(f"the 835 for claim {ccn} is unusable: {row.problem}"))
        found = [
            r
            for r in parse_835(row.text)
            if r.claim_control_number == ccn and r.payer_id == payer_id
        ]
        remittance = found[-1]
        if remittance.payer_sequence == 0:  # CLP02 4/22 do not say the payer's position
            remittance = remittance.model_copy(update={"payer_sequence": submission.payer_sequence})
        try:
            for line in remittance.lines:
                check_remittance_line(line, remittance.payer_id)
        except UnbalancedLine as error:
            raise business_error(error) from error
        ack = ClaimAcknowledgment(
            claim_control_number=ccn,
            accepted=True,
            payer_claim_number=remittance.payer_claim_number,
        )
        await self._record_claim(claim, ack, remittance)
        return remittance

    async def _pick_up_eras(self) -> None:
        cursor = await asyncio.to_thread(documents.last_era_cursor, self.ledger)
        async with PayerClient(self.payer_url) as payers:
            while True:
                try:
                    batch = await payers.era(cursor)
                except PayerRejected as error:
                    raise business_error(error) from error
                for era in batch.documents:
                    await self._write(documents.record_era, **era_record(era))
                    cursor = era.cursor
                if not batch.more:
                    return

    @activity.defn
    async def close_encounter(self, close: CloseEncounter) -> EncounterClosed:
        encounter = close.encounter
        try:
            accounts = [
                account_line(line.line_number, line.procedure_code, line.charge, close.remittances)
                for line in encounter.lines
            ]
        except UnbalancedLine as error:
            raise business_error(error) from error
        total = sum((a.patient_responsibility for a in accounts), ZERO)
        statement_path: str | None = None
        if total > 0:  # bill the patient only after the last payer (DOMAIN.md §6.1)
            names = {pid: profile.name for pid, profile in load_profiles().items()}
            text = render_statement(
                encounter, accounts, close.remittances, names, close.statement_date
            )
            statement_path = str(self._write_statement(encounter.encounter_id, text))
        status = "closed"
        await self._write(
            writes.record_patient_balance,
            encounter_id=encounter.encounter_id,
            accounts=accounts,
            statement_path=statement_path,
            status=status,
        )
        for claim in close.claims:
            if claim.payment_review is not None:
                await self._audit(
                    close.workflow_id,
                    f"payment_review:{claim.payer_sequence}:{claim.payer_id}",
                    "payment_review",
                    {
                        "summary": claim.payment_review.summary(),
                        "underpaid": claim.payment_review.underpaid,
                        "lines": [
                            line.model_dump(mode="json") for line in claim.payment_review.lines
                        ],
                    },
                )
        await self._audit(
            close.workflow_id,
            "closed",
            "encounter_closed",
            {"patient_responsibility": str(total), "statement": statement_path},
        )
        return EncounterClosed(
            lines=accounts, patient_responsibility=total, statement_path=statement_path
        )

    def _write_statement(self, encounter_id: str, text: str) -> Path:
        self.statements_dir.mkdir(parents=True, exist_ok=True)
        path = self.statements_dir / f"{encounter_id}.txt"
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(text)
        temporary.replace(path)  # a retried attempt rewrites the same file whole
        return path

    def all(self) -> list:
        return [
            self.record_encounter,
            self.check_eligibility,
            self.record_order,
            self.request_prior_auth,
            self.submit_claim,
            self.fetch_remittance,
            self.close_encounter,
        ]
