"""PayerClaimWorkflow: one claim to one payer, from prior authorization to its remittance,
including a correction and resubmission when the denial is one a team can fix."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.claims import ClaimActivities
    from activities.encounter import EncounterActivities
    from cob.appeals import AppealRun
    from cob.claims import (
        MAX_SUBMISSIONS,
        amount_at_stake,
        answer_result,
        claim_control_number,
        corrected_submission,
        corrections_exhausted,
        denial_needs_team,
        front_end_rejection,
    )
    from cob.deadlines import Deadline, DeadlineRules
    from cob.denials import (
        ROUTE_ACTIONS,
        ClaimCorrection,
        DenialDecision,
        Route,
        apply_correction,
        correction_problem,
        route_denial,
    )
    from cob.expected import review_payment, underpayment_due, underpayment_task
    from cob.model import ClaimAcknowledgment, ClaimSubmission, Remittance
    from contract import search_attributes
    from contract.messages import (
        ClaimOutcome,
        ClaimProgress,
        ClaimRun,
        ClaimWorkflowStatus,
        FollowUp,
        SubmitClaim,
    )
    from contract.stages import CLAIM_FINAL, Stage
    from workflows.acknowledgment import resend_once
    from workflows.appeal import appeal_claim
    from workflows.correction import CORRECTION_WORKLIST, CorrectionWait
    from workflows.follow_up import RemittanceWatch, deadline_rules, record
    from workflows.payer_calls import PayerCalls
    from workflows.policies import PAYER_CALL, payer_rejection
    from workflows.prior_auth import authorize
    from workflows.versions import changed

# Workflow versions (workflow.patched), so claims already running replay as they ran:
# follow-up timers while waiting for the 835, and progress reported to the encounter.
FOLLOW_UP_TIMERS = "follow-up-timers"
APPEALS = "appeals"  # a denial routed to appeal starts an AppealWorkflow
DENIAL_ROUTES = "denial-routes"  # the route a denial takes is recorded, with why
ACK_FOLLOW_UP = "ack-follow-up"  # no 277CA: resend once (workflows/acknowledgment.py)
UNDERPAID_WORKLIST = "underpaid-worklist"  # an underpaid claim is a task and CobUnderpaid
# Fewer steps per claim: the mailbox is read before the payer's deadline terms are looked up
# (none are needed when the 835 is there), the lookup is a local activity, and a claim's
# last report goes to the encounter only when it says something new.
LEAN_CLAIM = "lean-claim"
# (and workflows/correction.py's CORRECTION_WORKLIST: a correctable denial is a task, waited
# for until its corrected-claim deadline, then lost)
# (and workflows/prior_auth.py's PRIOR_AUTH_FOLLOW_UP: a pended 278 is asked again on timers)


@workflow.defn
class PayerClaimWorkflow:
    def __init__(self) -> None:
        self._payer_id = ""
        self._stage = Stage.STARTING
        self._denial: DenialDecision | None = None
        self._correction: ClaimCorrection | None = None
        self._timers = False
        self._reports: list[asyncio.Task] = []
        self._rules: DeadlineRules | None = None
        self._deadline: Deadline | None = None
        self._lean = False
        self._unshown = False  # a quiet stage not yet upserted nor reported
        self._reported: ClaimProgress | None = None  # the last report sent to the encounter

    @workflow.run
    async def run(self, run: ClaimRun) -> ClaimOutcome:
        self.generation = run.generation  # which changes it takes (workflows/versions.py)
        self._timers = changed(FOLLOW_UP_TIMERS)
        self._lean = changed(LEAN_CLAIM)
        self._payer_id = run.coverage.payer_id
        self._calls = PayerCalls(
            workflow_id=workflow.info().workflow_id,
            encounter_id=run.encounter.encounter_id,
            stage=lambda: self._stage,
            set_stage=self._set_stage,
        )
        outcome = ClaimOutcome(
            payer_id=self._payer_id, payer_sequence=run.payer_sequence, result="held"
        )
        try:
            await self._bill(run, outcome)
        except ActivityError as error:
            rejection = payer_rejection(error)
            if rejection is None:
                raise
            outcome.result, outcome.reason = "rejected", f"payer rejected: {rejection}"
        if outcome.remittance is not None:
            # The engine's own expectation, so an underpaid claim is flagged for review.
            outcome.payment_review = review_payment(
                outcome.remittance,
                run.benefits,
                run.prior_remittances,
                out_of_network={
                    c.payer_id for c in run.encounter.coverages if not c.provider_in_network
                },
            )
            if outcome.payment_review.underpaid and changed(UNDERPAID_WORKLIST):
                await self._work_underpayment(run, outcome)
        self._set_stage(Stage(outcome.result))
        # The encounter hears every report before this claim ends (a signal still in flight
        # when the child completes could reach a parent that has already moved on).
        await asyncio.gather(*self._reports)
        return outcome

    async def _await_remittance(
        self, run: ClaimRun, claim: SubmitClaim
    ) -> tuple[Remittance | None, str]:
        """The 835, or None and why the claim is lost (no 835 by the filing deadline)."""
        if not self._timers:  # claims started before the follow-up timers
            remittance = await workflow.execute_activity_method(
                ClaimActivities.fetch_remittance, claim, **PAYER_CALL
            )
            return remittance, ""
        looked, accepted_on = False, workflow.now().date()
        if self._lean:  # the 835 is often there at the first look: no deadline terms needed
            remittance = await RemittanceWatch.first_look(claim, self._calls)
            if remittance is not None:
                return remittance, ""
            looked = True  # it waits: the watch shows its stage with its deadline
        watch = RemittanceWatch(
            claim, await self._deadline_rules(), run.era_poll_days, self._set_deadline,
            self._calls, accepted_on,
        )  # fmt: skip
        return await watch.wait(looked), watch.lost_reason

    async def _bill(self, run: ClaimRun, outcome: ClaimOutcome) -> None:
        authorization = await authorize(
            run, outcome, self._calls, self._set_stage, self._set_deadline, self._deadline_rules
        )
        if outcome.reason:
            return
        encounter = run.encounter
        submission = ClaimSubmission(
            claim_control_number=self._claim_control_number(run, attempt=1),
            payer_sequence=run.payer_sequence,
            encounter=encounter,
            coverage=run.coverage,
            prior_authorization_number=authorization,
            prior_remittances=run.prior_remittances,
        )
        for attempt in range(1, MAX_SUBMISSIONS + 1):
            self._set_stage(Stage.SUBMITTED, quiet=self._lean)
            outcome.claim_control_numbers.append(submission.claim_control_number)
            ack = await self._submit(submission)
            if not ack.acknowledged and changed(ACK_FOLLOW_UP):
                self._set_stage(Stage.AWAITING_ACKNOWLEDGMENT)
                ack = await resend_once(submission, ack, self._submit, self._follow_up)
                if not ack.acknowledged:
                    outcome.result, outcome.reason = "held", ack.reason
                    return
            remittance: Remittance | None = None
            if ack.accepted:
                self._set_stage(Stage.AWAITING_REMITTANCE, quiet=self._lean)
                remittance, lost = await self._await_remittance(
                    run, SubmitClaim(workflow_id=workflow.info().workflow_id, submission=submission)
                )
                if remittance is None:
                    outcome.result, outcome.reason = "lost", lost
                    return
                self._denial = route_denial(remittance)
                if self._denial.route != Route.POST and changed(DENIAL_ROUTES):
                    await self._record_route(submission, self._denial)
            else:
                self._denial = front_end_rejection(ack)
            fixable = self._denial.route == Route.FIX_RESUBMIT
            outcome.remittance, outcome.denial = remittance, self._denial
            outcome.result = answer_result(remittance, self._denial)
            if remittance is not None and self._denial.route == Route.APPEAL:
                if changed(APPEALS):
                    appeal = AppealRun(
                        claim_workflow_id=workflow.info().workflow_id,
                        submission=submission,
                        denied=remittance,
                        denial=self._denial,
                        rules=await self._deadline_rules(),
                        era_poll_days=run.era_poll_days,
                        generation=run.generation,
                    )
                    await appeal_claim(appeal, outcome)
                break
            if not fixable:
                break
            if changed(CORRECTION_WORKLIST):
                if not await self._work_correction(submission, remittance, outcome, attempt):
                    return
            elif attempt == MAX_SUBMISSIONS or not await self._await_correction(run):
                outcome.reason = f"{self._denial.explanation}; no correction received"
                break
            assert self._correction is not None
            outcome.corrected_denials.append(self._denial.explanation)
            encounter = apply_correction(encounter, self._correction)
            self._correction = None
            submission = corrected_submission(
                submission, encounter, self._claim_control_number(run, attempt + 1), remittance
            )

    @staticmethod
    def _claim_control_number(run: ClaimRun, attempt: int) -> str:
        return claim_control_number(
            run.encounter.encounter_id, run.claim_number, run.payer_sequence, attempt
        )

    async def _deadline_rules(self) -> DeadlineRules:
        """The payer's deadline terms, read once (an activity: profiles are files)."""
        if self._rules is None:
            self._rules = await deadline_rules(self._payer_id, local=self._lean)
        return self._rules

    async def _submit(self, submission: ClaimSubmission) -> ClaimAcknowledgment:
        ccn = submission.claim_control_number
        return await self._calls.ask(
            EncounterActivities.submit_claim,
            SubmitClaim(workflow_id=workflow.info().workflow_id, submission=submission),
            payer_id=self._payer_id,
            about=f"claim {ccn} (837P)",
            ccn=ccn,
        )

    async def _follow_up(
        self, submission: ClaimSubmission, kind: str, reason: str, task: bool = False
    ) -> None:
        await record(
            FollowUp.about(
                workflow.info().workflow_id,
                submission,
                kind,
                workflow.now().date(),
                reason,
                task=task,
            )
        )

    async def _record_route(self, submission: ClaimSubmission, denial: DenialDecision) -> None:
        """The route a denial takes and why, in the audit trail; a COB review is a task."""
        reason = f"{denial.explanation}: {ROUTE_ACTIONS[denial.route]}"
        await self._follow_up(submission, "denial_routed", reason, task=denial_needs_team(denial))

    async def _work_correction(
        self,
        submission: ClaimSubmission,
        denied: Remittance | None,
        outcome: ClaimOutcome,
        attempt: int,
    ) -> bool:
        """A correctable denial worked until its correction comes (True: send it) or its
        corrected-claim deadline passes (False: the claim is lost, `outcome` says why)."""
        assert self._denial is not None
        ccn = submission.claim_control_number
        if attempt == MAX_SUBMISSIONS:
            at_stake = amount_at_stake(submission.encounter, denied)
            outcome.reason = corrections_exhausted(self._denial, ccn, at_stake)
            await self._follow_up(submission, "corrections_exhausted", outcome.reason, task=True)
            return False
        self._set_stage(Stage.AWAITING_CORRECTION)
        wait = CorrectionWait(
            submission,
            self._denial,
            denied,
            await self._deadline_rules(),
            corrected=lambda: self._correction is not None,
            on_deadline=self._set_deadline,
        )
        if await wait.wait(give_up=lambda: self._set_stage(Stage.LOST)):
            return True
        # Lost, never posted: the denied 835 is not the encounter's to adjust away (the
        # encounter stops at a claim with no remittance; the 835 stays in the ledger).
        outcome.result, outcome.reason, outcome.remittance = "lost", wait.lost_reason, None
        return False

    async def _work_underpayment(self, run: ClaimRun, outcome: ClaimOutcome) -> None:
        """An underpaid claim: a task with the expected, paid and variance per line, and
        CobUnderpaid on this workflow."""
        review, remittance = outcome.payment_review, outcome.remittance
        assert review is not None and remittance is not None
        rules = await self._deadline_rules()
        await record(
            FollowUp(
                workflow_id=workflow.info().workflow_id,
                encounter_id=run.encounter.encounter_id,
                payer_id=self._payer_id,
                claim_control_number=remittance.claim_control_number,
                kind="underpaid",
                on=workflow.now().date(),
                reason=underpayment_task(review, remittance.claim_control_number),
                due=underpayment_due(rules, remittance.adjudication_date),
                task=True,
            )
        )
        workflow.upsert_search_attributes([search_attributes.UNDERPAID.value_set(True)])

    async def _await_correction(self, run: ClaimRun) -> bool:
        """Before CORRECTION_WORKLIST: `correction_wait_days` with no task, then the denial
        stands (kept so claims started then replay as they ran)."""
        self._set_stage(Stage.AWAITING_CORRECTION)
        try:
            await workflow.wait_condition(
                lambda: self._correction is not None,
                timeout=timedelta(days=run.correction_wait_days),
            )
        except TimeoutError:
            return False
        return True

    def _set_stage(self, stage: Stage, quiet: bool = False) -> None:
        """The claim's stage, in its search attributes and reported to the encounter; a
        `quiet` one (a step of seconds when the payer answers at once) only once the claim
        waits in it (_set_deadline shows it with the deadline it waits against)."""
        self._stage = stage
        self._unshown = quiet
        if quiet:
            return
        workflow.upsert_search_attributes(
            [
                search_attributes.STAGE.value_set(stage.value),
                search_attributes.CURRENT_PAYER.value_set(self._payer_id),
            ]
        )
        self._report()

    def _set_deadline(self, deadline: Deadline | None) -> None:
        if deadline == self._deadline:
            return
        self._deadline = deadline
        workflow.upsert_search_attributes(search_attributes.deadline_updates(deadline))
        if self._unshown:  # the stage it waits in, with the deadline, in one report
            self._set_stage(self._stage)
        else:
            self._report()

    def _report(self) -> None:
        """Tell the encounter what this claim is doing and by when (its search attributes)."""
        parent = workflow.info().parent
        if not self._timers or parent is None:
            return
        progress = ClaimProgress(stage=self._stage, deadline=self._deadline)
        if self._lean:
            # The encounter takes a claim's outcome from its result, not from a report: the
            # last stage is news only with a new deadline; the same report twice never is.
            last = self._reported
            if progress == last or (
                progress.stage in CLAIM_FINAL
                and progress.deadline == (last.deadline if last else None)
            ):
                return
            self._reported = progress
        handle = workflow.get_external_workflow_handle(parent.workflow_id)
        # Not awaited: the signal is a command of this workflow task, sent in order.
        self._reports.append(asyncio.create_task(handle.signal("claim_progress", progress)))

    @workflow.signal
    def claim_progress(self, progress: ClaimProgress) -> None:
        """The appeal's stage and deadline, passed on to the encounter."""
        self._deadline = progress.deadline
        workflow.upsert_search_attributes(search_attributes.deadline_updates(progress.deadline))
        self._set_stage(progress.stage)

    @workflow.query
    def status(self) -> ClaimWorkflowStatus:
        return ClaimWorkflowStatus(payer_id=self._payer_id, stage=self._stage, denial=self._denial)

    @workflow.update
    def correct_claim(self, correction: ClaimCorrection) -> str:
        self._correction = correction
        return f"correction accepted; resubmitting to {self._payer_id}"

    @correct_claim.validator
    def _validate_correction(self, correction: ClaimCorrection) -> None:
        if self._stage != Stage.AWAITING_CORRECTION or self._denial is None:
            raise ValueError(f"claim is not waiting for a correction (stage: {self._stage})")
        problem = correction_problem(self._denial, correction)
        if problem:
            raise ValueError(problem)
