"""EncounterWorkflow: one encounter from eligibility to the patient's statement.

eligibility for every coverage → the payers to bill (cob.coverages.billing_order, recorded) →
a PayerClaimWorkflow per payer in order, each billed with the earlier payers' line-level
adjudication → patient responsibility from the last payer → statement.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.accounts import AccountActivities
    from activities.archive import ArchiveActivities
    from activities.claims import ClaimActivities
    from activities.encounter import EncounterActivities
    from cob.coverages import (
        billing_order,
        cob_review_due,
        rejected_inquiry,
        reorder_after_cob_denial,
    )
    from cob.model import Benefits, Coverage, Encounter, Remittance
    from cob.money import leaves_open_balance
    from cob.order_review import (
        ORDER_REVIEW_KIND,
        chosen_order,
        manual_decisions,
        order_choice_problem,
        order_chosen_line,
        order_review_due,
        order_review_reason,
    )
    from cob.statements import statement_held
    from contract import search_attributes
    from contract.accounts import JoinAccount
    from contract.ids import claim_workflow_id
    from contract.messages import (
        ArchiveRequest,
        ClaimOutcome,
        ClaimProgress,
        ClaimRun,
        CloseEncounter,
        CobReview,
        EligibilityCheck,
        EncounterRecord,
        EncounterRun,
        EncounterStatus,
        FollowUp,
        OrderChoice,
        OrderChosen,
        OrderRecord,
    )
    from contract.stages import CLAIM_FINAL, MAX_CLAIMS, Stage
    from workflows.claim import PayerClaimWorkflow
    from workflows.payer_calls import PayerCalls
    from workflows.policies import LEDGER_WRITE, LOCAL_LEDGER_WRITE, LOOKUP, payer_rejection
    from workflows.versions import changed


# Versions (workflow.patched): a COB review reorders the payers not billed yet.
COB_REVIEW = "cob-review"
# An order no rule decides holds the encounter, with a task, until a person sets it.
ORDER_REVIEW_HOLD = "order-review-hold"
# A claim paid less than the engine expected marks the encounter CobUnderpaid.
ENCOUNTER_UNDERPAID = "encounter-underpaid"
# A closed encounter's histories are archived in the ledger by an ArchiveWorkflow it starts.
ARCHIVE_ON_CLOSE = "archive-on-close"
# A patient balance is billed to the guarantor's account (workflows/patient_account.py).
PATIENT_ACCOUNT = "patient-account"
# Fewer steps per encounter: the encounter's row is recorded by a local activity (its input
# is the workflow's own, already in the history), and a search attribute is upserted only
# when its value changes, the closing ones together.
LEAN_ENCOUNTER = "lean-encounter"


@workflow.defn
class EncounterWorkflow:
    def __init__(self) -> None:
        self._status: EncounterStatus | None = None
        self._calls: PayerCalls | None = None
        self._review: OrderRecord | None = None  # the order waiting for a person's choice
        self._choice: OrderChoice | None = None
        self._chosen: list[str] | None = None  # the chosen order, once recorded
        self._lean = False
        self._shown: tuple[str, str] | None = None  # CobStage and CobCurrentPayer as upserted

    @workflow.run
    async def run(self, run: EncounterRun) -> EncounterStatus:
        self.generation = run.generation  # which changes it takes (workflows/versions.py)
        status = await self._bill(run)
        if changed(ARCHIVE_ON_CLOSE):
            # A workflow cannot read its own final history: another one, started here, waits
            # for the close and keeps every history of the encounter (workflows/archive.py).
            await workflow.execute_activity_method(
                ArchiveActivities.start_archive,
                ArchiveRequest(
                    encounter_workflow_id=workflow.info().workflow_id,
                    run_id=workflow.info().run_id,
                ),
                **LOOKUP,
            )
        return status

    async def _bill(self, run: EncounterRun) -> EncounterStatus:
        encounter = run.encounter
        workflow_id = workflow.info().workflow_id
        self._status = status = EncounterStatus(
            encounter_id=encounter.encounter_id, stage=Stage.NEW
        )
        self._lean = changed(LEAN_ENCOUNTER)
        self._set_stage(Stage.ELIGIBILITY)
        record = EncounterRecord(workflow_id=workflow_id, encounter=encounter, status="eligibility")
        if self._lean:
            await workflow.execute_local_activity_method(
                EncounterActivities.record_encounter, record, **LOCAL_LEDGER_WRITE
            )
        else:
            await workflow.execute_activity_method(
                EncounterActivities.record_encounter, record, **LEDGER_WRITE
            )
        benefits: list[Benefits] = list(
            await asyncio.gather(*(self._eligibility(encounter, c) for c in encounter.coverages))
        )
        benefits_by_key = {f"{b.payer_id}:{b.member_id}": b for b in benefits}
        order = billing_order(encounter, benefits_by_key)
        status.payer_order = [c.payer_id for c in order.coverages]
        status.order_rules = order.decisions
        status.excluded = order.excluded
        status.needs_manual_review = order.needs_manual_review
        record_base = OrderRecord(
            workflow_id=workflow_id,
            encounter_id=encounter.encounter_id,
            coverages=encounter.coverages,
            benefits=benefits,
            order=order,
        )
        await workflow.execute_activity_method(
            EncounterActivities.record_order, record_base, **LEDGER_WRITE
        )
        if order.needs_manual_review and changed(ORDER_REVIEW_HOLD):
            record_base = await self._order_review(record_base)

        remittances: list[Remittance] = []
        payers = list(record_base.order.coverages)  # a COB review may reorder the unbilled
        reviewed: set[str] = set()
        while len(status.claims) < MAX_CLAIMS and (billed := len(remittances)) < len(payers):
            if remittances and not leaves_open_balance(remittances[-1]):
                break  # nothing left for a later payer to pay
            coverage, number = payers[billed], len(status.claims) + 1
            status.current_payer = coverage.payer_id
            status.current_claim = claim_workflow_id(workflow_id, number, coverage.payer_id)
            self._set_stage(Stage.billing_claim(number))
            outcome = await workflow.execute_child_workflow(
                PayerClaimWorkflow.run,
                ClaimRun(
                    encounter_workflow_id=workflow_id,
                    encounter=encounter,
                    coverage=coverage,
                    benefits=benefits_by_key[coverage.key],
                    payer_sequence=billed + 1,
                    prior_remittances=list(remittances),
                    correction_wait_days=run.correction_wait_days,
                    era_poll_days=run.era_poll_days,
                    claim_number=number if number != billed + 1 else 0,
                    generation=run.generation,
                ),
                id=status.current_claim,
            )
            status.claims.append(outcome)
            if (
                outcome.payment_review is not None
                and outcome.payment_review.underpaid
                and changed(ENCOUNTER_UNDERPAID)
            ):
                workflow.upsert_search_attributes([search_attributes.UNDERPAID.value_set(True)])
            if (
                outcome.remittance is not None
                and cob_review_due(outcome.denial, billed, payers, reviewed)
                and changed(COB_REVIEW)
            ):
                reviewed.add(coverage.key)
                await self._cob_review(record_base, payers, billed, outcome)
                continue
            if statement_held(outcome.remittance):
                # until a team acts on the payer that never adjudicated
                self._set_stage(Stage.LOST if outcome.result == "lost" else Stage.HELD)
                return status
            remittances.append(outcome.remittance)

        status.current_payer = status.current_claim = None
        self._set_stage(Stage.STATEMENT)
        closed = await workflow.execute_activity_method(
            EncounterActivities.close_encounter,
            CloseEncounter(
                workflow_id=workflow_id,
                encounter=encounter,
                remittances=remittances,
                statement_date=workflow.now().date(),
                claims=status.claims,
                bill_account=self._lean,  # one step: closed, and billed to the account
            ),
            **LEDGER_WRITE,
        )
        status.lines = closed.lines
        status.patient_responsibility = closed.patient_responsibility
        status.statement_path = closed.statement_path
        status.account_id = closed.account_id
        if not self._lean and closed.patient_responsibility > 0 and changed(PATIENT_ACCOUNT):
            # every payer has adjudicated: the patient's share goes to their account, which
            # sends one statement for all the guarantor's open encounters
            status.account_id = await workflow.execute_activity_method(
                AccountActivities.join_account,
                JoinAccount(
                    encounter_workflow_id=workflow_id,
                    encounter=encounter,
                    lines=closed.lines,
                    remittances=remittances,
                ),
                **LEDGER_WRITE,
            )
        balance = search_attributes.PATIENT_BALANCE.value_set(float(closed.patient_responsibility))
        if self._lean:  # one upsert: the balance with the last stage
            self._set_stage(Stage.CLOSED, also=[balance])
            return status
        workflow.upsert_search_attributes([balance])
        self._set_stage(Stage.CLOSED)
        return status

    async def _cob_review(
        self, record: OrderRecord, payers: list[Coverage], at: int, outcome: ClaimOutcome
    ) -> None:
        """The payer says another pays first: the new order (cob.coverages), recorded with the
        denied claims it sets aside and why; `payers` is reordered in place."""
        assert self._status is not None and outcome.denial is not None
        denier = payers[at]
        review = reorder_after_cob_denial(payers, at, outcome.denial, outcome.claim_control_numbers)
        payers[:] = review.coverages
        self._status.payer_order = [c.payer_id for c in payers]
        self._status.order_rules = [*self._status.order_rules, review.decision]
        await workflow.execute_activity_method(
            EncounterActivities.review_order,
            CobReview(
                order=record.model_copy(
                    update={
                        "order": record.order.model_copy(
                            update={
                                "coverages": list(payers),
                                "decisions": self._status.order_rules,
                            }
                        )
                    }
                ),
                claim_workflow_id=claim_workflow_id(
                    record.workflow_id, len(self._status.claims), denier.payer_id
                ),
                set_aside=review.set_aside,
                reason=review.reason,
            ),
            **LEDGER_WRITE,
        )

    async def _order_review(self, record: OrderRecord) -> OrderRecord:
        """No rule decides the order: held before any claim, with a task naming the coverages
        and the rules tried, until a person sets the order (the set_order update). Then the
        order, who and why are recorded, and the encounter bills in it. No timeout: the
        worklist shows the task overdue after its due day, and nothing may be billed in a
        guessed order meanwhile."""
        assert self._status is not None
        self._review = record
        self._set_stage(Stage.HELD_ORDER_REVIEW)
        today = workflow.now().date()
        tentative = record.order.coverages
        await workflow.execute_activity_method(
            ClaimActivities.follow_up,
            FollowUp(
                workflow_id=record.workflow_id,
                encounter_id=record.encounter_id,
                payer_id=tentative[0].payer_id if tentative else "-",
                kind=ORDER_REVIEW_KIND,
                on=today,
                reason=order_review_reason(record.order, record.encounter_id),
                due=order_review_due(today),
                task=True,
            ),
            **LOOKUP,
        )
        await workflow.wait_condition(lambda: self._choice is not None)
        choice = self._choice
        assert choice is not None
        coverages = chosen_order(choice.payer_ids, record.order)
        decisions = [
            *record.order.decisions,
            *manual_decisions(coverages, choice.by, choice.reason, record.order.decisions),
        ]
        chosen = record.model_copy(
            update={
                "order": record.order.model_copy(
                    update={
                        "coverages": coverages,
                        "decisions": decisions,
                        "needs_manual_review": False,
                    }
                )
            }
        )
        await workflow.execute_activity_method(
            EncounterActivities.record_order_choice,
            OrderChosen(
                order=chosen,
                choice=choice,
                reason=order_chosen_line(coverages, choice.by, choice.reason),
            ),
            **LEDGER_WRITE,
        )
        self._status.payer_order = [c.payer_id for c in coverages]
        self._status.order_rules = decisions
        self._status.needs_manual_review = False
        self._review = None
        self._chosen = self._status.payer_order
        return chosen

    @workflow.update
    async def set_order(self, choice: OrderChoice) -> list[str]:
        """A person's order of the payers, while the encounter is held for an order review;
        answers with the order once it is recorded."""
        self._choice = choice
        await workflow.wait_condition(lambda: self._chosen is not None)
        assert self._chosen is not None
        return self._chosen

    @set_order.validator
    def _check_order(self, choice: OrderChoice) -> None:
        if self._review is None or self._choice is not None:
            stage = self._status.stage if self._status else Stage.STARTING
            raise ValueError(f"the encounter is not waiting for an order (stage: {stage})")
        problem = order_choice_problem(
            choice.payer_ids, choice.by, choice.reason, self._review.order,
            self._review.coverages,
        )  # fmt: skip
        if problem:
            raise ValueError(problem)

    async def _eligibility(self, encounter: Encounter, coverage: Coverage) -> Benefits:
        if self._calls is None:
            self._calls = PayerCalls(
                workflow_id=workflow.info().workflow_id,
                encounter_id=encounter.encounter_id,
                stage=lambda: self._status.stage if self._status else Stage.NEW,
                set_stage=self._set_stage,
            )
        try:
            return await self._calls.ask(
                EncounterActivities.check_eligibility,
                EligibilityCheck(
                    workflow_id=workflow.info().workflow_id,
                    coverage=coverage,
                    patient=encounter.patient,
                    service_date=encounter.service_date,
                    provider=encounter.billing_provider,
                ),
                payer_id=coverage.payer_id,
                about=f"eligibility (270) with {coverage.payer_id}",
            )
        except ActivityError as error:
            rejection = payer_rejection(error)
            if rejection is None:
                raise
            return rejected_inquiry(coverage, rejection)

    def _set_stage(self, stage: Stage, also: list[SearchAttributeUpdate] | None = None) -> None:
        assert self._status is not None
        self._status.stage = stage
        shown = (stage.value, self._status.current_payer or "")
        if self._lean and shown == self._shown and not also:
            return  # the same stage again (a claim's new deadline): nothing to upsert
        self._shown = shown
        workflow.upsert_search_attributes(
            [
                search_attributes.STAGE.value_set(shown[0]),
                search_attributes.CURRENT_PAYER.value_set(shown[1]),
                *(also or []),
            ]
        )

    @workflow.signal
    def claim_progress(self, progress: ClaimProgress) -> None:
        """A claim's stage while it is open, and the deadline it works against."""
        if self._status is None:
            return
        if progress.deadline != self._status.next_deadline:
            self._status.next_deadline = progress.deadline
            workflow.upsert_search_attributes(search_attributes.deadline_updates(progress.deadline))
        if progress.stage not in CLAIM_FINAL:
            self._set_stage(progress.stage)

    @workflow.query
    def status(self) -> EncounterStatus:
        return self._status or EncounterStatus(encounter_id="", stage=Stage.STARTING)
