"""EncounterWorkflow: one encounter from eligibility to the patient's statement.

eligibility for every coverage → order of benefits (cob.order, decided here, recorded) →
a PayerClaimWorkflow per payer in order, each billed with the earlier payers' line-level
adjudication → patient responsibility from the last payer → statement.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.encounter import EncounterActivities
    from cob.model import Benefits, Coverage, Encounter, Remittance
    from cob.money import ZERO, patient_responsibility
    from cob.order import determine_payer_order
    from workflows import search_attributes
    from workflows.claim import PayerClaimWorkflow
    from workflows.messages import (
        ClaimProgress,
        ClaimRun,
        CloseEncounter,
        EligibilityCheck,
        EncounterRecord,
        EncounterRun,
        EncounterStatus,
        OrderRecord,
    )
    from workflows.policies import LEDGER_WRITE, PAYER_CALL, payer_rejection


FINAL_CLAIM_STAGES = {"adjudicated", "denied", "rejected", "held", "lost"}


def claim_workflow_id(encounter_workflow_id: str, sequence: int, payer_id: str) -> str:
    return f"{encounter_workflow_id}/claim-{sequence}-{payer_id}"


def open_balance(remittance: Remittance) -> bool:
    """Whether the payer left anything that a later payer could still pay (its PR)."""
    return any(patient_responsibility(line) > ZERO for line in remittance.lines)


@workflow.defn
class EncounterWorkflow:
    def __init__(self) -> None:
        self._status: EncounterStatus | None = None

    @workflow.run
    async def run(self, run: EncounterRun) -> EncounterStatus:
        encounter = run.encounter
        workflow_id = workflow.info().workflow_id
        self._status = status = EncounterStatus(encounter_id=encounter.encounter_id, stage="")
        self._set_stage("eligibility")
        await workflow.execute_activity_method(
            EncounterActivities.record_encounter,
            EncounterRecord(workflow_id=workflow_id, encounter=encounter, status="eligibility"),
            **LEDGER_WRITE,
        )
        benefits: list[Benefits] = list(
            await asyncio.gather(*(self._eligibility(encounter, c) for c in encounter.coverages))
        )
        benefits_by_key = {f"{b.payer_id}:{b.member_id}": b for b in benefits}
        active: list[Coverage] = [c for c in encounter.coverages if benefits_by_key[c.key].active]
        order = determine_payer_order(
            encounter.patient, active, encounter.service_date, encounter.related_cause
        )
        for coverage in encounter.coverages:
            if not benefits_by_key[coverage.key].active:
                order.excluded[coverage.key] = (
                    f"not eligible (271): {benefits_by_key[coverage.key].reason}"
                )
        status.payer_order = [c.payer_id for c in order.coverages]
        status.order_rules = order.decisions
        status.excluded = order.excluded
        status.needs_manual_review = order.needs_manual_review
        await workflow.execute_activity_method(
            EncounterActivities.record_order,
            OrderRecord(
                workflow_id=workflow_id,
                encounter_id=encounter.encounter_id,
                coverages=encounter.coverages,
                benefits=benefits,
                order=order,
            ),
            **LEDGER_WRITE,
        )

        remittances: list[Remittance] = []
        for sequence, coverage in enumerate(order.coverages, start=1):
            if remittances and not open_balance(remittances[-1]):
                break  # nothing left for a later payer to pay
            status.current_payer = coverage.payer_id
            self._set_stage(f"claim_{sequence}")
            outcome = await workflow.execute_child_workflow(
                PayerClaimWorkflow.run,
                ClaimRun(
                    encounter_workflow_id=workflow_id,
                    encounter=encounter,
                    coverage=coverage,
                    benefits=benefits_by_key[coverage.key],
                    payer_sequence=sequence,
                    prior_remittances=list(remittances),
                    correction_wait_days=run.correction_wait_days,
                    era_poll_days=run.era_poll_days,
                ),
                id=claim_workflow_id(workflow_id, sequence, coverage.payer_id),
            )
            status.claims.append(outcome)
            if outcome.remittance is None:
                # A payer that never adjudicated (auth not granted, claim rejected and not
                # fixed) blocks the later payers and the patient's bill until a team acts
                # (DOMAIN.md §6.1: never bill the patient while a payer is pending).
                self._set_stage("lost" if outcome.result == "lost" else "held")
                return status
            remittances.append(outcome.remittance)

        status.current_payer = None
        self._set_stage("statement")
        closed = await workflow.execute_activity_method(
            EncounterActivities.close_encounter,
            CloseEncounter(
                workflow_id=workflow_id,
                encounter=encounter,
                remittances=remittances,
                statement_date=workflow.now().date(),
                claims=status.claims,
            ),
            **LEDGER_WRITE,
        )
        status.lines = closed.lines
        status.patient_responsibility = closed.patient_responsibility
        status.statement_path = closed.statement_path
        workflow.upsert_search_attributes(
            [search_attributes.PATIENT_BALANCE.value_set(float(closed.patient_responsibility))]
        )
        self._set_stage("closed")
        return status

    async def _eligibility(self, encounter: Encounter, coverage: Coverage) -> Benefits:
        try:
            return await workflow.execute_activity_method(
                EncounterActivities.check_eligibility,
                EligibilityCheck(
                    workflow_id=workflow.info().workflow_id,
                    coverage=coverage,
                    patient=encounter.patient,
                    service_date=encounter.service_date,
                    provider=encounter.billing_provider,
                ),
                **PAYER_CALL,
            )
        except ActivityError as error:
            rejection = payer_rejection(error)
            if rejection is None:
                raise
            # The payer would not answer the 270 for this coverage: it cannot be billed.
            return Benefits(
                payer_id=coverage.payer_id,
                member_id=coverage.member_id,
                plan_type=coverage.plan_type,
                active=False,
                reason=f"payer rejected the eligibility inquiry: {rejection}",
            )

    def _set_stage(self, stage: str) -> None:
        assert self._status is not None
        self._status.stage = stage
        workflow.upsert_search_attributes(
            [
                search_attributes.STAGE.value_set(stage),
                search_attributes.CURRENT_PAYER.value_set(self._status.current_payer or ""),
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
        if progress.stage not in FINAL_CLAIM_STAGES:
            self._set_stage(progress.stage)

    @workflow.query
    def status(self) -> EncounterStatus:
        return self._status or EncounterStatus(encounter_id="", stage="starting")
