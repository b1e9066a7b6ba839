"""What was decided for one encounter, read from its Temporal histories alone (not the ledger):
the order of benefits, each claim, the timers, what people did, and where the money went.

`read_decisions(histories, converter)` takes every history of one encounter in any order (its
EncounterWorkflow, the PayerClaimWorkflows `<encounter>/claim-N-PAYER`, their AppealWorkflows
`<claim>/appeal`; told apart by the workflow type in WorkflowExecutionStarted) and answers an
EncounterDecisions; `render(decisions)` makes the lines an auditor reads in a terminal.

Where each answer comes from:
- activity inputs from ActivityTaskScheduled.input, results from ActivityTaskCompleted.result
  (matched to its scheduled event), typed by the activity's own signature (activities/); a
  workflow's input and result (WorkflowExecutionStarted, WorkflowExecutionCompleted) typed by
  its run method; a claim's ClaimOutcome from the encounter's ChildWorkflowExecutionCompleted
  when the claim's own history is not in the list. Activities this module does not read, or
  does not know (another version's), are skipped; a payload that no longer fits its type is
  left out with a note. A payload that cannot be decrypted raises workers.codec's
  PayloadKeyError: a wrong key is not an empty audit.
- timers: every TimerStarted, with its TimerFired or TimerCanceled. It was set to fire at the
  workflow's clock when the timer was started (the time of the WorkflowTaskStarted event of
  the task that started it: workflow.now()) plus its start_to_fire_timeout. The deadline it
  guarded is inferred, the first of these that applies:
    1. the follow-up the timer led to (the first `follow_up` activity scheduled after it
       fired, before another timer started), when that FollowUp has a `due`: e.g. a
       correction_escalation, due on the corrected-claim deadline;
    2. the deadline the workflow was working against when the timer started: the latest
       ClaimProgress it had sent its parent (or an appeal had sent it), when not null;
    3. the `due` of the latest follow-up recorded before the timer started.
  When none applies the timer guarded no deadline (a payer call's retry, an ERA poll).
- human actions: every WorkflowExecutionSignaled that no workflow sent (its
  external_workflow_execution is empty, and it is not the claim_progress workflows send one
  another: a test server records no sender) and every update (WorkflowExecutionUpdateAccepted,
  then Completed with its answer or failure). Who: the input's `by` when it has one, else the
  event's identity (the sending client's, `pid@host` unless the client was given one). An
  update its validator rejects leaves no event (Temporal does not persist rejections), so no
  history shows it; an UpdateRejected event, were one there, is read as rejected.

PHI stays out: nothing here keeps a patient's or subscriber's name, a birth date, a member id
(Coverage.key is `payer:member`; only the payer is kept) or a diagnosis code. What people typed
(an order's reason, a filing's note) is kept as they typed it.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from activities.claims import ClaimActivities
from activities.encounter import EncounterActivities
from cob.appeals import AppealDecision, AppealFiling, AppealOutcome, AppealRun
from cob.deadlines import Deadline
from cob.denials import ROUTE_ACTIONS, ClaimCorrection, DenialDecision, Route
from cob.model import (
    Adjustment,
    ClaimAcknowledgment,
    Model,
    OrderDecision,
    PayerOrder,
    PriorAuthDecision,
    Remittance,
)
from cob.money import ZERO, LineAccount
from cob.order_review import MANUAL_RULE, WHY_NO_RULE_DECIDES
from contract.ids import claim_workflow_of, encounter_id_of, encounter_workflow_of
from contract.messages import (
    ClaimOutcome,
    ClaimProgress,
    ClaimRun,
    CobReview,
    EncounterClosed,
    EncounterRun,
    EncounterStatus,
    FollowUp,
    OrderChoice,
    OrderChosen,
    OrderRecord,
    SubmitClaim,
)
from workers.codec import PayloadKeyError
from workflows.appeal import AppealWorkflow
from workflows.claim import PayerClaimWorkflow
from workflows.encounter import EncounterWorkflow

ENCOUNTER = EncounterWorkflow.__name__
CLAIM = PayerClaimWorkflow.__name__
APPEAL = AppealWorkflow.__name__
_WORKFLOWS: dict[str, type] = {
    ENCOUNTER: EncounterWorkflow,
    CLAIM: PayerClaimWorkflow,
    APPEAL: AppealWorkflow,
}

# The activities whose inputs and results say what was decided; every other one is skipped.
_READ: dict[str, Callable[..., Any]] = {
    method.__name__: method
    for method in (
        EncounterActivities.record_order,
        EncounterActivities.record_order_choice,
        EncounterActivities.review_order,
        EncounterActivities.request_prior_auth,
        EncounterActivities.submit_claim,
        EncounterActivities.close_encounter,
        ClaimActivities.follow_up,
        ClaimActivities.pick_up_remittance,
        ClaimActivities.fetch_remittance,  # claims started before the follow-up timers
    )
}
_REMITTANCE_READS = {"pick_up_remittance", "fetch_remittance"}
_CLAIM_PROGRESS = "claim_progress"
# The signals workflows send one another (a claim's and an appeal's progress): never a
# person's, though a test server may record no sender for them.
_ENGINE_SIGNALS = {_CLAIM_PROGRESS}
# cob.denials.route_denial's explanation: "CARC <code>[ <rarc,...>] -> <route>"
_EXPLANATION = re.compile(r"^CARC (?P<carc>\S+)(?: (?P<rarcs>\S+))? -> (?P<route>\w+)")


# --- what was decided ----------------------------------------------------------------------


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
    inferred_from: str  # which of the module docstring's three sources


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


# --- one history, read ---------------------------------------------------------------------


@dataclass
class _Call:
    name: str
    event_id: int  # ActivityTaskScheduled
    at: datetime
    input: Any = None
    result: Any = None


@dataclass
class _Signal:
    name: str
    event_id: int
    at: datetime
    identity: str
    sent_by: str | None  # the workflow that sent it, when the server recorded it
    input: Any

    @property
    def from_outside(self) -> bool:
        return self.sent_by is None and self.name not in _ENGINE_SIGNALS


@dataclass
class _Update:
    update_id: str
    name: str
    event_id: int
    at: datetime
    identity: str
    input: Any
    status: str = "admitted"
    answer: str = ""


@dataclass
class _Timer:
    timer_id: str
    event_id: int
    started_at: datetime
    fires_at: datetime
    outcome: Literal["fired", "cancelled", "open"] = "open"
    ended_event: int | None = None
    ended_at: datetime | None = None


@dataclass
class _Trail:
    workflow_id: str
    workflow_type: str = ""
    parent_id: str | None = None
    started_at: datetime | None = None
    status: str = "open"
    events: int = 0
    input: Any = None
    result: Any = None
    calls: list[_Call] = field(default_factory=list)
    timers: list[_Timer] = field(default_factory=list)
    signals: list[_Signal] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)
    progress: list[tuple[int, ClaimProgress]] = field(default_factory=list)  # sent or heard
    children: dict[str, Any] = field(default_factory=dict)  # workflow id -> its result
    child_order: list[str] = field(default_factory=list)

    def inputs(self, name: str) -> list[tuple[_Call, Any]]:
        return [(c, c.input) for c in self.calls if c.name == name and c.input is not None]

    def follow_ups(self) -> list[tuple[_Call, FollowUp]]:
        return [(c, v) for c, v in self.inputs("follow_up") if isinstance(v, FollowUp)]


_CLOSED = {
    "workflow_execution_completed_event_attributes": "completed",
    "workflow_execution_failed_event_attributes": "failed",
    "workflow_execution_terminated_event_attributes": "terminated",
    "workflow_execution_canceled_event_attributes": "canceled",
    "workflow_execution_timed_out_event_attributes": "timed_out",
    "workflow_execution_continued_as_new_event_attributes": "continued_as_new",
}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time(event: HistoryEvent) -> datetime:
    """The event's time to the nearest microsecond, as the SDK gives it to workflow.now() (a
    truncated one can put a timer set for midnight a microsecond into the day before)."""
    return _EPOCH + timedelta(microseconds=(event.event_time.ToNanoseconds() + 500) // 1000)


def _hints(method: Callable[..., Any]) -> tuple[Any, Any]:
    """The one input type and the result type of a workflow, activity, signal or update."""
    hints = typing.get_type_hints(method)
    result = hints.pop("return", None)
    return next(iter(hints.values()), None), result


def _handler(workflow_type: str, name: str) -> Callable[..., Any] | None:
    """A workflow's signal or update method by name (their names are the methods')."""
    classes = [_WORKFLOWS[workflow_type]] if workflow_type in _WORKFLOWS else _WORKFLOWS.values()
    for cls in classes:
        method = getattr(cls, name, None)
        if callable(method):
            return method
    return None


class _Reader:
    def __init__(self, converter: DataConverter) -> None:
        self.converter = converter
        self.notes: list[str] = []

    async def value(self, payloads: Sequence[Payload], hint: Any, where: str) -> Any:
        """The first payload as `hint`; None (with a note) when it no longer fits the type."""
        if not payloads or hint is None or hint is type(None):
            return None
        if self.converter.payload_codec is not None:  # PayloadKeyError goes up
            payloads = await self.converter.payload_codec.decode(payloads[:1])
        try:
            return self.converter.payload_converter.from_payloads(payloads[:1], [hint])[0]
        except (ValidationError, ValueError, TypeError, RuntimeError) as error:
            first = str(error).splitlines()[0][:120]
            self.notes.append(f"{where}: payload not read as {_name(hint)} ({first})")
            return None

    async def failure(self, failure: Any) -> str:
        try:
            return str(await self.converter.decode_failure(failure))
        except PayloadKeyError:
            raise
        except Exception as error:  # an unreadable failure is still a failure
            return f"failure not read ({type(error).__name__})"

    async def trail(self, history: WorkflowHistory) -> _Trail:
        """One history's events, the payloads that matter decoded, in the order they came."""
        trail = _Trail(workflow_id=history.workflow_id)
        events = list(history.events)
        trail.events = len(events)
        self._by_id = {e.event_id: e for e in events}
        self._calls: dict[int, _Call] = {}
        self._timers: dict[int, _Timer] = {}
        self._updates: dict[str, _Update] = {}
        for event in events:
            kind = event.WhichOneof("attributes") or ""
            attributes: Any = getattr(event, kind) if kind else None
            where = f"{history.workflow_id} event {event.event_id}"
            if kind in _CLOSED:
                await self._closed(trail, kind, attributes, where)
                continue
            step = _STEPS.get(kind.removesuffix("_event_attributes"))
            if step is not None:
                await step(self, trail, event, attributes, where)
        return trail

    async def _started(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        trail.workflow_type = attributes.workflow_type.name
        trail.started_at = _time(event)
        if attributes.HasField("parent_workflow_execution"):
            trail.parent_id = attributes.parent_workflow_execution.workflow_id
        run = _run_method(trail.workflow_type)
        if run is not None:
            trail.input = await self.value(attributes.input.payloads, _hints(run)[0], where)

    async def _closed(self, trail: _Trail, kind: str, attributes: Any, where: str) -> None:
        trail.status = _CLOSED[kind]
        run = _run_method(trail.workflow_type)
        if trail.status == "completed" and run is not None:
            trail.result = await self.value(attributes.result.payloads, _hints(run)[1], where)

    async def _scheduled(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        name = attributes.activity_type.name
        call = self._calls[event.event_id] = _Call(name, event.event_id, _time(event))
        trail.calls.append(call)
        if name in _READ:  # any other activity is skipped, a known one or not
            call.input = await self.value(attributes.input.payloads, _hints(_READ[name])[0], where)

    async def _completed(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        call = self._calls.get(attributes.scheduled_event_id)
        if call is not None and call.name in _READ:
            hint = _hints(_READ[call.name])[1]
            call.result = await self.value(attributes.result.payloads, hint, where)

    async def _timer_started(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        # workflow.now() when the timer was started: the start of the task that started it
        task = self._by_id.get(attributes.workflow_task_completed_event_id)
        started = (
            self._by_id.get(task.workflow_task_completed_event_attributes.started_event_id)
            if task is not None
            else None
        )
        now = _time(started if started is not None else event)
        fires = now + attributes.start_to_fire_timeout.ToTimedelta()
        timer = self._timers[event.event_id] = _Timer(
            attributes.timer_id, event.event_id, now, fires
        )
        trail.timers.append(timer)

    async def _timer_ended(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        timer = self._timers.get(attributes.started_event_id)
        if timer is not None:
            timer.outcome = (
                "fired" if event.HasField("timer_fired_event_attributes") else "cancelled"
            )
            timer.ended_event, timer.ended_at = event.event_id, _time(event)

    async def _signaled(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        handler = _handler(trail.workflow_type, attributes.signal_name)
        hint = _hints(handler)[0] if handler else None
        value = await self.value(attributes.input.payloads, hint, where)
        sent_by = attributes.external_workflow_execution.workflow_id or None
        trail.signals.append(
            _Signal(
                attributes.signal_name,
                event.event_id,
                _time(event),
                attributes.identity,
                sent_by,
                value,
            )
        )
        if isinstance(value, ClaimProgress):
            trail.progress.append((event.event_id, value))

    async def _signal_sent(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        if attributes.signal_name != _CLAIM_PROGRESS:
            return
        hint = _hints(EncounterWorkflow.claim_progress)[0]
        value = await self.value(attributes.input.payloads, hint, where)
        if isinstance(value, ClaimProgress):
            trail.progress.append((event.event_id, value))

    async def _update_asked(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        """Admitted, accepted or rejected: the request, the first time it is seen."""
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            request, status = attributes.accepted_request, "accepted"
        elif event.HasField("workflow_execution_update_rejected_event_attributes"):
            request, status = attributes.rejected_request, "rejected"
        else:
            request, status = attributes.request, "admitted"
        update = self._updates.get(request.meta.update_id)
        if update is None:
            name = request.input.name
            handler = _handler(trail.workflow_type, name)
            hint = _hints(handler)[0] if handler else None
            value = await self.value(request.input.args.payloads, hint, where)
            update = _Update(
                request.meta.update_id,
                name,
                event.event_id,
                _time(event),
                request.meta.identity,
                value,
            )
            self._updates[update.update_id] = update
            trail.updates.append(update)
        update.status = status
        if status == "rejected":
            update.answer = await self.failure(attributes.failure)

    async def _update_done(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        update = self._updates.get(attributes.meta.update_id)
        if update is None:
            return
        outcome = attributes.outcome
        if outcome.HasField("failure"):
            update.status, update.answer = "failed", await self.failure(outcome.failure)
            return
        handler = _handler(trail.workflow_type, update.name)
        hint = _hints(handler)[1] if handler else None
        update.answer = _answer(await self.value(outcome.success.payloads, hint, where))

    async def _child_started(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        trail.child_order.append(attributes.workflow_id)

    async def _child_completed(
        self, trail: _Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        run = _run_method(attributes.workflow_type.name)
        if run is not None:
            child = attributes.workflow_execution.workflow_id
            trail.children[child] = await self.value(
                attributes.result.payloads, _hints(run)[1], where
            )


# The events read, by their attributes' name; every other event says nothing decided.
_STEPS: dict[str, Callable[[_Reader, _Trail, HistoryEvent, Any, str], Awaitable[None]]] = {
    "workflow_execution_started": _Reader._started,
    "activity_task_scheduled": _Reader._scheduled,
    "activity_task_completed": _Reader._completed,
    "timer_started": _Reader._timer_started,
    "timer_fired": _Reader._timer_ended,
    "timer_canceled": _Reader._timer_ended,
    "workflow_execution_signaled": _Reader._signaled,
    "signal_external_workflow_execution_initiated": _Reader._signal_sent,
    "workflow_execution_update_admitted": _Reader._update_asked,
    "workflow_execution_update_accepted": _Reader._update_asked,
    "workflow_execution_update_rejected": _Reader._update_asked,
    "workflow_execution_update_completed": _Reader._update_done,
    "start_child_workflow_execution_initiated": _Reader._child_started,
    "child_workflow_execution_completed": _Reader._child_completed,
}


def _run_method(workflow_type: str) -> Callable[..., Any] | None:
    cls = _WORKFLOWS.get(workflow_type)
    return getattr(cls, "run", None) if cls else None


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def _answer(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " > ".join(str(v) for v in value)
    return str(value)


# --- the decisions -------------------------------------------------------------------------


async def read_decisions(
    histories: list[WorkflowHistory], converter: DataConverter
) -> EncounterDecisions:
    """What was decided for one encounter, from its histories (any order); see the module's
    docstring for where each answer comes from. ValueError when the histories are of more
    than one encounter, or none."""
    if not histories:
        raise ValueError("no histories to read")
    encounters = sorted({encounter_workflow_of(h.workflow_id) for h in histories})
    if len(encounters) > 1:
        raise ValueError(f"the histories are of more than one encounter: {', '.join(encounters)}")
    reader = _Reader(converter)
    trails = [await reader.trail(h) for h in histories]
    notes = reader.notes
    for trail in trails:
        if trail.workflow_type not in _WORKFLOWS:
            kind = trail.workflow_type or "history without a start"
            notes.append(f"{trail.workflow_id}: a {kind}, not read")
    encounter = _latest([t for t in trails if t.workflow_type == ENCOUNTER], notes)
    claims = [t for t in trails if t.workflow_type == CLAIM]
    appeals = {_appealed_claim(t): t for t in trails if t.workflow_type == APPEAL}
    workflow_id = encounters[0]
    run = encounter.input if encounter and isinstance(encounter.input, EncounterRun) else None
    status = (
        encounter.result if encounter and isinstance(encounter.result, EncounterStatus) else None
    )
    actions = [a for t in trails for a in _human_actions(t)]
    claim_decisions = _claims(encounter, claims, appeals, actions, notes)
    return EncounterDecisions(
        encounter_id=(status.encounter_id if status else None)
        or (run.encounter.encounter_id if run else encounter_id_of(workflow_id)),
        workflow_id=workflow_id,
        service_date=run.encounter.service_date if run else None,
        stage=str(status.stage) if status else (encounter.status if encounter else None),
        histories=[
            HistoryRead(
                workflow_id=t.workflow_id,
                workflow_type=t.workflow_type or "?",
                status=t.status,
                events=t.events,
            )
            for t in sorted(trails, key=lambda t: t.workflow_id)
        ],
        order=_order(encounter, status, actions) if encounter else None,
        claims=claim_decisions,
        timers=sorted(
            (timer for t in trails if t.workflow_type in _WORKFLOWS for timer in _timers(t)),
            key=lambda timer: (timer.started_at, timer.workflow_id, timer.timer_id),
        ),
        human_actions=sorted(actions, key=lambda a: a.at),
        outcome=_outcome(encounter, status, claim_decisions) if encounter else None,
        notes=notes,
    )


def _latest(encounters: list[_Trail], notes: list[str]) -> _Trail | None:
    if len(encounters) > 1:
        notes.append(f"{len(encounters)} runs of the encounter workflow: the latest is read")
    return max(
        encounters, key=lambda t: t.started_at or datetime.min.replace(tzinfo=UTC), default=None
    )


def _appealed_claim(appeal: _Trail) -> str:
    if appeal.parent_id:
        return appeal.parent_id
    try:
        return claim_workflow_of(appeal.workflow_id)
    except ValueError:
        return appeal.workflow_id


def _payer(key: str) -> str:
    return key.split(":", 1)[0]  # Coverage.key is payer id:member id; only the payer is kept


def _rule(decision: OrderDecision) -> OrderRule:
    higher, lower = _payer(decision.higher), _payer(decision.lower)
    recorded = decision.rule
    if recorded.startswith(f"{MANUAL_RULE} "):  # "manual_order by <who>: <why>"
        name, text = (
            MANUAL_RULE,
            f"{higher} pays before {lower}, set {recorded[len(MANUAL_RULE) + 1 :]}",
        )
    elif re.fullmatch(r"[a-z0-9_]+", recorded):
        why = WHY_NO_RULE_DECIDES.get(recorded)
        name, text = recorded, f"{higher} pays before {lower}" + (f": {why}" if why else "")
    else:  # cob.coverages.reorder_after_cob_denial records its reason as the rule
        name = "cob_review" if recorded.startswith("COB review") else "recorded"
        text = recorded
    return OrderRule(higher=higher, lower=lower, rule=name, citation=decision.citation, text=text)


def _order(
    encounter: _Trail, status: EncounterStatus | None, actions: list[HumanAction]
) -> OrderOfBenefits | None:
    first = next(
        (v for _, v in encounter.inputs("record_order") if isinstance(v, OrderRecord)), None
    )
    if first is None and status is None:
        return None
    order: PayerOrder | None = first.order if first else None
    choice: OrderChoiceMade | None = None
    for call, chosen in encounter.inputs("record_order_choice"):
        if isinstance(chosen, OrderChosen):
            order = chosen.order.order
            asked = next(
                (
                    a
                    for a in actions
                    if a.name == "set_order" and a.workflow_id == encounter.workflow_id
                ),
                None,
            )
            choice = OrderChoiceMade(
                payer_ids=chosen.choice.payer_ids,
                by=chosen.choice.by,
                reason=chosen.choice.reason,
                at=asked.at if asked else call.at,
                status=asked.status if asked else "accepted",
            )
    if choice is None:  # asked, but never recorded: still show what the person asked
        for update in encounter.updates:
            if update.name == "set_order" and isinstance(update.input, OrderChoice):
                choice = OrderChoiceMade(
                    payer_ids=update.input.payer_ids,
                    by=update.input.by,
                    reason=update.input.reason,
                    at=update.at,
                    status=update.status,
                )
    reviews = []
    for call, review in encounter.inputs("review_order"):
        if isinstance(review, CobReview):
            order = review.order.order
            reviews.append(
                CobReviewMade(reason=review.reason, set_aside=review.set_aside, on=call.at.date())
            )
    decisions = status.order_rules if status else (order.decisions if order else [])
    excluded = status.excluded if status else (order.excluded if order else {})
    payers = (
        status.payer_order if status else [c.payer_id for c in order.coverages] if order else []
    )
    return OrderOfBenefits(
        payers=payers,
        first_order=[c.payer_id for c in first.order.coverages] if first else payers,
        needs_manual_review=first.order.needs_manual_review if first else False,
        rules=[_rule(d) for d in decisions],
        excluded=[Exclusion(payer_id=_payer(k), reason=r) for k, r in excluded.items()],
        choice=choice,
        reviews=reviews,
    )


def _claims(
    encounter: _Trail | None,
    claims: list[_Trail],
    appeals: dict[str, _Trail],
    actions: list[HumanAction],
    notes: list[str],
) -> list[ClaimDecisions]:
    by_id = {t.workflow_id: t for t in claims}
    known = dict(encounter.children) if encounter else {}
    order = [
        w
        for w in (encounter.child_order if encounter else [])
        if w in by_id or isinstance(known.get(w), ClaimOutcome)
    ]
    order += sorted(w for w in by_id if w not in order)
    decided = []
    for workflow_id in order:
        trail = by_id.get(workflow_id)
        outcome = trail.result if trail and isinstance(trail.result, ClaimOutcome) else None
        outcome = outcome or (
            known.get(workflow_id) if isinstance(known.get(workflow_id), ClaimOutcome) else None
        )
        if trail is None:
            notes.append(
                f"{workflow_id}: its history is not in the list; read from the "
                "encounter's record of it (no timers, no human actions)"
            )
        decided.append(_claim(workflow_id, trail, outcome, appeals.get(workflow_id), actions))
    return decided


def _claim(
    workflow_id: str,
    trail: _Trail | None,
    outcome: ClaimOutcome | None,
    appeal: _Trail | None,
    actions: list[HumanAction],
) -> ClaimDecisions:
    run = trail.input if trail and isinstance(trail.input, ClaimRun) else None
    submissions = _submissions(trail) if trail else []
    remittance = outcome.remittance if outcome else None
    if remittance is None and outcome is None and trail is not None:  # still open: the last 835
        read = [c.result for c in trail.calls if c.name in _REMITTANCE_READS]
        remittance = next((r for r in reversed(read) if isinstance(r, Remittance)), None)
    review = (
        {ln.line_number: ln for ln in outcome.payment_review.lines}
        if outcome and outcome.payment_review
        else {}
    )
    lines = [
        LineDecision(
            line_number=ln.line_number,
            procedure_code=ln.procedure_code,
            charge=ln.charge,
            allowed=ln.allowed,
            paid=ln.paid,
            adjustments=ln.adjustments,
            remarks=ln.remarks,
            expected=review[ln.line_number].expected if ln.line_number in review else None,
            variance=review[ln.line_number].variance
            if ln.line_number in review and review[ln.line_number].expected is not None
            else None,
        )
        for ln in (remittance.lines if remittance else [])
    ]
    reviewed = [ln for ln in lines if ln.expected is not None]
    corrections_by = [
        a for a in actions if a.workflow_id == workflow_id and a.name == "correct_claim"
    ]
    denials = _denials(trail, outcome)
    return ClaimDecisions(
        workflow_id=workflow_id,
        payer_id=(outcome.payer_id if outcome else None)
        or (run.coverage.payer_id if run else workflow_id.rsplit("-", 1)[-1]),
        payer_sequence=outcome.payer_sequence if outcome else run.payer_sequence if run else 0,
        result=str(outcome.result) if outcome else "open",
        reason=outcome.reason if outcome else "",
        claim_control_numbers=outcome.claim_control_numbers
        if outcome
        else [s.claim_control_number for s in submissions],
        frequency=submissions[-1].frequency if submissions else None,
        submissions=submissions,
        prior_authorizations=[
            PriorAuthorization(
                status=r.status,
                authorization_number=r.authorization_number,
                reason=r.reason,
                on=c.at.date(),
            )
            for c in (trail.calls if trail else [])
            if c.name == "request_prior_auth" and isinstance(r := c.result, PriorAuthDecision)
        ],
        payer_claim_number=remittance.payer_claim_number if remittance else None,
        adjudicated_on=remittance.adjudication_date if remittance else None,
        claim_status=remittance.status if remittance else None,
        paid=remittance.paid if remittance else None,
        lines=lines,
        expected=sum((ln.expected or ZERO for ln in reviewed), ZERO) if reviewed else None,
        variance=sum((ln.variance or ZERO for ln in reviewed), ZERO) if reviewed else None,
        underpaid=bool(outcome and outcome.payment_review and outcome.payment_review.underpaid),
        denials=denials,
        corrections=_corrections(submissions, outcome, corrections_by),
        appeal=_appeal(appeal, outcome),
        history_read=trail is not None,
    )


def _submissions(trail: _Trail) -> list[Submission]:
    sent = []
    for call, claim in trail.inputs("submit_claim"):
        if not isinstance(claim, SubmitClaim):
            continue
        ack = call.result if isinstance(call.result, ClaimAcknowledgment) else None
        answer = ""
        if ack is not None:
            answer = ack.reason or f"277CA {ack.status_code}"
            if not ack.acknowledged:
                answer = f"no 277CA: {ack.reason}"
        sub = claim.submission
        sent.append(
            Submission(
                claim_control_number=sub.claim_control_number,
                frequency=sub.frequency,
                replaces=sub.original_payer_claim_number,
                sent_on=call.at.date(),
                accepted=ack.accepted if ack else None,
                payer_claim_number=ack.payer_claim_number if ack else None,
                answer=answer,
            )
        )
    return sent


def _route(explanation: str, why: str, ccn: str | None, on: date | None) -> DenialRoute:
    found = _EXPLANATION.match(explanation)
    return DenialRoute(
        claim_control_number=ccn,
        carc=found["carc"] if found else "",
        rarcs=found["rarcs"].split(",") if found and found["rarcs"] else [],
        route=found["route"] if found else "",
        why=why,
        on=on,
    )


def _denials(trail: _Trail | None, outcome: ClaimOutcome | None) -> list[DenialRoute]:
    """Each denial and the route taken: the `denial_routed` follow-ups (the route and why, as
    recorded), the claim's last denial (ClaimOutcome.denial) and the denials a correction
    answered, for the versions that recorded no route."""
    routes = []
    for _, step in trail.follow_ups() if trail else []:
        if step.kind == "denial_routed":
            explanation, _, why = step.reason.partition(": ")
            routes.append(_route(explanation, why, step.claim_control_number, step.on))
    seen = {(r.carc, r.route) for r in routes}
    earlier = [] if outcome is None else outcome.corrected_denials
    for explanation in earlier:
        route = _route(explanation, ROUTE_ACTIONS[Route.FIX_RESUBMIT], None, None)
        if (route.carc, route.route) not in seen:
            routes.append(route)
            seen.add((route.carc, route.route))
    last: DenialDecision | None = outcome.denial if outcome else None
    if (
        last is not None
        and last.route != Route.POST
        and (last.reason_code, str(last.route)) not in seen
    ):
        ccns = outcome.claim_control_numbers if outcome else []
        routes.append(
            DenialRoute(
                claim_control_number=ccns[-1] if ccns else None,
                carc=last.reason_code,
                rarcs=list(last.remarks),
                route=str(last.route),
                why=ROUTE_ACTIONS.get(last.route, ""),
                on=outcome.remittance.adjudication_date if outcome and outcome.remittance else None,
            )
        )
    return routes


def _corrections(
    submissions: list[Submission], outcome: ClaimOutcome | None, updates: list[HumanAction]
) -> list[CorrectionSent]:
    """Every submission after the first that answered a denial; the n-th is paired with the
    n-th correct_claim update the claim accepted and the n-th denial corrected."""
    answered = outcome.corrected_denials if outcome else []
    accepted = [u for u in updates if u.status == "accepted"]
    originals = {s.claim_control_number for s in submissions[:1]}
    resent = [s for s in submissions if s.claim_control_number not in originals]
    unique = list({s.claim_control_number: s for s in resent}.values())  # a resend is no fix
    return [
        CorrectionSent(
            claim_control_number=s.claim_control_number,
            frequency=s.frequency,
            replaces=s.replaces,
            sent_on=s.sent_on,
            answering=answered[n] if n < len(answered) else "",
            changes=accepted[n].what if n < len(accepted) else "",
            by=accepted[n].by if n < len(accepted) else None,
        )
        for n, s in enumerate(unique)
    ]


def _appeal(trail: _Trail | None, claim: ClaimOutcome | None) -> AppealDecisions | None:
    outcome = trail.result if trail and isinstance(trail.result, AppealOutcome) else None
    outcome = outcome or (claim.appeal if claim else None)
    if trail is None and outcome is None:
        return None
    run = trail.input if trail and isinstance(trail.input, AppealRun) else None
    steps = [
        AppealStep(on=step.on, kind=step.kind, due=step.due, reason=step.reason)
        for _, step in (trail.follow_ups() if trail else [])
    ]
    if not steps and outcome is not None:  # only the claim's copy: its dated lines
        for line in outcome.steps:
            day, _, rest = line.partition(" ")
            kind, _, reason = rest.partition(": ")
            try:
                steps.append(
                    AppealStep(on=date.fromisoformat(day), kind=kind, due=None, reason=reason)
                )
            except ValueError:
                continue
    appealed = (
        run.denial.explanation
        if run
        else (claim.denial.explanation if claim and claim.denial else "")
    )
    return AppealDecisions(
        workflow_id=trail.workflow_id if trail else None,
        appealed=appealed,
        levels=[level.name for level in run.rules.appeal_levels] if run else [],
        result=str(outcome.result) if outcome else None,
        level=outcome.level if outcome else None,
        reason=outcome.reason if outcome else "",
        steps=steps,
    )


def _timers(trail: _Trail) -> list[TimerDecision]:
    follow_ups = trail.follow_ups()
    starts = sorted(t.event_id for t in trail.timers)
    decided = []
    for timer in trail.timers:
        led_to: FollowUp | None = None
        if timer.outcome == "fired" and timer.ended_event is not None:
            fired = timer.ended_event
            next_start = next((s for s in starts if s > fired), None)
            led_to = next(
                (
                    step
                    for call, step in follow_ups
                    if call.event_id > fired and (next_start is None or call.event_id < next_start)
                ),
                None,
            )
        decided.append(
            TimerDecision(
                workflow_id=trail.workflow_id,
                timer_id=timer.timer_id,
                started_at=timer.started_at,
                fires_at=timer.fires_at,
                fires_on=timer.fires_at.date(),
                outcome=timer.outcome,
                ended_at=timer.ended_at,
                ended_by=_ended_by(trail, timer),
                led_to=led_to.kind if led_to else None,
                guarded=_guarded(trail, timer, led_to, follow_ups),
            )
        )
    return decided


def _ended_by(trail: _Trail, timer: _Timer) -> str | None:
    """The last signal or update from outside between a timer's start and its cancelling."""
    if timer.outcome != "cancelled" or timer.ended_event is None:
        return None
    end = timer.ended_event
    heard = [(s.event_id, s.name) for s in trail.signals if s.from_outside]
    heard += [(u.event_id, u.name) for u in trail.updates if u.status != "admitted"]
    within = sorted(h for h in heard if timer.event_id < h[0] < end)
    return within[-1][1] if within else None


def _guarded(
    trail: _Trail, timer: _Timer, led_to: FollowUp | None, follow_ups: list[tuple[_Call, FollowUp]]
) -> GuardedDeadline | None:
    """The deadline a timer guarded: the module docstring's three sources, in order."""
    if led_to is not None and led_to.due is not None:
        return GuardedDeadline(
            kind=led_to.kind,
            due=led_to.due,
            what=led_to.reason,
            inferred_from=f"the {led_to.kind} follow-up it led to",
        )
    before = [p for event_id, p in trail.progress if event_id < timer.event_id]
    deadline: Deadline | None = before[-1].deadline if before else None
    if deadline is not None:
        return GuardedDeadline(
            kind=str(deadline.kind),
            due=deadline.due,
            what=f"{deadline.rule} ({deadline.citation})",
            inferred_from="the ClaimProgress deadline when it was set",
        )
    earlier = [s for c, s in follow_ups if c.event_id < timer.event_id and s.due is not None]
    if earlier:
        step = earlier[-1]
        assert step.due is not None
        return GuardedDeadline(
            kind=step.kind,
            due=step.due,
            what=step.reason,
            inferred_from=f"the {step.kind} follow-up before it",
        )
    return None


def _human_actions(trail: _Trail) -> list[HumanAction]:
    if trail.workflow_type not in _WORKFLOWS:
        return []
    actions = [
        HumanAction(
            workflow_id=trail.workflow_id,
            kind="signal",
            name=signal.name,
            **_who(signal.input, signal.identity),
            at=signal.at,
            what=_what(signal.name, signal.input),
            status="received",
            answer="",
        )
        for signal in trail.signals
        if signal.from_outside
    ]
    actions += [
        HumanAction(
            workflow_id=trail.workflow_id,
            kind="update",
            name=update.name,
            **_who(update.input, update.identity),
            at=update.at,
            what=_what(update.name, update.input),
            status=update.status,
            answer=update.answer,
        )
        for update in trail.updates
    ]
    return actions


def _who(value: Any, identity: str) -> dict[str, Any]:
    by = getattr(value, "by", None)
    if isinstance(by, str) and by.strip():
        return {"by": by.strip(), "by_from": "input"}
    return {"by": identity or "unknown", "by_from": "identity"}


def _what(name: str, value: Any) -> str:
    """One line: what the person asked for."""
    note = getattr(value, "note", "")
    noted = f"; note: {note}" if note else ""
    if isinstance(value, OrderChoice):
        return f"order {' > '.join(value.payer_ids)}: {value.reason}"
    if isinstance(value, ClaimCorrection):
        changes = []
        if value.rendering_provider_npi:
            changes.append(f"rendering provider NPI {value.rendering_provider_npi}")
        for line, modifiers in sorted(value.line_modifiers.items()):
            changes.append(f"line {line} modifiers {','.join(modifiers) or 'none'}")
        if value.diagnoses:  # diagnoses are the patient's health information: counted only
            changes.append(f"diagnoses replaced ({len(value.diagnoses)} codes)")
        return f"correction: {', '.join(changes) or 'no change'}{noted}"
    if isinstance(value, AppealFiling):
        return f"level {value.level} appeal filed{noted}"
    if isinstance(value, AppealDecision):
        return f"level {value.level} decided: {value.outcome}{noted}"
    return f"{name} (its input is not summarised here)"


def _outcome(
    encounter: _Trail, status: EncounterStatus | None, claims: list[ClaimDecisions]
) -> Outcome | None:
    closed = next(
        (
            c.result
            for c in reversed(encounter.calls)
            if c.name == "close_encounter" and isinstance(c.result, EncounterClosed)
        ),
        None,
    )
    accounts: list[LineAccount] = (
        status.lines if status and status.lines else closed.lines if closed else []
    )
    total = status.patient_responsibility if status else None
    if total is None and closed is not None:
        total = closed.patient_responsibility
    stage = str(status.stage) if status else encounter.status
    lines = []
    for account in accounts:
        difference = account.charge - (
            account.paid + account.adjustments + account.patient_responsibility
        )
        lines.append(
            LineOutcome(
                line_number=account.line_number,
                procedure_code=account.procedure_code,
                charge=account.charge,
                paid_by_payer=dict(account.paid_by_payer),
                adjustments=account.adjustments,
                patient_responsibility=account.patient_responsibility,
                difference=difference,
                balances=difference == ZERO,
            )
        )
    unbalanced = [
        f"line {ln.line_number} {ln.procedure_code}: charge {ln.charge:.2f} != paid "
        f"{sum(ln.paid_by_payer.values(), ZERO):.2f} + adjustments {ln.adjustments:.2f} + "
        f"patient {ln.patient_responsibility:.2f} (off by {ln.difference:.2f})"
        for ln in lines
        if not ln.balances
    ]
    if (
        total is not None
        and lines
        and sum((ln.patient_responsibility for ln in lines), ZERO) != total
    ):
        unbalanced.append(f"patient responsibility {total:.2f} is not the lines' sum")
    return Outcome(
        stage=stage,
        patient_responsibility=total,
        lines=lines,
        unbalanced=unbalanced,
        disagreements=_disagreements(lines, claims),
        statement_written=bool(
            status.statement_path if status else closed and closed.statement_path
        ),
    )


def _disagreements(lines: list[LineOutcome], claims: list[ClaimDecisions]) -> list[str]:
    """A payer's paid per line as the encounter posted it against the claims' 835s."""
    paid: dict[tuple[str, int], Decimal] = {}
    for claim in claims:
        for ln in claim.lines:
            key = (claim.payer_id, ln.line_number)
            paid[key] = paid.get(key, ZERO) + ln.paid
    return [
        f"line {ln.line_number} {payer}: posted {amount:.2f}, its 835 paid {on_835:.2f}"
        for ln in lines
        for payer, amount in ln.paid_by_payer.items()
        if (on_835 := paid.get((payer, ln.line_number))) is not None and on_835 != amount
    ]


# --- for a terminal ------------------------------------------------------------------------


def _money(amount: Decimal | None) -> str:
    return "-" if amount is None else f"{amount:.2f}"


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _short(workflow_id: str, encounter_workflow_id: str) -> str:
    """A claim's or an appeal's workflow id after its encounter's."""
    rest = workflow_id.removeprefix(encounter_workflow_id).lstrip("/")
    return rest or "encounter"


def render(decisions: EncounterDecisions) -> list[str]:
    """Plain lines for a terminal, by section: order, claims, timers, human actions, outcome.
    Money to the cent, dates ISO; payer ids, claim numbers, procedure codes, never a patient."""
    d = decisions
    types: dict[str, int] = {}
    for h in d.histories:
        types[h.workflow_type] = types.get(h.workflow_type, 0) + 1
    out = [
        f"Encounter {d.encounter_id} ({d.workflow_id}): {d.stage or 'not started'}"
        + (f", service date {d.service_date.isoformat()}" if d.service_date else ""),
        f"read from {len(d.histories)} histories ("
        + ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
        + ")",
        "",
    ]
    out += _render_order(d.order)
    out += ["", "2. Claims"]
    for claim in d.claims:
        out += _render_claim(claim, d.workflow_id)
    if not d.claims:
        out.append("  none billed")
    out += ["", "3. Timers"]
    for run in _runs(d.timers):
        out += _render_timers(run, d.workflow_id)
    if not d.timers:
        out.append("  none set")
    out += ["", "4. Human actions"]
    for action in d.human_actions:
        where = _short(action.workflow_id, d.workflow_id)
        out.append(
            f"  {_when(action.at)} {action.kind} {action.name} on {where}"
            f" by {action.by}{'' if action.by_from == 'input' else ' (client identity)'}: "
            f"{action.status}: {action.what}" + (f" -> {action.answer}" if action.answer else "")
        )
    if not d.human_actions:
        out.append("  none: no signal or update from outside any workflow")
    out += ["", *_render_outcome(d.outcome)]
    if d.notes:
        out += ["", "Notes"] + [f"  {note}" for note in d.notes]
    return out


def _render_order(order: OrderOfBenefits | None) -> list[str]:
    if order is None:
        return ["1. Order of benefits: not in the histories"]
    out = [f"1. Order of benefits: {' > '.join(order.payers) or 'no payer'}"]
    if order.first_order != order.payers:
        out.append(
            f"  first order {' > '.join(order.first_order)}"
            + (" (no rule decided it)" if order.needs_manual_review else "")
        )
    for rule in order.rules:
        out.append(f"  {rule.rule} ({rule.citation}): {rule.text}")
    for excluded in order.excluded:
        out.append(f"  excluded {excluded.payer_id}: {excluded.reason}")
    if order.choice:
        c = order.choice
        out.append(
            f"  person's order {' > '.join(c.payer_ids)} by {c.by} at {_when(c.at)} "
            f"({c.status}): {c.reason}"
        )
    for review in order.reviews:
        out.append(
            f"  COB review {review.on.isoformat()}: {review.reason}"
            + (f"; set aside {', '.join(review.set_aside)}" if review.set_aside else "")
        )
    return out


def _render_claim(claim: ClaimDecisions, encounter_workflow_id: str) -> list[str]:
    out = [
        f"  {_short(claim.workflow_id, encounter_workflow_id)}: {claim.payer_id} as payer "
        f"{claim.payer_sequence}, {claim.result}"
        + (f": {claim.reason}" if claim.reason else "")
        + ("" if claim.history_read else " (its history was not given)")
    ]
    for pa in claim.prior_authorizations:
        out.append(
            f"    278 {pa.on.isoformat()}: {pa.status}"
            + (f" {pa.authorization_number}" if pa.authorization_number else "")
            + (f" ({pa.reason})" if pa.reason else "")
        )
    for s in claim.submissions:
        answer = {True: "accepted", False: "rejected", None: "no answer"}[s.accepted]
        out.append(
            f"    sent {s.claim_control_number} freq {s.frequency} on {s.sent_on.isoformat()}"
            + (f" replacing {s.replaces}" if s.replaces else "")
            + f": {answer}"
            + (f" as {s.payer_claim_number}" if s.payer_claim_number else "")
            + (f" ({s.answer})" if s.answer and not s.accepted else "")
        )
    if not claim.submissions and claim.claim_control_numbers:
        out.append(f"    claim control numbers {', '.join(claim.claim_control_numbers)}")
    if claim.payer_claim_number:
        day = claim.adjudicated_on.isoformat() if claim.adjudicated_on else "-"
        out.append(
            f"    835 {claim.payer_claim_number} of {day}, CLP02 {claim.claim_status}: "
            f"paid {_money(claim.paid)}"
            + (
                f"; expected {_money(claim.expected)}, variance {_money(claim.variance)}"
                if claim.expected is not None
                else ""
            )
            + (" UNDERPAID" if claim.underpaid else "")
        )
    for ln in claim.lines:
        adjustments = ", ".join(f"{a.group}-{a.reason} {_money(a.amount)}" for a in ln.adjustments)
        out.append(
            f"      line {ln.line_number} {ln.procedure_code}: charge {_money(ln.charge)}, "
            f"allowed {_money(ln.allowed)}, paid {_money(ln.paid)}"
            + (f" [{adjustments}]" if adjustments else "")
            + (f" remarks {','.join(ln.remarks)}" if ln.remarks else "")
            + (
                f"; expected {_money(ln.expected)}, variance {_money(ln.variance)}"
                if ln.expected is not None
                else ""
            )
        )
    for denial in claim.denials:
        codes = f"CARC {denial.carc}" + (f" {','.join(denial.rarcs)}" if denial.rarcs else "")
        out.append(
            f"    denial {codes} -> {denial.route}"
            + (
                f" ({denial.claim_control_number}, {denial.on.isoformat()})"
                if denial.on and denial.claim_control_number
                else ""
            )
            + f": {denial.why}"
        )
    for fix in claim.corrections:
        out.append(
            f"    corrected {fix.claim_control_number} freq {fix.frequency} sent "
            f"{fix.sent_on.isoformat()}"
            + (f" replacing {fix.replaces}" if fix.replaces else "")
            + (f", answering {fix.answering}" if fix.answering else "")
            + (f"; {fix.changes} (by {fix.by})" if fix.changes else "")
        )
    if claim.appeal:
        out += _render_appeal(claim.appeal, encounter_workflow_id)
    return out


def _render_appeal(appeal: AppealDecisions, encounter_workflow_id: str) -> list[str]:
    where = _short(appeal.workflow_id, encounter_workflow_id) if appeal.workflow_id else "appeal"
    result = f"{appeal.result} at level {appeal.level}" if appeal.result else "open"
    out = [
        f"    {where} of {appeal.appealed or 'the denial'}: {result}"
        + (f": {appeal.reason}" if appeal.reason else "")
    ]
    if appeal.levels:
        out.append(f"      levels: {', '.join(appeal.levels)}")
    for step in appeal.steps:
        out.append(
            f"      {step.on.isoformat()} {step.kind}"
            + (f" (due {step.due.isoformat()})" if step.due else "")
        )
    return out


def _runs(timers: list[TimerDecision]) -> list[list[TimerDecision]]:
    """Timers in order, the alike that follow one another (a daily ERA poll: each fired, led
    to no step, guarded the same deadline) in one run, so a month of polls is one line."""
    runs: list[list[TimerDecision]] = []
    for timer in timers:
        last = runs[-1][-1] if runs else None
        alike = (
            last is not None
            and timer.outcome == last.outcome == "fired"
            and timer.led_to is None
            and last.led_to is None
            and (timer.workflow_id, timer.guarded) == (last.workflow_id, last.guarded)
        )
        if alike:
            runs[-1].append(timer)
        else:
            runs.append([timer])
    return runs


def _render_timers(run: list[TimerDecision], encounter_workflow_id: str) -> list[str]:
    if len(run) < 3:
        return [_render_timer(t, encounter_workflow_id) for t in run]
    first, last = run[0], run[-1]
    line = (
        f"  {_short(first.workflow_id, encounter_workflow_id)} timers {first.timer_id} to "
        f"{last.timer_id}: {len(run)} set {first.started_at.date().isoformat()} to "
        f"{last.started_at.date().isoformat()}, each fired (the last {last.fires_on.isoformat()})"
    )
    return [line + _guard(first.guarded)]


def _guard(g: GuardedDeadline | None) -> str:
    if g is None:
        return "; guarded no deadline"
    return f"; guarded {g.kind} due {g.due.isoformat()} (inferred from {g.inferred_from})"


def _render_timer(timer: TimerDecision, encounter_workflow_id: str) -> str:
    ended = {"fired": "fired", "cancelled": "cancelled", "open": "still set"}[timer.outcome]
    line = (
        f"  {_short(timer.workflow_id, encounter_workflow_id)} timer {timer.timer_id}: set "
        f"{timer.started_at.date().isoformat()} to fire {timer.fires_on.isoformat()}, {ended}"
        + (f" {timer.ended_at.date().isoformat()}" if timer.ended_at else "")
        + (f" after {timer.ended_by}" if timer.ended_by else "")
        + (f", led to {timer.led_to}" if timer.led_to else "")
    )
    return line + _guard(timer.guarded)


def _render_outcome(outcome: Outcome | None) -> list[str]:
    if outcome is None:
        return ["5. Outcome: no encounter history"]
    total = _money(outcome.patient_responsibility)
    out = [f"5. Outcome: {outcome.stage}; patient responsibility {total}"]
    for ln in outcome.lines:
        paid = sum(ln.paid_by_payer.values(), ZERO)
        payers = ", ".join(f"{p} {_money(a)}" for p, a in ln.paid_by_payer.items())
        out.append(
            f"  line {ln.line_number} {ln.procedure_code}: charge {_money(ln.charge)} = paid "
            f"{_money(paid)} ({payers or 'no payer'}) + adjustments {_money(ln.adjustments)} + "
            f"patient {_money(ln.patient_responsibility)}: "
            + ("holds" if ln.balances else f"DOES NOT HOLD (off by {_money(ln.difference)})")
        )
    if not outcome.lines:
        out.append("  no line posted (the encounter did not close)")
    elif not outcome.unbalanced:
        out.append("  every line balances to the cent")
    for problem in outcome.unbalanced:
        out.append(f"  UNBALANCED {problem}")
    for problem in outcome.disagreements:
        out.append(f"  DISAGREES {problem}")
    return out
