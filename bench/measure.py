"""What the benchmark reads: a process's CPU seconds and memory from /proc, and a round's
histories (events, workflow tasks, activities, timeouts) from the server."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of the process and its threads so far (utime + stime)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_mb(pid: int) -> tuple[float, float]:
    """The process's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


class CpuMeter:
    """CPU seconds used by each named process between start() and stop()."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._start: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> None:
        self.used = {
            name: cpu_seconds(pid) - self._start[name] for name, pid in self.pids.items()
        }


async def until_quiet(pid: int, window: float = 0.5, share: float = 0.05) -> float:
    """Wait until the process uses under `share` of a core over `window` seconds; the
    monotonic time when that quiet window began (work still in flight after every workflow
    closed, such as an account writing a statement, counts in the round)."""
    while True:
        began, before = time.monotonic(), cpu_seconds(pid)
        await asyncio.sleep(window)
        if cpu_seconds(pid) - before < share * window:
            return began


COUNTED = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow_tasks",
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: "workflow_task_timeouts",
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED: "workflow_task_failures",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activities",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_timeouts",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "children",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "upserts",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "executions",
}


@dataclass
class HistoryCounts:
    events: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    activity_types: Counter[str] = field(default_factory=Counter)  # and workflow types
    event_types: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    histories: list[WorkflowHistory] = field(default_factory=list)


async def round_histories(
    client: Client, since: datetime, until: datetime, query: str, concurrency: int = 20
) -> HistoryCounts:
    """Every history the query lists, counted by the events written between `since` and
    `until` (a long-lived account's earlier events are not this round's)."""
    runs = [(w.id, w.run_id) async for w in client.list_workflows(query)]
    counts = HistoryCounts()
    gate = asyncio.Semaphore(concurrency)

    async def one(workflow_id: str, run_id: str | None) -> None:
        async with gate:
            history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        counts.histories.append(history)
        workflow_type = history.events[0].workflow_execution_started_event_attributes.workflow_type.name
        for event in history.events:
            at = event.event_time.ToDatetime().replace(tzinfo=since.tzinfo)
            if since <= at <= until:
                counts.events += 1
                kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
                counts.event_types[f"{workflow_type}: {kind}"] += 1
                counts.bytes += event.ByteSize()
                if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
                    marker = event.marker_recorded_event_attributes.marker_name
                    counts.kinds["local_activities" if "local_activity" in marker else "markers"] += 1
                elif event.event_type in COUNTED:
                    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                        name = event.activity_task_scheduled_event_attributes.activity_type.name
                        counts.activity_types[name] += 1
                    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                        name = event.workflow_execution_started_event_attributes.workflow_type.name
                        counts.activity_types[f"(workflow) {name}"] += 1
                    counts.kinds[COUNTED[event.event_type]] += 1

    await asyncio.gather(*(one(i, r) for i, r in runs))
    return counts


async def replay_rate(histories: list[WorkflowHistory], workflows: list, converter) -> float:
    """Histories replayed per second by one Replayer (the auditor's `cob audit replay`)."""
    if not histories:
        return 0.0
    from workers import worker

    runner = getattr(worker, "WORKFLOW_RUNNER", None)  # the workers' own, where they name one
    replayer = Replayer(
        workflows=workflows,
        data_converter=converter,
        **({"workflow_runner": runner} if runner is not None else {}),
    )
    started = time.monotonic()
    async with replayer.workflow_replay_iterator(_histories(histories)) as results:
        async for result in results:
            if result.replay_failure is not None:
                raise RuntimeError(f"replay failed: {result.replay_failure}")
    return len(histories) / (time.monotonic() - started)


async def _histories(histories: list[WorkflowHistory]):
    for history in histories:
        yield history
