"""AppealWorkflow: one denied claim's appeal, level by level.

For each level the payer's rules give (Medicare: redetermination, reconsideration, ALJ,
Council, court; commercial: one internal appeal of 180 days):
- the filing deadline is set from the notice being appealed (its presumed receipt plus the
  level's window) and a worklist task asks the team to file; at 75% of the window, if
  nothing is filed, a second task escalates it (cob.appeals.appeal_escalation_date);
- the team files through the `file_appeal` update (its validator refuses another level or a
  closed window); no filing by the deadline ends the appeal as expired;
- once filed, the reviewer's decision window runs. The outcome comes from the payer (a new
  835 for the claim: overturned) or from the team (`appeal_decided` signal). Upheld opens
  the next level, counted from the day of that decision; overturned waits for the payer's
  payment by the prompt-pay day. A decision or a payment overdue is a task.

The levels, windows and what a decision means are cob/appeals.py's and cob/deadlines.py's
(42 USC 1395ff for Medicare; 29 CFR 2560.503-1(h) for group health plans).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.claims import ClaimActivities
    from cob.appeals import (
        AppealDecision,
        AppealFiling,
        AppealOutcome,
        AppealResult,
        AppealRun,
        amount_in_controversy,
        appeal_escalation_date,
        below_amount_in_controversy,
        filing_window_closed,
        next_level_notice,
        payer_reprocessed,
        reprocessed_payment_due,
    )
    from cob.deadlines import Deadline, appeal_deadline, appeal_decision_due, overdue
    from cob.model import Remittance
    from contract.ids import appeal_workflow_id
    from contract.messages import ClaimOutcome, ClaimProgress, FollowUp, SubmitClaim
    from contract.stages import Stage
    from workflows.follow_up import record, today
    from workflows.payer_calls import PayerCalls
    from workflows.versions import changed

# Version (workflow.patched): a level whose minimum amount in controversy the claim does not
# reach opens an aggregation task instead of the filing task.
APPEAL_AIC = "appeal-aic"


@workflow.defn
class AppealWorkflow:
    def __init__(self) -> None:
        self._run: AppealRun | None = None
        self._level = 0
        self._deadline: Deadline | None = None
        self._filed: AppealFiling | None = None
        self._decision: AppealDecision | None = None
        self._steps: list[str] = []
        self._stage = Stage.APPEAL

    @workflow.run
    async def run(self, run: AppealRun) -> AppealOutcome:
        self.generation = run.generation  # which changes it takes (workflows/versions.py)
        self._run = run
        notice = run.denied.adjudication_date  # the initial determination (835) date
        levels = run.rules.appeal_levels
        for level in range(1, len(levels) + 1):
            self._level, self._filed, self._decision = level, None, None
            name = levels[level - 1].name
            filing = appeal_deadline(run.rules, level, notice)
            await self._progress(Stage.APPEAL, filing)
            below = None
            if levels[level - 1].amount_in_controversy and changed(APPEAL_AIC):
                at_stake = amount_in_controversy(run.submission, run.denied)
                below = below_amount_in_controversy(at_stake, levels[level - 1], today())
            if below is not None:
                await self._step(
                    "appeal_below_aic",
                    f"level {level} of claim {self._ccn}: {below.explanation}; an aggregated "
                    f"request is due by {filing.due.isoformat()} ({filing.rule})",
                    filing,
                    task=True,
                )
            else:
                await self._step(
                    "appeal_due",
                    f"level {level} ({name}) of claim {self._ccn} against "
                    f"{run.denial.explanation}: file by {filing.due.isoformat()} "
                    f"({filing.rule}; {filing.citation})",
                    filing,
                    task=True,
                )
            if not await self._await_filing(notice, filing, name):
                reason = f"{name} not filed by {filing.due.isoformat()}; the denial stands"
                await self._step("appeal_expired", reason, filing, task=True, closes=True)
                await self._progress(Stage.APPEAL_EXPIRED, None)
                return self._outcome("expired", reason)
            filed_on = today()
            decision_due = appeal_decision_due(run.rules, level, filed_on)
            await self._step(
                "appeal_filed",
                f"{name} filed on {filed_on.isoformat()}"
                + (f"; decision due {decision_due.due.isoformat()}" if decision_due else "")
                + (f" by {self._filed.by}" if self._filed and self._filed.by else "")
                + (f": {self._filed.note}" if self._filed and self._filed.note else ""),
                decision_due,
                task=False,
                closes=True,
            )
            await self._progress(Stage.APPEAL_FILED, decision_due)
            remittance = await self._await_decision(decision_due, name)
            if remittance is not None:
                reason = (
                    f"{name}: the payer reprocessed the claim ({remittance.payer_claim_number})"
                )
                await self._step("appeal_paid", reason, None, task=False, closes=True)
                return self._outcome("overturned", reason, remittance)
            notice = next_level_notice(today())
            await self._step(
                "appeal_upheld", f"{name} upheld the denial", None, task=False, closes=True
            )
        return self._outcome("upheld", "every appeal level upheld the denial")

    def _calls(self) -> PayerCalls:
        """Payer calls held on a fault; the held stage shows in this appeal's status query
        (the task is in the worklist)."""
        assert self._run is not None
        return PayerCalls(
            workflow_id=workflow.info().workflow_id,
            encounter_id=self._run.submission.encounter.encounter_id,
            stage=lambda: self._stage,
            set_stage=lambda stage: setattr(self, "_stage", stage),
        )

    @property
    def _ccn(self) -> str:
        assert self._run is not None
        return self._run.submission.claim_control_number

    async def _await_filing(self, notice: date, filing: Deadline, name: str) -> bool:
        """Until the end of the filing deadline's day; escalated when cob.appeals says."""
        assert self._run is not None
        escalate_on = appeal_escalation_date(self._run.rules, notice, filing)
        if today() < escalate_on and await self._wait_for_filing(escalate_on):
            return True
        if self._filed is None:
            left = (filing.due - today()).days
            await self._step(
                "appeal_escalation",
                f"{name} of claim {self._ccn} not filed: {left} days left to "
                f"{filing.due.isoformat()}",
                filing,
                task=True,
            )
        return await self._wait_for_filing(filing.due + timedelta(days=1))

    async def _wait_for_filing(self, until: date) -> bool:
        if self._filed is not None:
            return True
        delay = _until(until)
        try:
            await workflow.wait_condition(lambda: self._filed is not None, timeout=delay)
        except TimeoutError:
            return False
        return True

    async def _await_decision(self, due: Deadline | None, name: str) -> Remittance | None:
        """The payer's new 835 for the claim (returned), or None when the reviewer upheld the
        denial. A favorable decision the team reports is followed by the payer's payment: the
        wait goes on, against the prompt-pay day (cob.appeals.reprocessed_payment_due)."""
        assert self._run is not None
        run = self._run
        overdue_flagged, heard = False, False
        while True:
            remittance = await self._calls().ask(
                ClaimActivities.pick_up_remittance,
                SubmitClaim(workflow_id=run.claim_workflow_id, submission=run.submission),
                payer_id=run.submission.coverage.payer_id,
                about="the ERA mailbox (835) for the appeal's decision",
                ccn=self._ccn,
            )
            if remittance is not None and payer_reprocessed(run.denied, remittance):
                return remittance
            if self._decision is not None and not heard:
                heard = True
                due = reprocessed_payment_due(self._decision, run.rules, today())
                if due is None:  # upheld
                    return None
                await self._step(
                    "appeal_overturned",
                    f"{name} decided for us; the payer owes the reprocessed claim by "
                    f"{due.due.isoformat()} ({due.rule})",
                    due,
                    task=False,
                    closes=True,
                )
                await self._progress(Stage.APPEAL_WON, due)
                overdue_flagged = False
            if due is not None and not overdue_flagged and overdue(due, today()):
                what = "payment" if heard else "decision"
                await self._step(
                    f"appeal_{what}_overdue",
                    f"{name}: no {what} by {due.due.isoformat()} ({due.rule})"
                    + ("" if heard else "; the next level may be requested without it where "
                       "the payer's rules allow"),
                    due,
                    task=True,
                )  # fmt: skip
                overdue_flagged = True
            wake = today() + timedelta(days=run.era_poll_days)
            if due is not None and not overdue_flagged:
                wake = min(wake, due.due + timedelta(days=1))
            try:
                await workflow.wait_condition(
                    lambda heard=heard: self._decision is not None and not heard,
                    timeout=_until(wake),
                )
            except TimeoutError:
                pass

    def _outcome(
        self, result: AppealResult, reason: str, remittance: Remittance | None = None
    ) -> AppealOutcome:
        self._steps.append(f"{today().isoformat()} {result}: {reason}")
        return AppealOutcome(
            result=result,
            level=self._level,
            reason=reason,
            remittance=remittance,
            steps=self._steps,
        )

    async def _step(
        self, kind: str, reason: str, due: Deadline | None, task: bool, closes: bool = False
    ) -> None:
        assert self._run is not None
        self._steps.append(f"{today().isoformat()} {kind}: {reason}")
        run = self._run
        await record(
            FollowUp(
                workflow_id=run.claim_workflow_id,  # the claim's audit trail and worklist
                encounter_id=run.submission.encounter.encounter_id,
                payer_id=run.submission.coverage.payer_id,
                claim_control_number=self._ccn,
                kind=kind,
                on=today(),
                reason=reason,
                due=due.due if due else None,
                task=task,
                closes_tasks=closes,
            )
        )

    async def _progress(self, stage: Stage, deadline: Deadline | None) -> None:
        """Tell the claim workflow (and through it the encounter) the stage and deadline."""
        self._stage, self._deadline = stage, deadline
        parent = workflow.info().parent
        if parent is not None:
            handle = workflow.get_external_workflow_handle(parent.workflow_id)
            await handle.signal("claim_progress", ClaimProgress(stage=stage, deadline=deadline))

    @workflow.query
    def status(self) -> ClaimProgress:
        return ClaimProgress(stage=self._stage, deadline=self._deadline)

    @workflow.update
    def file_appeal(self, filing: AppealFiling) -> str:
        self._filed = filing
        return f"level {filing.level} appeal of claim {self._ccn} filed on {today().isoformat()}"

    @file_appeal.validator
    def _validate_filing(self, filing: AppealFiling) -> None:
        if filing.level != self._level:
            raise ValueError(f"the appeal is at level {self._level}, not {filing.level}")
        if self._filed is not None:
            raise ValueError(f"level {self._level} is already filed")
        if self._deadline is None or filing_window_closed(self._deadline, today()):
            raise ValueError(f"the level {self._level} filing window is closed")

    @workflow.signal
    def appeal_decided(self, decision: AppealDecision) -> None:
        if decision.level == self._level and self._filed is not None:
            self._decision = decision


def _until(day: date) -> timedelta:
    """The time from now to the start (00:00 UTC) of `day`, at least a second."""
    return max(datetime.combine(day, time(), tzinfo=UTC) - workflow.now(), timedelta(seconds=1))


async def appeal_claim(run: AppealRun, outcome: ClaimOutcome) -> None:
    """A claim workflow's denial routed to appeal: an AppealWorkflow (its child) works the
    levels; an overturn by the payer replaces the denied remittance with the payer's new
    adjudication."""
    appeal = await workflow.execute_child_workflow(
        AppealWorkflow.run, run, id=appeal_workflow_id(run.claim_workflow_id)
    )
    outcome.appeal = appeal
    if appeal.remittance is not None:
        outcome.remittance, outcome.result = appeal.remittance, "adjudicated"
    else:
        outcome.reason = f"{run.denial.explanation}; appeal {appeal.result}: {appeal.reason}"
