"""The wait for a claim's 835, on durable timers (DOMAIN.md §4.1, §4.6).

After the payer accepts a claim (277CA), the workflow reads the ERA mailbox every
`era_poll_days`, and on the days the payer's rules give:
- the first 276 status inquiry on max(payment floor + 1, prompt pay - 5) days after
  acceptance, then again every `status_recheck_days` while there is no 835;
- a worklist task `escalation_days` before the timely filing deadline (60 for a later
  payer's claim);
- after the deadline, the claim is lost: a task and an audit event say why.

Every step lands in the audit trail with the workflow's date, so an auditor can replay it.
All dates are UTC calendar days; a timer wakes at the start of its day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.claims import ClaimActivities
    from activities.encounter import EncounterActivities
    from cob.claim_status import ClaimStatusReport
    from cob.deadlines import (
        Deadline,
        DeadlineRules,
        claim_filing_deadline,
        escalation_date,
        first_status_check,
        next_status_check,
        prior_auth_decision_due,
    )
    from cob.model import PriorAuthDecision, PriorAuthRequest, Remittance
    from contract.messages import FollowUp, StatusCheck, SubmitClaim
    from workflows.payer_calls import PayerCalls
    from workflows.policies import LOOKUP


def today() -> date:
    return workflow.now().date()


async def sleep_until(day: date) -> None:
    """A durable timer to the start (00:00 UTC) of `day`."""
    delay = datetime.combine(day, time(), tzinfo=UTC) - workflow.now()
    if delay > timedelta(0):
        await workflow.sleep(delay)


async def deadline_rules(payer_id: str) -> DeadlineRules:
    return await workflow.execute_activity_method(
        ClaimActivities.deadline_rules, payer_id, **LOOKUP
    )


async def record(step: FollowUp) -> None:
    await workflow.execute_activity_method(ClaimActivities.follow_up, step, **LOOKUP)


def task_for_status(status: ClaimStatusReport, filing: Deadline) -> tuple[str, str, date] | None:
    """What a 277 answer asks of the team, as (kind, reason, due), or None to keep waiting
    (DOMAIN.md §3.5, §4.6)."""
    answer = f"277 {status.category}:{status.status_code}"
    if status.not_found:
        return (
            "claim_not_on_file",
            f"{answer}: the payer has no record of the claim; refile before the timely "
            f"filing deadline {filing.due.isoformat()} with the 277CA acceptance as proof",
            filing.due,
        )
    if status.finalized:  # F1/F2/F4 with no 835 after 10 days: ask for the ERA again
        due = status.effective_date + timedelta(days=10)
        return (
            "era_missing",
            f"{answer}: finalized on {status.effective_date.isoformat()} but no 835 has "
            "come; ask the payer to re-send the ERA",
            due,
        )
    if status.category.startswith("R"):
        return (
            "records_requested",
            f"{answer}: the payer asks for more information; send it before "
            f"{filing.due.isoformat()}",
            filing.due,
        )
    return None


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
    ) -> None:
        self.claim = claim
        self.calls = calls
        self.rules = rules
        self.era_poll_days = era_poll_days
        self.on_deadline = on_deadline
        sub = claim.submission
        self.accepted_on = today()  # the 277CA acceptance: proof of timely filing
        self.filing = claim_filing_deadline(rules, sub)
        self.lost_reason = ""

    def _step(self, kind: str, reason: str, due: date | None, task: bool) -> FollowUp:
        """A dated step; the 835's arrival closes the claim's open tasks."""
        sub = self.claim.submission
        return FollowUp(
            workflow_id=self.claim.workflow_id,
            encounter_id=sub.encounter.encounter_id,
            payer_id=sub.coverage.payer_id,
            claim_control_number=sub.claim_control_number,
            kind=kind,
            on=today(),
            reason=reason,
            due=due,
            task=task,
            closes_tasks=kind == "remittance_received",
        )

    async def pick_up(self) -> Remittance | None:
        return await self.calls.ask(
            ClaimActivities.pick_up_remittance,
            self.claim,
            payer_id=self.claim.submission.coverage.payer_id,
            about="the ERA mailbox (835)",
            ccn=self.claim.submission.claim_control_number,
        )

    async def wait(self) -> Remittance | None:
        """The claim's 835, or None when the timely filing deadline passed without one."""
        remittance = await self.pick_up()
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
        # A claim filed after its deadline is still owed an answer (most likely CO-29): it is
        # followed up as any other, and given up after the prompt-pay day and one re-check.
        late = self.accepted_on > filing.due
        give_up = filing.due
        if late:
            give_up = self.accepted_on + timedelta(
                days=self.rules.prompt_pay_days + self.rules.status_recheck_days
            )
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
                    kind, reason, due = task
                    await record(self._step(kind, reason, due, task=True))
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


PRIOR_AUTH_ALERT = 0.8  # DOMAIN.md §4.5: alert at 80% of the decision window
PRIOR_AUTH_DEFAULT_ALERT = timedelta(days=7)  # no regulatory window: the engine's own limit


async def await_prior_auth(
    request: PriorAuthRequest,
    rules: DeadlineRules,
    workflow_id: str,
    on_deadline: Callable[[Deadline | None], None],
    calls: PayerCalls,
) -> PriorAuthDecision:
    """A pended 278 (HCR A4), asked again every day until the payer decides. For a payer
    under CMS-0057-F the decision is due 7 calendar days after the request (a pended answer
    does not stop the clock): a task at 80% of the window, another when it is breached. For
    the others a task after 7 days (DOMAIN.md §4.5)."""
    requested_at = workflow.now()
    due_at = prior_auth_decision_due(rules, requested_at, urgent=False)
    alert_at = (
        requested_at + (due_at - requested_at) * PRIOR_AUTH_ALERT
        if due_at
        else requested_at + PRIOR_AUTH_DEFAULT_ALERT
    )
    if due_at:
        on_deadline(
            Deadline(
                kind="prior_auth_decision",
                due=due_at.date(),
                rule=f"decision by {due_at:%Y-%m-%d %H:%M} UTC: 7 calendar days after the "
                "standard request",
                citation="CMS-0057-F (DOMAIN.md §4.5)",
            )
        )

    def step(kind: str, reason: str, task: bool) -> FollowUp:
        return FollowUp(
            workflow_id=workflow_id,
            encounter_id=request.encounter_id,
            payer_id=request.coverage.payer_id,
            kind=kind,
            on=today(),
            reason=reason,
            due=due_at.date() if due_at else None,
            task=task,
        )

    codes = ", ".join(request.procedure_codes)
    await record(step("prior_auth_pended", f"278 pended for {codes}; asked again daily", False))
    alerted = breached = False
    asks = 0
    while True:
        next_ask = requested_at + timedelta(days=asks + 1)  # daily, from the request
        wake = [next_ask]
        if not alerted:
            wake.append(alert_at)
        if due_at and not breached:
            wake.append(due_at)
        await workflow.sleep(max(min(wake) - workflow.now(), timedelta(seconds=1)))
        now = workflow.now()
        if not alerted and now >= alert_at:
            alerted = True
            limit = f"due {due_at:%Y-%m-%d %H:%M} UTC" if due_at else "no regulatory window"
            reason = (
                f"278 for {codes} still pended after {(now - requested_at).days} days ({limit})"
            )
            await record(step("prior_auth_escalation", reason, True))
        if due_at and not breached and now >= due_at:
            breached = True
            reason = f"the payer's CMS-0057-F decision window for {codes} passed at {due_at:%Y-%m-%d %H:%M} UTC"
            await record(step("prior_auth_overdue", reason, True))
        if now < next_ask:
            continue
        asks += 1
        decision = await calls.ask(
            EncounterActivities.request_prior_auth,
            request.model_copy(update={"follow_up": asks}),
            payer_id=request.coverage.payer_id,
            about=f"prior authorization (278) follow-up {asks}",
        )
        if decision.status != "pended":
            reason = f"278 {decision.status} for {codes} {decision.reason}".strip()
            closing = step("prior_auth_decided", reason, False)
            await record(closing.model_copy(update={"closes_tasks": True}))
            on_deadline(None)
            return decision
