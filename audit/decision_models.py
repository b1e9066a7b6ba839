"""What was decided for one encounter, as audit.decisions.read_decisions answers it: the order
of benefits, each claim, the timers, what people did and where the money went (audit.decisions'
docstring says where each answer comes from)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from cob.model import Adjustment, Model


class OrderRule(Model):
    """One decision of the order: `higher` pays before `lower` (payer ids), by `rule`."""

    higher: str
    lower: str
    rule: str  # the rule's name: naic_nondependent_first, manual_order, cob_review, ...
    citation: str  # as the engine recorded it
    text: str  # the decision in words


class Exclusion(Model):
    payer_id: str
    reason: str


class OrderChoiceMade(Model):
    """A person's order (the encounter's set_order update)."""

    payer_ids: list[str]
    by: str
    reason: str
    at: datetime
    status: str  # accepted, failed, rejected, admitted (see HumanAction)


class CobReviewMade(Model):
    """The order changed after a payer's CARC 22 (another payer pays first)."""

    reason: str
    set_aside: list[str]  # the denied claims' control numbers
    on: date


class OrderOfBenefits(Model):
    payers: list[str]  # the order billed in, first payer first
    first_order: list[str]  # as the rules first put it, before a person or a COB review
    needs_manual_review: bool  # no rule decided the first order
    rules: list[OrderRule]
    excluded: list[Exclusion]
    choice: OrderChoiceMade | None = None
    reviews: list[CobReviewMade] = []


class Submission(Model):
    claim_control_number: str
    frequency: str  # CLM05-3: 1 original, 7 replacement, 8 void
    replaces: str | None  # REF*F8: the payer claim number a replacement replaces
    sent_on: date
    accepted: bool | None  # None: no answer in the history
    payer_claim_number: str | None
    answer: str  # the 277CA's status code, or why it was not accepted


class LineDecision(Model):
    line_number: int
    procedure_code: str
    charge: Decimal
    allowed: Decimal
    paid: Decimal
    adjustments: list[Adjustment]  # group, CARC, amount
    remarks: list[str]  # RARCs
    expected: Decimal | None = None  # the engine's payment review, where it reviewed the line
    variance: Decimal | None = None  # paid - expected


class DenialRoute(Model):
    claim_control_number: str | None
    carc: str
    rarcs: list[str]
    route: str
    why: str  # what the engine does on the route (cob.denials.ROUTE_ACTIONS), as recorded
    on: date | None


class CorrectionSent(Model):
    claim_control_number: str  # the corrected claim's
    frequency: str
    replaces: str | None
    sent_on: date
    answering: str  # the denial it answered
    changes: str  # the correction's changes (the correct_claim update), when in the history
    by: str | None


class PriorAuthorization(Model):
    status: str
    authorization_number: str | None
    reason: str
    on: date


class AppealStep(Model):
    on: date
    kind: str
    due: date | None
    reason: str


class AppealDecisions(Model):
    workflow_id: str | None  # None: known only from the claim's outcome
    appealed: str  # the denial appealed
    levels: list[str]  # the payer's levels, in order
    result: str | None  # overturned, upheld, expired; None while the appeal is open
    level: int | None
    reason: str
    steps: list[AppealStep]


class ClaimDecisions(Model):
    workflow_id: str
    payer_id: str
    payer_sequence: int
    result: str  # ClaimOutcome.result, or "open" while the claim runs
    reason: str
    claim_control_numbers: list[str]
    frequency: str | None  # the last submission's
    submissions: list[Submission]
    prior_authorizations: list[PriorAuthorization]
    payer_claim_number: str | None  # the 835 posted (CLP07)
    adjudicated_on: date | None
    claim_status: str | None  # CLP02
    paid: Decimal | None
    lines: list[LineDecision]
    expected: Decimal | None  # Σ expected over the reviewed lines
    variance: Decimal | None
    underpaid: bool
    denials: list[DenialRoute]
    corrections: list[CorrectionSent]
    appeal: AppealDecisions | None
    history_read: bool  # False: only the encounter's record of the child was there


class GuardedDeadline(Model):
    kind: str
    due: date
    what: str  # the deadline's rule, or the follow-up's reason
    inferred_from: str  # which of audit.decisions' docstring's three sources


class TimerDecision(Model):
    workflow_id: str
    timer_id: str
    started_at: datetime
    fires_at: datetime
    fires_on: date
    outcome: Literal["fired", "cancelled", "open"]
    ended_at: datetime | None
    ended_by: str | None  # the signal or update from outside that came before it was cancelled
    led_to: str | None  # the follow-up kind it led to, when it fired
    guarded: GuardedDeadline | None


class HumanAction(Model):
    workflow_id: str
    kind: Literal["signal", "update"]
    name: str
    by: str
    by_from: Literal["input", "identity"]  # the input's `by`, or the event's identity
    at: datetime
    what: str
    # a signal: received; an update: accepted (and answered), failed (the handler raised
    # after accepting it), rejected, or admitted (not yet accepted)
    status: str
    answer: str


class LineOutcome(Model):
    line_number: int
    procedure_code: str
    charge: Decimal
    paid_by_payer: dict[str, Decimal]
    adjustments: Decimal
    patient_responsibility: Decimal
    difference: Decimal  # charge - (Σ paid + adjustments + patient responsibility)
    balances: bool


class Outcome(Model):
    stage: str
    patient_responsibility: Decimal | None
    lines: list[LineOutcome]
    unbalanced: list[str]  # every line whose money does not hold, named, with its figures
    disagreements: list[str]  # a payer's paid as posted vs as its claim's 835 says
    statement_written: bool


class HistoryRead(Model):
    workflow_id: str
    workflow_type: str
    status: str  # completed, failed, terminated, canceled, timed_out, continued_as_new, open
    events: int


class EncounterDecisions(Model):
    encounter_id: str
    workflow_id: str
    service_date: date | None
    stage: str | None
    histories: list[HistoryRead]
    order: OrderOfBenefits | None
    claims: list[ClaimDecisions]
    timers: list[TimerDecision]
    human_actions: list[HumanAction]
    outcome: Outcome | None
    notes: list[str]

    def to_json(self) -> str:
        """As JSON (money as strings to the cent, dates ISO); model_dump(mode="json") for the
        same as a dict."""
        return self.model_dump_json(indent=2)
