"""Admission: start encounters no faster than the workers take up their work.

A batch of 10,000 encounters started at once makes 10,000 workflows that all advance together:
each waits its turn behind the others' tasks, more of them run than a worker's cache holds
(each one evicted replays its whole history at its next task), and a task that waits too
long times out and is replayed again. Started through `Admission`, a batch enters as fast as
the workers keep up: 2,000 close within 9% of the pace of 200, against 37% slower started at
once (`make bench N=2000 ROUNDS=1`, with and without BENCH_ARGS=--no-admission).

Two measures, read from the server, and a start waits while either is over its bound:
- the encounters at work: running and not resting on a payer or a person (their CobStage is
  not awaiting_*, appeal*, held* or prior_auth). WINDOW of them at most, so that they and
  their claims fit in a worker's cache of workflows (1,000 by default). An encounter waiting
  days for an 835 rests, and never holds up the next start.
- the task queue's backlog (DescribeTaskQueue's stats): tasks no worker has taken yet, and
  how long the oldest has waited. A workflow just started has no stage yet; its first task
  waits here.
Nothing is kept in this process: an import cut short is run again, and the encounters it
started are refused as started (workflow ids). A server that cannot report one of the two
(Temporal before 1.28 has no backlog stats) is measured by the other; one that reports
neither (the time-skipping test server) admits every start.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from contract.ids import TASK_QUEUE
from contract.stages import Stage

RESTING = sorted(
    stage.value
    for stage in Stage
    if stage.value.startswith(("awaiting_", "appeal", "held")) or stage is Stage.PRIOR_AUTH
)
ENCOUNTERS_AT_WORK = (
    "WorkflowType = 'EncounterWorkflow' AND ExecutionStatus = 'Running' AND CobStage NOT IN ("
    + ", ".join(f"'{stage}'" for stage in RESTING)
    + ")"
)
WINDOW = 300  # encounters at work at most: each with its claim, 600 workflows in a cache

# A start waits while a queue has more than MAX_WAITING tasks or its oldest has waited longer
# than MAX_AGE: one worker takes about a hundred tasks a second when it keeps up.
MAX_WAITING = 200
MAX_AGE = 2.0
# The queues are read at most every READ_EVERY seconds, and at most BURST encounters start
# between two readings (the reading lags the starts it has not seen yet).
READ_EVERY = 0.5
BURST = 25

UNSUPPORTED = (RPCStatusCode.UNIMPLEMENTED, RPCStatusCode.INVALID_ARGUMENT)
# A reading the server fails for a moment (restarting, overloaded) holds the starts and is
# taken again; only after GIVE_UP seconds of such failures does the import stop on the error.
TRANSIENT = (
    RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED
)
GIVE_UP = 60.0
QUEUES = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)


@dataclass
class Backlog:
    waiting: int  # tasks waiting for a worker, workflow tasks and activities
    oldest: float  # seconds the oldest of them has waited

    def behind(self) -> bool:
        return self.waiting > MAX_WAITING or self.oldest > MAX_AGE


async def backlog(client: Client, task_queue: str = TASK_QUEUE) -> Backlog:
    """The task queue's backlog as the server counts it (approximate, a second or so behind)."""
    waiting, oldest = 0, 0.0
    for kind in QUEUES:
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=kind,
                report_stats=True,
            )
        )
        stats = described.stats
        waiting += stats.approximate_backlog_count
        oldest = max(oldest, stats.approximate_backlog_age.ToTimedelta().total_seconds())
    return Backlog(waiting, oldest)


class Admission:
    """`await admission.wait()` before each start: returns once the workers keep up."""

    def __init__(
        self,
        client: Client,
        task_queue: str = TASK_QUEUE,
        at_work: str = ENCOUNTERS_AT_WORK,  # a visibility query: what counts in the window
        window: int = WINDOW,
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.at_work, self.window = at_work, window
        self.read_at = float("-inf")
        self.behind = False  # as last read
        self.admitted = 0  # since the last reading
        self.lock = asyncio.Lock()  # concurrent starters share one reading
        self.unmeasured: set[str] = set()  # what this server cannot report: window, backlog
        self.failing_since: float | None = None  # readings failing transiently since then

    async def wait(self) -> None:
        async with self.lock:
            while True:
                since = time.monotonic() - self.read_at
                if since < READ_EVERY and self.admitted < BURST and not self.behind:
                    self.admitted += 1
                    return
                if since < READ_EVERY:
                    await asyncio.sleep(READ_EVERY - since)
                try:
                    self.behind = await self._over("window") or await self._over("backlog")
                    self.failing_since = None
                except RPCError as error:
                    if error.status not in TRANSIENT:
                        raise
                    now = time.monotonic()
                    self.failing_since = self.failing_since or now
                    if now - self.failing_since > GIVE_UP:
                        raise
                    self.behind = True  # not known: hold the starts, read again
                self.read_at, self.admitted = time.monotonic(), 0

    async def _over(self, measure: str) -> bool:
        """Whether the measure is over its bound; False for one the server cannot report
        (the time-skipping test server has neither; Temporal before 1.28 has no backlog)."""
        if measure in self.unmeasured:
            return False
        try:
            if measure == "window":
                return (await self.client.count_workflows(self.at_work)).count >= self.window
            return (await backlog(self.client, self.task_queue)).behind()
        except RPCError as error:
            if error.status not in UNSUPPORTED:
                raise
            self.unmeasured.add(measure)
            return False
