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
    from cob.expected import review_payment
    from cob.model import ClaimAcknowledgment, ClaimSubmission, PriorAuthRequest, Remittance
    from contract import search_attributes
    from contract.ids import appeal_workflow_id
    from contract.messages import (
        ClaimOutcome,
        ClaimProgress,
        ClaimRun,
        ClaimWorkflowStatus,
        FollowUp,
        SubmitClaim,
    )
    from contract.stages import Stage
    from workflows.appeal import AppealWorkflow
    from workflows.follow_up import (
        RemittanceWatch,
        await_prior_auth,
        deadline_rules,
        record,
        sleep_until,
    )
    from workflows.payer_calls import PayerCalls
    from workflows.policies import PAYER_CALL, payer_rejection

MAX_SUBMISSIONS = 3  # an original and two corrections; then the denial stands for a human
# Workflow versions (workflow.patched), so claims already running replay as they ran:
# follow-up timers while waiting for the 835, and progress reported to the encounter.
FOLLOW_UP_TIMERS = "follow-up-timers"
APPEALS = "appeals"  # a denial routed to appeal starts an AppealWorkflow
DENIAL_ROUTES = "denial-routes"  # the route a denial takes is recorded, with why
ACK_FOLLOW_UP = "ack-follow-up"  # no 277CA: resend once after ACK_WAIT_DAYS, then escalate
PRIOR_AUTH_FOLLOW_UP = "prior-auth-follow-up"  # a pended 278 is asked again on timers
ACK_WAIT_DAYS = 5  # DOMAIN.md §4.6: no 277CA by T+5 -> investigate


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

    @workflow.run
    async def run(self, run: ClaimRun) -> ClaimOutcome:
        self._timers = workflow.patched(FOLLOW_UP_TIMERS)
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
                outcome.remittance, run.benefits, run.prior_remittances
            )
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
        watch = RemittanceWatch(
            claim, await self._deadline_rules(), run.era_poll_days, self._set_deadline, self._calls
        )
        return await watch.wait(), watch.lost_reason

    async def _bill(self, run: ClaimRun, outcome: ClaimOutcome) -> None:
        authorization = await self._prior_authorization(run, outcome)
        if outcome.reason:
            return
        encounter = run.encounter
        submission = ClaimSubmission(
            claim_control_number=f"{encounter.encounter_id}-{run.claim_number or run.payer_sequence}-1",
            payer_sequence=run.payer_sequence,
            encounter=encounter,
            coverage=run.coverage,
            prior_authorization_number=authorization,
            prior_remittances=run.prior_remittances,
        )
        for attempt in range(1, MAX_SUBMISSIONS + 1):
            self._set_stage(Stage.SUBMITTED)
            outcome.claim_control_numbers.append(submission.claim_control_number)
            ack = await self._submit(submission)
            if not ack.acknowledged and workflow.patched(ACK_FOLLOW_UP):
                ack = await self._resend_once(submission, ack)
                if not ack.acknowledged:
                    outcome.result, outcome.reason = "held", ack.reason
                    return
            remittance: Remittance | None = None
            if ack.accepted:
                self._set_stage(Stage.AWAITING_REMITTANCE)
                remittance, lost = await self._await_remittance(
                    run, SubmitClaim(workflow_id=workflow.info().workflow_id, submission=submission)
                )
                if remittance is None:
                    outcome.result, outcome.reason = "lost", lost
                    return
                self._denial = route_denial(remittance)
                if self._denial.route != Route.POST and workflow.patched(DENIAL_ROUTES):
                    await self._record_route(submission, self._denial)
            else:  # 277CA rejection: never entered adjudication (DOMAIN.md §3.5)
                self._denial = DenialDecision(
                    route=Route.FIX_RESUBMIT, reason_code=ack.status_code, explanation=ack.reason
                )
            fixable = self._denial.route == Route.FIX_RESUBMIT
            outcome.remittance, outcome.denial = remittance, self._denial
            if remittance is None:
                outcome.result = "rejected"
            elif fixable or remittance.status == "4":
                outcome.result = "denied"
            else:
                outcome.result = "adjudicated"
            if remittance is not None and self._denial.route == Route.APPEAL:
                if workflow.patched(APPEALS):
                    await self._appeal(run, submission, remittance, outcome)
                break
            if not fixable:
                break
            if attempt == MAX_SUBMISSIONS or not await self._await_correction(run):
                outcome.reason = f"{self._denial.explanation}; no correction received"
                break
            assert self._correction is not None
            outcome.corrected_denials.append(self._denial.explanation)
            encounter = apply_correction(encounter, self._correction)
            self._correction = None
            # DOMAIN.md §3.4: a correction after adjudication is frequency 7 with REF*F8;
            # a claim rejected before acceptance is fixed and sent again as an original.
            replaces = remittance.payer_claim_number if remittance else None
            submission = submission.model_copy(
                update={
                    "claim_control_number": f"{encounter.encounter_id}-{run.claim_number or run.payer_sequence}-{attempt + 1}",
                    "encounter": encounter,
                    "frequency": "7" if replaces else "1",
                    "original_payer_claim_number": replaces,
                }
            )

    async def _deadline_rules(self) -> DeadlineRules:
        """The payer's deadline terms, read once (an activity: profiles are files)."""
        if self._rules is None:
            self._rules = await deadline_rules(self._payer_id)
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

    async def _resend_once(
        self, submission: ClaimSubmission, ack: ClaimAcknowledgment
    ) -> ClaimAcknowledgment:
        """No 277CA: wait the DOMAIN.md §4.6 five days, send the same claim once more (the
        same claim control number, so a payer that did get it answers as before), then
        escalate to the team."""
        self._set_stage(Stage.AWAITING_ACKNOWLEDGMENT)
        sent_on = workflow.now().date()
        resend_on = sent_on + timedelta(days=ACK_WAIT_DAYS)
        await self._follow_up(submission, "no_277ca", f"{ack.reason}; resend on {resend_on}")
        await sleep_until(resend_on)
        ack = await self._submit(submission)
        if ack.acknowledged:
            return ack
        reason = (
            f"no 277CA for claim {submission.claim_control_number} sent {sent_on} and resent "
            f"{resend_on}: check the clearinghouse and the payer's front end, then resubmit"
        )
        await self._follow_up(submission, "no_acknowledgment", reason, task=True)
        return ack.model_copy(update={"reason": reason})

    async def _follow_up(
        self, submission: ClaimSubmission, kind: str, reason: str, task: bool = False
    ) -> None:
        await record(
            FollowUp(
                workflow_id=workflow.info().workflow_id,
                encounter_id=submission.encounter.encounter_id,
                payer_id=self._payer_id,
                claim_control_number=submission.claim_control_number,
                kind=kind,
                on=workflow.now().date(),
                reason=reason,
                task=task,
            )
        )

    async def _record_route(self, submission: ClaimSubmission, denial: DenialDecision) -> None:
        """The route a denial takes and why, in the audit trail; a COB review is a task."""
        reason = f"{denial.explanation}: {ROUTE_ACTIONS[denial.route]}"
        await self._follow_up(
            submission, "denial_routed", reason, task=denial.route == Route.COB_REVIEW
        )

    async def _appeal(
        self,
        run: ClaimRun,
        submission: ClaimSubmission,
        denied: Remittance,
        outcome: ClaimOutcome,
    ) -> None:
        """DOMAIN.md §5 APPEAL: an AppealWorkflow works the levels; an overturn by the payer
        replaces the denied remittance with the payer's new adjudication."""
        assert self._denial is not None
        appeal = await workflow.execute_child_workflow(
            AppealWorkflow.run,
            AppealRun(
                claim_workflow_id=workflow.info().workflow_id,
                submission=submission,
                denied=denied,
                denial=self._denial,
                rules=await self._deadline_rules(),
                era_poll_days=run.era_poll_days,
            ),
            id=appeal_workflow_id(workflow.info().workflow_id),
        )
        outcome.appeal = appeal
        if appeal.remittance is not None:
            outcome.remittance, outcome.result = appeal.remittance, "adjudicated"
        else:
            outcome.reason = f"{self._denial.explanation}; appeal {appeal.result}: {appeal.reason}"

    async def _prior_authorization(self, run: ClaimRun, outcome: ClaimOutcome) -> str | None:
        codes = [
            line.procedure_code
            for line in run.encounter.lines
            if line.procedure_code in run.benefits.prior_auth_procedures
        ]
        if not codes:
            return None
        self._set_stage(Stage.PRIOR_AUTH)
        request = PriorAuthRequest(
            encounter_id=run.encounter.encounter_id,
            coverage=run.coverage,
            patient=run.encounter.patient,
            service_date=run.encounter.service_date,
            procedure_codes=codes,
            provider_npi=run.encounter.billing_provider.npi,
            provider_name=run.encounter.billing_provider.name,
        )
        decision = await self._calls.ask(
            EncounterActivities.request_prior_auth,
            request,
            payer_id=self._payer_id,
            about="prior authorization (278)",
        )
        if decision.status == "pended" and workflow.patched(PRIOR_AUTH_FOLLOW_UP):
            decision = await await_prior_auth(
                request, await self._deadline_rules(), workflow.info().workflow_id,
                self._set_deadline, self._calls,
            )  # fmt: skip
        if decision.status != "approved" or not decision.authorization_number:
            # The claim is never sent without the authorization number (DOMAIN.md §3.3).
            outcome.reason = f"prior authorization {decision.status}: {decision.reason}".strip()
        return decision.authorization_number

    async def _await_correction(self, run: ClaimRun) -> bool:
        self._set_stage(Stage.AWAITING_CORRECTION)
        try:
            await workflow.wait_condition(
                lambda: self._correction is not None,
                timeout=timedelta(days=run.correction_wait_days),
            )
        except TimeoutError:
            return False
        return True

    def _set_stage(self, stage: Stage) -> None:
        self._stage = stage
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
        self._report()

    def _report(self) -> None:
        """Tell the encounter what this claim is doing and by when (its search attributes)."""
        parent = workflow.info().parent
        if not self._timers or parent is None:
            return
        progress = ClaimProgress(stage=self._stage, deadline=self._deadline)
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
