"""The wait for a claim's 835, on durable timers.

After the payer accepts a claim (277CA), the workflow reads the ERA mailbox every
`era_poll_days`, and on the days the payer's rules give:
- the first 276 status inquiry on max(payment floor + 1, prompt pay - 5) days after
  acceptance, then again every `status_recheck_days` while there is no 835;
- a worklist task `escalation_days` before the timely filing deadline (60 for a later
  payer's claim);
- what a 277 answer asks of the team is a task (cob.claim_status.task_for_status);
- after the last day to wait (cob.follow_up.last_day_to_wait: the timely filing deadline), the
  claim is lost: a task and an audit event say why.

The days are cob/deadlines.py's and cob/follow_up.py's; this module only keeps the timers.

Every step lands in the audit trail with the workflow's date, so an auditor can replay it.
All dates are UTC calendar days; a timer wakes on its day at the workflow's own time of day
(workflows/wake.py), so claims waiting for the same day do not all wake together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.claims import ClaimActivities
    from cob.claim_status import task_for_status
    from cob.deadlines import (
        Deadline,
        DeadlineRules,
        claim_filing_deadline,
        escalation_date,
        first_status_check,
        next_status_check,
    )
    from cob.follow_up import filed_late, last_day_to_wait
    from cob.model import Remittance
    from contract.messages import FollowUp, StatusCheck, SubmitClaim
    from workflows.payer_calls import PayerCalls
    from workflows.policies import LOCAL_LOOKUP, LOOKUP
    from workflows.wake import wake_time


def today() -> date:
    return workflow.now().date()


async def sleep_until(day: date) -> None:
    """A durable timer to `day`, at this workflow's time of that day (workflows/wake.py);
    none when that day has come."""
    if day <= today():
        return
    delay = wake_time(day) - workflow.now()
    if delay > timedelta(0):
        await workflow.sleep(delay)


async def deadline_rules(payer_id: str, local: bool = False) -> DeadlineRules:
    """The payer's deadline terms (a lookup in the payer directory's files): a local
    activity in claims started since LEAN_CLAIM (workflows/claim.py), which costs the
    history one marker and no workflow task of its own."""
    if local:
        return await workflow.execute_local_activity_method(
            ClaimActivities.deadline_rules, payer_id, **LOCAL_LOOKUP
        )
    return await workflow.execute_activity_method(
        ClaimActivities.deadline_rules, payer_id, **LOOKUP
    )


async def record(step: FollowUp) -> None:
    await workflow.execute_activity_method(ClaimActivities.follow_up, step, **LOOKUP)


class RemittanceWatch:
    """One accepted claim's wait for its 835. `on_deadline` is told the deadline it works
    against, for the search attributes."""

    def __init__(
        self,
        claim: SubmitClaim,
        rules: DeadlineRules,
        era_poll_days: int,
        on_deadline: Callable[[Deadline | None], None],
        calls: PayerCalls,
        accepted_on: date | None = None,
    ) -> None:
        self.claim = claim
        self.calls = calls
        self.rules = rules
        self.era_poll_days = era_poll_days
        self.on_deadline = on_deadline
        sub = claim.submission
        self.accepted_on = accepted_on or today()  # the 277CA acceptance: timely filing
        self.filing = claim_filing_deadline(rules, sub)
        self.lost_reason = ""

    def _step(self, kind: str, reason: str, due: date | None, task: bool) -> FollowUp:
        """A dated step; the 835's arrival closes the claim's open tasks."""
        return FollowUp.about(
            self.claim.workflow_id,
            self.claim.submission,
            kind,
            today(),
            reason,
            due=due,
            task=task,
            closes_tasks=kind == "remittance_received",
        )

    async def pick_up(self) -> Remittance | None:
        return await self.first_look(self.claim, self.calls)

    @staticmethod
    async def first_look(claim: SubmitClaim, calls: PayerCalls) -> Remittance | None:
        """The claim's 835 if the mailbox has it now."""
        return await calls.ask(
            ClaimActivities.pick_up_remittance,
            claim,
            payer_id=claim.submission.coverage.payer_id,
            about="the ERA mailbox (835)",
            ccn=claim.submission.claim_control_number,
        )

    async def wait(self, looked: bool = False) -> Remittance | None:
        """The claim's 835, or None when the timely filing deadline passed without one
        (`looked`: the mailbox was read once already, and had none)."""
        remittance = None if looked else await self.pick_up()
        if remittance is not None:
            return remittance
        sub, filing = self.claim.submission, self.filing
        ccn, payer_id = sub.claim_control_number, sub.coverage.payer_id
        later_payer = sub.payer_sequence > 1
        escalate_on = escalation_date(self.rules, filing, later_payer)
        check = first_status_check(self.rules, self.accepted_on)
        escalated = False
        payer_claim_number: str | None = None
        self.on_deadline(filing)
        late = filed_late(filing, self.accepted_on)
        give_up = last_day_to_wait(self.rules, filing, self.accepted_on)
        if late:
            reason = (
                f"claim {ccn} was filed on {self.accepted_on.isoformat()}, after the timely "
                f"filing deadline {filing.due.isoformat()} ({filing.rule}): expect a CO-29 "
                "denial; appeal only with proof of timely filing"
            )
            await record(self._step("filed_late", reason, filing.due, task=True))
            escalated = True
        while True:
            day = today()
            if day > give_up:
                self.lost_reason = (
                    f"no 835 from {payer_id} for claim {ccn} by the timely filing deadline "
                    f"{filing.due.isoformat()} ({filing.rule}, {filing.citation}); the payer "
                    f"accepted it on {self.accepted_on.isoformat()}"
                    + (f"; followed up until {give_up.isoformat()}" if late else "")
                )
                await record(self._step("claim_lost", self.lost_reason, filing.due, task=True))
                self.on_deadline(None)
                return None
            if not escalated and day >= escalate_on:
                left = (filing.due - day).days
                reason = (
                    f"no 835 from {payer_id} for claim {ccn}, accepted "
                    f"{self.accepted_on.isoformat()}: {left} days left to the timely filing "
                    f"deadline {filing.due.isoformat()}; confirm the payer has it or refile"
                )
                await record(self._step("filing_escalation", reason, filing.due, task=True))
                escalated = True
            if day >= check.due:
                status = await self.calls.ask(
                    ClaimActivities.check_claim_status,
                    StatusCheck(
                        workflow_id=self.claim.workflow_id,
                        submission=sub,
                        payer_claim_number=payer_claim_number,
                        on=day,
                    ),
                    payer_id=payer_id,
                    about=f"claim status (276) for claim {ccn}",
                    ccn=ccn,
                )
                payer_claim_number = status.payer_claim_number or payer_claim_number
                task = task_for_status(status, filing)
                if task is not None:
                    await record(self._step(task.kind, task.reason, task.due, task=True))
                check = next_status_check(self.rules, day)
            wake = [day + timedelta(days=self.era_poll_days), check.due, give_up + timedelta(1)]
            if not escalated:
                wake.append(escalate_on)
            await sleep_until(min(wake))
            remittance = await self.pick_up()
            if remittance is not None:
                reason = f"835 received for claim {ccn} ({remittance.payer_claim_number})"
                await record(self._step("remittance_received", reason, None, task=False))
                self.on_deadline(None)
                return remittance
