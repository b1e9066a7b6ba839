"""What a claim workflow does between submission and its 835: read the ERA mailbox, ask the
payer about the claim (276/277, ASC X12 005010X212), and record each follow-up and worklist
task. The days of the follow-up are cob's (cob/deadlines.py, cob/follow_up.py).
"""

from __future__ import annotations

import asyncio
from datetime import date

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import metrics
from activities.base import PayerAndLedger, Steps, fault_error
from activities.remittances import mailbox_posting
from cob.claim_status import ClaimStatusReport
from cob.deadlines import DeadlineRules, posting_task_due
from cob.model import ClaimAcknowledgment, Remittance
from cob.money import (
    UnbalancedLine,
    UnplaceableAmount,
    adjudication_to_post,
    check_remittance_line,
)
from contract.messages import FollowUp, StatusCheck, SubmitClaim
from ledger import documents, worklist
from payers.client import PayerCallFault
from payers.directory import payer_deadlines
from payers.x12.remittance_835 import read_claims


class ClaimActivities(PayerAndLedger):
    @activity.defn
    async def deadline_rules(self, payer_id: str) -> DeadlineRules:
        """The payer's deadline terms from the payer directory (defaults for one it lacks)."""
        return payer_deadlines(payer_id)

    @activity.defn
    async def fetch_remittance(self, claim: SubmitClaim) -> Remittance:
        """The claim's 835, or an error Temporal retries on the payer-call schedule when none
        has come yet (claim workflows started before the follow-up timers use this)."""
        remittance = await self._remittance_for(claim)
        if remittance is None:
            submission = claim.submission
            raise ApplicationError(
                f"no 835 from {submission.coverage.payer_id} for claim "
                f"{submission.claim_control_number} yet",
                type="RemittanceNotYetAvailable",
            )
        return remittance

    @activity.defn
    async def pick_up_remittance(self, claim: SubmitClaim) -> Remittance | None:
        """The claim's 835 if it has come, else None: the workflow decides when to look again."""
        return await self._remittance_for(claim)

    @activity.defn
    async def check_claim_status(self, check: StatusCheck) -> ClaimStatusReport:
        """A 276 about the claim; the 277's answer goes into the audit trail (ASC X12
        005010X212 loop 2200D STC)."""
        submission = check.submission
        ccn = submission.claim_control_number
        status = await self._ask_payer(
            lambda payers: payers.claim_status_of(
                submission, check.payer_claim_number, trace=f"{ccn}-{check.on:%Y%m%d}"
            ),
            step=f"claim_status/{ccn}/{check.on.isoformat()}",
            encounter_id=submission.encounter.encounter_id,
            ccn=ccn,
        )
        await self._audit(
            check.workflow_id,
            f"claim:{ccn}:status:{check.on.isoformat()}",
            "claim_status",
            {"on": check.on, **status.model_dump(mode="json")},
        )
        return status

    @activity.defn
    async def follow_up(self, step: FollowUp) -> None:
        """One dated step of the claim's follow-up in the audit trail, and a worklist task
        when it needs the team."""
        await self._audit(
            step.workflow_id,
            f"follow_up:{step.claim_control_number or '-'}:{step.kind}"
            + (f":{step.payer_id}" if step.per_payer else "")
            + f":{step.on.isoformat()}",
            step.kind,
            step.model_dump(mode="json", exclude={"workflow_id"}),
        )
        if step.closes_tasks or step.closes_kind:
            await self._write(
                worklist.close_tasks,
                workflow_id=step.workflow_id,
                resolution=step.reason,
                kind=step.closes_kind,
                payer_id=step.payer_id if step.per_payer else None,
            )
        if step.task:
            await self._write(
                worklist.open_task,
                workflow_id=step.workflow_id,
                encounter_id=step.encounter_id,
                payer_id=step.payer_id,
                claim_control_number=step.claim_control_number,
                kind=step.kind,
                reason=step.reason,
                due=step.due,
                opened_on=step.on,
                per_payer=step.per_payer,
            )

    async def _remittance_for(self, claim: SubmitClaim) -> Remittance | None:
        """New 835s are picked up after the ledger's cursor and kept; then the newest one
        carrying this claim is read (once: an 835 that came in this pick-up was read then)."""
        submission = claim.submission
        ccn, payer_id = submission.claim_control_number, submission.coverage.payer_id
        read_now = await self._pick_up_eras()
        found = await asyncio.to_thread(documents.remittance_document, self.ledger, ccn, payer_id)
        if found is None:
            return None
        row, position = found
        if row.problem:  # the payer's document is wrong: a person asks for it again
            why = f"the 835 {row.key} naming claim {ccn} is unusable: {row.problem}"
            await self._era_task(claim, "era_unusable", f"{why}: ask the payer to resend it",
                                 row.recorded_at.date())  # fmt: skip
            return None
        claims = read_now[row.key] if row.key in read_now else read_claims(row.text)
        remittance, clp_at = claims[position - 1]
        # The ledger's link says whose claim this is: a real 835 may name its payer by ids
        # the directory maps (TRN03, REF*2U), not by our payer id.
        remittance = remittance.model_copy(update={"payer_id": payer_id})
        if remittance.payer_sequence == 0:  # CLP02 4/22 do not say the payer's position
            remittance = remittance.model_copy(update={"payer_sequence": submission.payer_sequence})
        try:
            remittance = adjudication_to_post(remittance, submission.encounter.lines)
            for line in remittance.lines:
                check_remittance_line(line, remittance.payer_id)
        except (UnplaceableAmount, UnbalancedLine) as error:
            why = (f"{error} (segment CLP at position {clp_at} of {row.key}): post it by hand "
                   "or ask the payer for a line-level 835")  # fmt: skip
            await self._era_task(claim, "era_unplaceable_amount", why, remittance.adjudication_date)
            return None
        ack = ClaimAcknowledgment(
            claim_control_number=ccn,
            accepted=True,
            payer_claim_number=remittance.payer_claim_number,
        )
        steps = Steps()
        self._record_claim(claim, ack, remittance, into=steps)
        await self._commit(steps)
        metrics.remittance_posted(remittance)
        return remittance

    async def _era_task(self, claim: SubmitClaim, kind: str, why: str, on: date) -> None:
        """An 835 the engine cannot post for this claim: a task for the team, due within
        the posting week, while the claim keeps waiting (and following up) for a good one."""
        sub = claim.submission
        await self._write(
            worklist.open_task,
            workflow_id=claim.workflow_id,
            encounter_id=sub.encounter.encounter_id,
            payer_id=sub.coverage.payer_id,
            claim_control_number=sub.claim_control_number,
            kind=kind,
            reason=why,
            due=posting_task_due(on),
            opened_on=on,
        )

    async def _pick_up_eras(self) -> dict[str, list[tuple[Remittance, int]]]:
        """Store the mailbox's new 835s; the claims each one carries, as read, by its key."""
        read: dict[str, list[tuple[Remittance, int]]] = {}
        cursor = await asyncio.to_thread(documents.last_era_cursor, self.ledger)
        async with self.payers.client() as payers:
            while True:
                try:
                    batch = await payers.era(cursor)
                except PayerCallFault as error:
                    raise fault_error(error) from None
                for era in batch.documents:
                    posting = mailbox_posting(era)
                    await self._write(
                        documents.record_era,
                        document=posting.document,
                        claims=posting.links,
                        provider_adjustments=posting.provider_adjustments,
                    )
                    if posting.document.problem and not posting.links:
                        await self._unreadable_era(posting.document)
                    read[posting.document.key] = posting.claims
                    cursor = era.cursor
                if not batch.more:
                    return read

    async def _unreadable_era(self, document: documents.Document) -> None:
        """An 835 from the mailbox that names no claim the engine can read: whatever money
        it carries is the team's to find, never dropped."""
        today = date.today()
        await self._write(
            worklist.open_task,
            workflow_id=document.key,
            encounter_id="-",
            payer_id=document.payer_id,
            claim_control_number=None,
            kind="era_unusable",
            reason=f"the 835 {document.key} from the ERA mailbox cannot be read: "
            f"{document.problem}; ask the payer to resend it",
            due=posting_task_due(today),
            opened_on=today,
        )

    def all(self) -> list:
        return [
            self.deadline_rules,
            self.fetch_remittance,
            self.pick_up_remittance,
            self.check_claim_status,
            self.follow_up,
        ]
