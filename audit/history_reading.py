"""One Temporal history read: its events decoded into a trail of the activity calls, timers,
signals, updates, ClaimProgress and children that say what was decided (audit.decisions'
docstring says which events answer what). Activities not read here are skipped; a payload that
no longer fits its type is left out with a note; a PayloadKeyError goes up."""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from activities.claims import ClaimActivities
from activities.encounter import EncounterActivities
from contract.messages import ClaimProgress, FollowUp
from workers.codec import PayloadKeyError
from workflows.appeal import AppealWorkflow
from workflows.claim import PayerClaimWorkflow
from workflows.encounter import EncounterWorkflow

ENCOUNTER = EncounterWorkflow.__name__
CLAIM = PayerClaimWorkflow.__name__
APPEAL = AppealWorkflow.__name__
WORKFLOWS: dict[str, type] = {
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
_CLAIM_PROGRESS = "claim_progress"
# The signals workflows send one another (a claim's and an appeal's progress): never a
# person's, though a test server may record no sender for them.
_ENGINE_SIGNALS = {_CLAIM_PROGRESS}


@dataclass
class Call:
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
class Timer:
    timer_id: str
    event_id: int
    started_at: datetime
    fires_at: datetime
    outcome: Literal["fired", "cancelled", "open"] = "open"
    ended_event: int | None = None
    ended_at: datetime | None = None


@dataclass
class Trail:
    workflow_id: str
    workflow_type: str = ""
    parent_id: str | None = None
    started_at: datetime | None = None
    status: str = "open"
    events: int = 0
    input: Any = None
    result: Any = None
    calls: list[Call] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    signals: list[_Signal] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)
    progress: list[tuple[int, ClaimProgress]] = field(default_factory=list)  # sent or heard
    children: dict[str, Any] = field(default_factory=dict)  # workflow id -> its result
    child_order: list[str] = field(default_factory=list)

    def inputs(self, name: str) -> list[tuple[Call, Any]]:
        return [(c, c.input) for c in self.calls if c.name == name and c.input is not None]

    def follow_ups(self) -> list[tuple[Call, FollowUp]]:
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
    classes = [WORKFLOWS[workflow_type]] if workflow_type in WORKFLOWS else WORKFLOWS.values()
    for cls in classes:
        method = getattr(cls, name, None)
        if callable(method):
            return method
    return None


class Reader:
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

    async def trail(self, history: WorkflowHistory) -> Trail:
        """One history's events, the payloads that matter decoded, in the order they came."""
        trail = Trail(workflow_id=history.workflow_id)
        events = list(history.events)
        trail.events = len(events)
        self._by_id = {e.event_id: e for e in events}
        self._calls: dict[int, Call] = {}
        self._timers: dict[int, Timer] = {}
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
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        trail.workflow_type = attributes.workflow_type.name
        trail.started_at = _time(event)
        if attributes.HasField("parent_workflow_execution"):
            trail.parent_id = attributes.parent_workflow_execution.workflow_id
        run = _run_method(trail.workflow_type)
        if run is not None:
            trail.input = await self.value(attributes.input.payloads, _hints(run)[0], where)

    async def _closed(self, trail: Trail, kind: str, attributes: Any, where: str) -> None:
        trail.status = _CLOSED[kind]
        run = _run_method(trail.workflow_type)
        if trail.status == "completed" and run is not None:
            trail.result = await self.value(attributes.result.payloads, _hints(run)[1], where)

    async def _scheduled(
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        name = attributes.activity_type.name
        call = self._calls[event.event_id] = Call(name, event.event_id, _time(event))
        trail.calls.append(call)
        if name in _READ:  # any other activity is skipped, a known one or not
            call.input = await self.value(attributes.input.payloads, _hints(_READ[name])[0], where)

    async def _completed(
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        call = self._calls.get(attributes.scheduled_event_id)
        if call is not None and call.name in _READ:
            hint = _hints(_READ[call.name])[1]
            call.result = await self.value(attributes.result.payloads, hint, where)

    async def _timer_started(
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
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
        timer = self._timers[event.event_id] = Timer(
            attributes.timer_id, event.event_id, now, fires
        )
        trail.timers.append(timer)

    async def _timer_ended(
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        timer = self._timers.get(attributes.started_event_id)
        if timer is not None:
            timer.outcome = (
                "fired" if event.HasField("timer_fired_event_attributes") else "cancelled"
            )
            timer.ended_event, timer.ended_at = event.event_id, _time(event)

    async def _signaled(
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
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
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        if attributes.signal_name != _CLAIM_PROGRESS:
            return
        hint = _hints(EncounterWorkflow.claim_progress)[0]
        value = await self.value(attributes.input.payloads, hint, where)
        if isinstance(value, ClaimProgress):
            trail.progress.append((event.event_id, value))

    async def _update_asked(
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
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
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
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
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        trail.child_order.append(attributes.workflow_id)

    async def _child_completed(
        self, trail: Trail, event: HistoryEvent, attributes: Any, where: str
    ) -> None:
        run = _run_method(attributes.workflow_type.name)
        if run is not None:
            child = attributes.workflow_execution.workflow_id
            trail.children[child] = await self.value(
                attributes.result.payloads, _hints(run)[1], where
            )


# The events read, by their attributes' name; every other event says nothing decided.
_STEPS: dict[str, Callable[[Reader, Trail, HistoryEvent, Any, str], Awaitable[None]]] = {
    "workflow_execution_started": Reader._started,
    "activity_task_scheduled": Reader._scheduled,
    "activity_task_completed": Reader._completed,
    "timer_started": Reader._timer_started,
    "timer_fired": Reader._timer_ended,
    "timer_canceled": Reader._timer_ended,
    "workflow_execution_signaled": Reader._signaled,
    "signal_external_workflow_execution_initiated": Reader._signal_sent,
    "workflow_execution_update_admitted": Reader._update_asked,
    "workflow_execution_update_accepted": Reader._update_asked,
    "workflow_execution_update_rejected": Reader._update_asked,
    "workflow_execution_update_completed": Reader._update_done,
    "start_child_workflow_execution_initiated": Reader._child_started,
    "child_workflow_execution_completed": Reader._child_completed,
}


def _run_method(workflow_type: str) -> Callable[..., Any] | None:
    cls = WORKFLOWS.get(workflow_type)
    return getattr(cls, "run", None) if cls else None


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def _answer(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " > ".join(str(v) for v in value)
    return str(value)
