"""The one typed input and output of each workflow, activity, query and update."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from cob.appeals import AppealOutcome
from cob.deadlines import Deadline
from cob.denials import ClaimCorrection, DenialDecision
from cob.expected import PaymentReview
from cob.model import (
    Benefits,
    ClaimSubmission,
    Coverage,
    Encounter,
    Model,
    OrderDecision,
    PayerOrder,
    Person,
    Provider,
    Remittance,
)
from cob.money import LineAccount
from contract.stages import Stage

__all__ = ["ClaimCorrection"]


# The code generation new executions start at (workflows/versions.py): an execution whose
# input has none (1) was started before, and takes each change by its workflow.patched marker.
GENERATION = 2


class EncounterRun(Model):
    encounter: Encounter
    correction_wait_days: int = 30  # how long a denied claim waits for a team's correction
    era_poll_days: int = Field(default=1, gt=0)  # how often a claim reads the ERA mailbox
    generation: int = Field(default=1, ge=1)  # start with GENERATION; 1: started before


class EligibilityCheck(Model):
    workflow_id: str
    coverage: Coverage
    patient: Person
    service_date: date
    provider: Provider  # who asks: the 270's information receiver (2100B)


class EncounterRecord(Model):
    workflow_id: str
    encounter: Encounter
    status: str


class OrderRecord(Model):
    workflow_id: str
    encounter_id: str
    coverages: list[Coverage]
    benefits: list[Benefits]
    order: PayerOrder


class CobReview(Model):
    """A COB review's new order of the payers (CARC 22: this care may be covered by another payer per coordination of benefits), the denied claims it
    sets aside (kept, no longer part of the money), and why."""

    order: OrderRecord
    claim_workflow_id: str  # the denied claim's workflow, whose open tasks the review answers
    set_aside: list[str]  # claim control numbers
    reason: str


class ClaimRun(Model):
    encounter_workflow_id: str
    encounter: Encounter
    coverage: Coverage
    benefits: Benefits
    payer_sequence: int
    prior_remittances: list[Remittance]
    correction_wait_days: int = 30
    era_poll_days: int = Field(default=1, gt=0)  # how often the ERA mailbox is read
    # The encounter's n-th claim (its claim control numbers are <encounter>-<n>-<attempt>);
    # 0: the payer's position, as before COB reviews could bill a payer twice.
    claim_number: int = Field(default=0, ge=0)
    generation: int = Field(default=1, ge=1)  # the encounter's (workflows/versions.py)


# lost: no 835 came before the timely filing deadline passed (42 CFR 424.44 for Medicare;
# the payer's contract otherwise)
ClaimResult = Literal["adjudicated", "denied", "rejected", "held", "lost"]


class ClaimOutcome(Model):
    payer_id: str
    payer_sequence: int
    result: ClaimResult
    remittance: Remittance | None = None
    denial: DenialDecision | None = None
    reason: str = ""
    claim_control_numbers: list[str] = []
    corrected_denials: list[str] = []  # the denials a team's correction answered, in order
    payment_review: PaymentReview | None = None  # expected vs paid, per line
    appeal: AppealOutcome | None = None  # when the denial was appealed


class ClaimWorkflowStatus(Model):
    """A claim workflow's answer to its status query."""

    payer_id: str
    stage: Stage
    denial: DenialDecision | None = None


class SubmitClaim(Model):
    workflow_id: str
    submission: ClaimSubmission


class StatusCheck(Model):
    """A 276 about a claim the payer accepted, asked on the day `on` (workflow time)."""

    workflow_id: str
    submission: ClaimSubmission
    payer_claim_number: str | None = None
    on: date


class FollowUp(Model):
    """One dated step of a claim's follow-up, for the audit trail; with `task`, also a
    worklist task for the billing team."""

    workflow_id: str
    encounter_id: str
    payer_id: str
    claim_control_number: str | None = None
    kind: str  # status_check, filing_escalation, claim_lost, ...
    on: date  # the day the engine acted, in workflow time
    reason: str
    due: date | None = None  # the deadline it is about
    task: bool = False
    closes_tasks: bool = False  # the claim's open tasks are done, `reason` says why
    closes_kind: str | None = None  # only the open tasks of this kind are done
    per_payer: bool = False  # the task is this payer's (opened and closed apart from others)

    @classmethod
    def about(
        cls,
        workflow_id: str,
        submission: ClaimSubmission,
        kind: str,
        on: date,
        reason: str,
        **step: object,
    ) -> FollowUp:
        """A step about one submitted claim: its encounter, payer and claim control number."""
        return cls.model_validate(
            {
                "workflow_id": workflow_id,
                "encounter_id": submission.encounter.encounter_id,
                "payer_id": submission.coverage.payer_id,
                "claim_control_number": submission.claim_control_number,
                "kind": kind,
                "on": on,
                "reason": reason,
                **step,
            }
        )


class ClaimProgress(Model):
    """What a claim workflow tells its encounter, so the encounter's search attributes show
    the claim's stage and its next deadline."""

    stage: Stage
    deadline: Deadline | None = None


class CloseEncounter(Model):
    workflow_id: str
    encounter: Encounter
    remittances: list[Remittance]
    statement_date: date
    claims: list[ClaimOutcome] = []
    # A patient balance is billed to the guarantor's account in the same step (generation 2;
    # before, the encounter's own join_account step did it).
    bill_account: bool = False


class EncounterClosed(Model):
    lines: list[LineAccount]
    patient_responsibility: Decimal
    statement_path: str | None
    account_id: str | None = None  # the account billed, under bill_account


class EncounterStatus(Model):
    encounter_id: str
    stage: Stage
    current_payer: str | None = None
    current_claim: str | None = None  # the claim workflow at work, while one is
    payer_order: list[str] = []
    order_rules: list[OrderDecision] = []
    needs_manual_review: bool = False
    excluded: dict[str, str] = {}
    claims: list[ClaimOutcome] = []
    lines: list[LineAccount] = []
    patient_responsibility: Decimal | None = None
    statement_path: str | None = None
    next_deadline: Deadline | None = None  # the open claim's, while it waits
    account_id: str | None = None  # the guarantor's patient account, once billed to it


class OrderChoice(Model):
    """A person's order of the payers for an encounter no order-of-benefits rule decides (the
    encounter's set_order update): every billable coverage's payer id once, first payer first;
    who chose it and why, for the audit trail. The workflow's validator checks it
    (cob.order_review.order_choice_problem)."""

    payer_ids: list[str]
    by: str  # the user's name
    reason: str


class OrderChosen(Model):
    """The order a person set (an OrderRecord with the coverages in the chosen order and the
    manual decision among its decisions), for the ledger and the audit trail."""

    order: OrderRecord
    choice: OrderChoice
    reason: str  # one line for the timeline: the order, who and why


class ArchiveRequest(Model):
    """Archive the closed histories of an encounter's run and everything it started."""

    encounter_workflow_id: str
    run_id: str | None = None  # None: the latest run


class ArchiveResult(Model):
    encounter_id: str
    workflows: list[str]  # every run archived, by workflow id
    newly_archived: list[str]
    digests: dict[str, str]  # "workflow_id@run_id" -> SHA-256 of its history


class ArchiveBatch(Model):
    """An ArchiveBatchWorkflow's input: the requests it carries over from its previous run
    (continue-as-new); the rest come as `archive` signals."""

    carried: list[ArchiveRequest] = []


class ArchiveBatchOutcome(Model):
    """One pass of the `archive_batch` activity over the requests a batch holds."""

    archived: list[str] = []  # encounter workflow ids whose histories are in the ledger
    still_running: list[ArchiveRequest] = []  # not closed yet: asked again later
    conflicts: list[str] = []  # an archive differs from the server's history: a task is open


class ArchiveBatchResult(Model):
    archived: list[str] = []  # encounter workflow ids, in the order they were archived
    conflicts: list[str] = []
