"""Every timer of one history: when it was set to fire, how it ended (and after which signal or
update from outside, when cancelled), the follow-up it led to and the deadline it guarded,
inferred from the three sources audit.decisions' docstring lists, in order."""

from __future__ import annotations

from audit.decision_models import GuardedDeadline, TimerDecision
from audit.history_reading import Call, Timer, Trail
from cob.deadlines import Deadline
from contract.messages import FollowUp


def timers(trail: Trail) -> list[TimerDecision]:
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


def _ended_by(trail: Trail, timer: Timer) -> str | None:
    """The last signal or update from outside between a timer's start and its cancelling."""
    if timer.outcome != "cancelled" or timer.ended_event is None:
        return None
    end = timer.ended_event
    heard = [(s.event_id, s.name) for s in trail.signals if s.from_outside]
    heard += [(u.event_id, u.name) for u in trail.updates if u.status != "admitted"]
    within = sorted(h for h in heard if timer.event_id < h[0] < end)
    return within[-1][1] if within else None


def _guarded(
    trail: Trail, timer: Timer, led_to: FollowUp | None, follow_ups: list[tuple[Call, FollowUp]]
) -> GuardedDeadline | None:
    """The deadline a timer guarded: audit.decisions' docstring's three sources, in order."""
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
