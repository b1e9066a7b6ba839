"""When a day's follow-up wakes: at a time of that day drawn from the workflow's id, the same
on every replay and every run of that workflow, so the thousands of claims and accounts that
wait for the same day wake spread over its 24 hours, not together at 00:00 UTC. Follow-ups
only (an ERA poll, a status check, a dunning step), where any hour of the day is that day;
a timer that closes a window (an appeal's filing deadline, a correction's) still fires at the
window's end."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta

from temporalio import workflow

from workflows.versions import changed

# Versions (workflow.patched): follow-up timers wake at the workflow's own time of day.
SPREAD_WAKE_TIMES = "spread-wake-times"
DAY_SECONDS = 24 * 60 * 60


def time_of_day(workflow_id: str) -> timedelta:
    """The workflow's wake-up time after midnight UTC, to the second (from a SHA-256 of its
    id: Python's hash() differs between processes)."""
    digest = hashlib.sha256(workflow_id.encode()).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % DAY_SECONDS)


def wake_time(day: date) -> datetime:
    """When a follow-up due on `day` wakes: at this workflow's time of that day (00:00 UTC in
    workflows started before the change)."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    if changed(SPREAD_WAKE_TIMES):
        return start + time_of_day(workflow.info().workflow_id)
    return start
