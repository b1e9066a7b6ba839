"""A correctable denial, worked: the wait for the team's correction on durable timers, until
the claim's corrected-claim deadline (cob.deadlines.correction_deadline: its timely filing
deadline, since a corrected claim is a claim).

- the day the denial comes, a worklist task says what to fix (its CARC and RARCs), the amount
  at stake and the deadline, which the search attributes show (kind "correction");
- `escalation_days` before the deadline (60 for a later payer's claim), another task;
- the correction (the claim's `correct_claim` update) closes the tasks and the claim is sent
  again; with none by the deadline the claim is lost: a task and an audit event say why.

The days and the words are cob's; this module only keeps the timers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from cob.claims import (
        amount_at_stake,
        correction_escalation,
        correction_lost,
        correction_needed,
    )
    from cob.deadlines import Deadline, DeadlineRules, correction_deadline, escalation_date
    from cob.denials import DenialDecision
    from cob.model import ClaimSubmission, Remittance
    from contract.messages import FollowUp
    from workflows.follow_up import record, today

# Workflow version (workflow.patched): a correctable denial is a worklist task and waits until
# its corrected-claim deadline (before it: `correction_wait_days`, with no task).
CORRECTION_WORKLIST = "correction-worklist"


class CorrectionWait:
    """One denied claim's wait for its correction. `corrected` says whether the team's
    correction has come; `on_deadline` is told the deadline, for the search attributes."""

    def __init__(
        self,
        submission: ClaimSubmission,
        denial: DenialDecision,
        denied: Remittance | None,
        rules: DeadlineRules,
        corrected: Callable[[], bool],
        on_deadline: Callable[[Deadline | None], None],
    ) -> None:
        self.submission = submission
        self.denial = denial
        self.corrected = corrected
        self.on_deadline = on_deadline
        self.deadline = correction_deadline(rules, submission)
        self.escalate_on = escalation_date(rules, self.deadline, submission.payer_sequence > 1)
        self.at_stake = amount_at_stake(submission.encounter, denied)
        self.lost_reason = ""

    def _step(self, kind: str, reason: str, task: bool, closes: bool = False) -> FollowUp:
        return FollowUp.about(
            workflow.info().workflow_id,
            self.submission,
            kind,
            today(),
            reason,
            due=None if closes else self.deadline.due,
            task=task,
            closes_tasks=closes,
            # keyed by payer too, so a task closed by one correction opens again when the
            # corrected claim is denied in turn (ledger.worklist.open_task)
            per_payer=task,
        )

    async def wait(self, give_up: Callable[[], None]) -> bool:
        """True when the correction came by the deadline; else the claim is lost
        (`lost_reason`), and `give_up` is called first, so no correction is accepted while
        the loss is recorded."""
        ccn, denial, at_stake, deadline = (
            self.submission.claim_control_number, self.denial, self.at_stake, self.deadline
        )  # fmt: skip
        self.on_deadline(deadline)
        if today() <= deadline.due:
            reason = correction_needed(denial, ccn, at_stake, deadline)
            await record(self._step("correction_needed", reason, task=True))
        escalated = False
        while not self.corrected():
            day = today()
            if day > deadline.due:
                give_up()
                self.lost_reason = correction_lost(denial, ccn, at_stake, deadline)
                await record(self._step("claim_lost", self.lost_reason, task=True))
                self.on_deadline(None)
                return False
            if not escalated and day >= self.escalate_on:
                reason = correction_escalation(denial, ccn, at_stake, deadline, day)
                await record(self._step("correction_escalation", reason, task=True))
                escalated = True
            wake = deadline.due + timedelta(days=1)
            if not escalated:
                wake = min(wake, self.escalate_on)
            try:
                await workflow.wait_condition(self.corrected, timeout=_until(wake))
            except TimeoutError:
                continue
        reason = f"correction received for claim {ccn} ({denial.explanation}): resubmitting"
        await record(self._step("correction_received", reason, task=False, closes=True))
        self.on_deadline(None)
        return True


def _until(day: date) -> timedelta:
    """From now to the start (00:00 UTC) of `day`; at least a second, so a timer is set."""
    delay = datetime.combine(day, time(), tzinfo=UTC) - workflow.now()
    return max(delay, timedelta(seconds=1))
