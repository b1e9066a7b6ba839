"""Keep an encounter's histories once it has closed (activities/archive.py).

A workflow cannot read its own final history, so the encounter's last step hands it on: it
signals the ArchiveBatchWorkflow of its minute (starting it if none runs), which waits a
moment for the encounters to close, then copies the histories of each, its claims and their
appeals into the ledger, a few encounters to an activity. One workflow serves every encounter
closing in that minute; each encounter once had an ArchiveWorkflow of its own, still here for
the runs started so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.archive import ARCHIVE_SIGNAL, ArchiveActivities
    from contract.messages import (
        ArchiveBatch,
        ArchiveBatchResult,
        ArchiveRequest,
        ArchiveResult,
    )

# Retried until the encounter has closed (seconds) and the ledger answers (however long it
# takes: the server keeps the histories for its retention, a day or more).
ARCHIVE = dict(
    start_to_close_timeout=timedelta(minutes=5),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=10),
        non_retryable_error_types=["ArchiveConflict"],
    ),
)
# An encounter signals just before it completes: a batch waits this long before each pass,
# so the encounters have closed and those signalling meanwhile go in the same pass.
SETTLE = timedelta(seconds=2)
# One still running after a pass's own wait (activities/archive.py CLOSE_POLLS) is asked
# again after 5 s, then 10 s, ..., at most every 10 minutes; the others do not wait for it.
RETRY_FIRST, RETRY_MOST = timedelta(seconds=5), timedelta(minutes=10)


@workflow.defn
class ArchiveWorkflow:
    """One encounter's archive: what encounters started before ArchiveBatchWorkflow."""

    @workflow.run
    async def run(self, request: ArchiveRequest) -> ArchiveResult:
        return await workflow.execute_activity_method(
            ArchiveActivities.archive_histories, request, **ARCHIVE
        )


def _key(request: ArchiveRequest) -> str:
    return f"{request.encounter_workflow_id}@{request.run_id or ''}"


@workflow.defn
class ArchiveBatchWorkflow:
    """The archives of the encounters closing in one minute. It ends once nothing it was
    given is left to archive; a signal after that starts a new run under the same id."""

    def __init__(self) -> None:
        self._pending: dict[str, ArchiveRequest] = {}
        self._seen: set[str] = set()  # a retried start_archive signals again
        self._due: dict[str, datetime] = {}  # when one handed back is asked again
        self._tries: dict[str, int] = {}
        self._result = ArchiveBatchResult()

    @workflow.signal(name=ARCHIVE_SIGNAL)
    def archive(self, request: ArchiveRequest) -> None:
        key = _key(request)
        if key not in self._seen:
            self._seen.add(key)
            self._pending[key] = request

    @workflow.run
    async def run(self, batch: ArchiveBatch) -> ArchiveBatchResult:
        for request in batch.carried:
            self.archive(request)
        await workflow.sleep(SETTLE)
        while True:
            ready = await self._ready()
            if not ready:
                return self._result
            outcome = await workflow.execute_activity_method(
                ArchiveActivities.archive_batch, [self._pending.pop(k) for k in ready], **ARCHIVE
            )
            self._result.archived += outcome.archived
            self._result.conflicts += outcome.conflicts
            for key in ready:
                self._due.pop(key, None)
            for request in outcome.still_running:
                key = _key(request)
                self._tries[key] = tries = self._tries.get(key, 0) + 1
                self._due[key] = workflow.now() + min(RETRY_FIRST * 2 ** (tries - 1), RETRY_MOST)
                self._pending[key] = request
            if workflow.info().is_continue_as_new_suggested():
                # the next run asks those carried at once, and counts their tries afresh
                workflow.continue_as_new(ArchiveBatch(carried=list(self._pending.values())))

    async def _ready(self) -> list[str]:
        """The requests to archive in the next pass, once there are any; [] when none is
        left (the batch is done). One handed back waits for its time; one arriving
        meanwhile waits SETTLE, and goes in a pass with those due."""
        while True:
            now = workflow.now()
            ready = [k for k in self._pending if self._due.get(k, now) <= now]
            if ready or not self._pending:
                return ready
            earliest = min(self._due.values()) - now
            try:
                await workflow.wait_condition(
                    lambda: any(k not in self._due for k in self._pending), timeout=earliest
                )
            except TimeoutError:
                continue
            await workflow.sleep(SETTLE)
