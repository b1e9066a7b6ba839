"""Archive an encounter's closed workflow histories in the ledger (ledger/archives.py).

The histories are read from the Temporal server as they are stored there, payloads still
encrypted, and found by walking the tree of child workflows the encounter's own history
records (its claims, their appeals): no visibility query, so it works on any server.

An encounter's last step signals the ArchiveBatchWorkflow of its minute (workflows/archive.py),
which archives the encounters of that minute a few at a time once they have closed: one
workflow for many encounters, not one each.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from contract.ids import archive_batch_workflow_id, archive_workflow_id, encounter_id_of
from contract.messages import ArchiveBatch, ArchiveBatchOutcome, ArchiveRequest, ArchiveResult
from ledger import worklist, writes
from ledger.archives import ArchiveConflict, ClosedHistory, store_histories

ARCHIVE_BATCH_WORKFLOW_TYPE = "ArchiveBatchWorkflow"  # workflows/archive.py, started by name
ARCHIVE_SIGNAL = "archive"  # ArchiveBatchWorkflow.archive
CLOSE_POLLS, CLOSE_POLL_SECONDS = 20, 0.5  # how long one attempt waits for the close
# Encounters of a batch archived at once: the server's reads overlap the ledger's writes.
BATCH_CONCURRENCY = 4
CONFLICT_TASK_DAYS = timedelta(days=7)  # an archive that differs from the server's history


class StillRunning(RuntimeError):
    """A workflow of the encounter has not closed yet: there is no final history to keep."""


def _status_name(status: int) -> str:
    name = WorkflowExecutionStatus.Name(status)  # WORKFLOW_EXECUTION_STATUS_COMPLETED
    return name.removeprefix("WORKFLOW_EXECUTION_STATUS_").lower()


def canonical_json(history: WorkflowHistory) -> str:
    """The history's JSON with sorted keys: protobuf writes map fields (headers, memos, search
    attributes) in no fixed order, and the same history must always give the same SHA-256."""
    return json.dumps(json.loads(history.to_json()), sort_keys=True, separators=(",", ":"))


def children_started(history: WorkflowHistory) -> list[tuple[str, str, str]]:
    """(workflow id, run id, workflow type) of every child workflow the history started."""
    found = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            started = event.child_workflow_execution_started_event_attributes
            execution = started.workflow_execution
            found.append((execution.workflow_id, execution.run_id, started.workflow_type.name))
    return found


async def execution_info(client: Client, workflow_id: str, run_id: str | None = None):
    """The run's raw description (the latest run when `run_id` is None). Not describe(): it
    decodes the search attributes too, which it cannot do for a Datetime attribute left
    null (the time-skipping test server keeps those)."""
    described = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id or ""),
        )
    )
    return described.workflow_execution_info


async def closed_history(
    client: Client, workflow_id: str, run_id: str | None, parent: str | None, open_ok: bool = False
) -> ClosedHistory:
    """The run's whole history; StillRunning when it has not closed (unless `open_ok`: then
    the history so far, with the time it was read as `closed_at`)."""
    info = await execution_info(client, workflow_id, run_id)
    closed = info.HasField("close_time")
    if not closed and not open_ok:
        raise StillRunning(f"workflow {workflow_id} is still running")
    run = info.execution.run_id
    history = await client.get_workflow_handle(workflow_id, run_id=run).fetch_history()
    return ClosedHistory(
        workflow_id=workflow_id,
        run_id=run,
        encounter_id=encounter_id_of(workflow_id),
        workflow_type=info.type.name,
        parent_workflow_id=parent,
        status=_status_name(info.status),
        closed_at=info.close_time.ToDatetime(UTC) if closed else datetime.now(UTC),
        event_count=len(history.events),
        text=canonical_json(history),
    )


async def encounter_histories(
    client: Client, encounter_workflow_id: str, run_id: str | None = None, open_ok: bool = False
) -> list[ClosedHistory]:
    """The closed histories of the encounter's run (the latest when `run_id` is None) and of
    every workflow it started, in the order they started; StillRunning if any of them is open
    (unless `open_ok`: an auditor may replay an encounter in flight)."""
    found: list[ClosedHistory] = []
    todo: list[tuple[str, str | None, str | None]] = [(encounter_workflow_id, run_id, None)]
    while todo:
        workflow_id, run, parent = todo.pop(0)
        closed = await closed_history(client, workflow_id, run, parent, open_ok)
        found.append(closed)
        history = WorkflowHistory.from_json(workflow_id, closed.text)
        todo += [(child, run, workflow_id) for child, run, _ in children_started(history)]
    return found


async def archive_encounter(
    client: Client, ledger: Engine, encounter_workflow_id: str, run_id: str | None = None
) -> ArchiveResult:
    """Store the encounter's closed histories in the ledger, and an audit event with the
    digest of each (so the audit chain vouches for the archive too)."""
    histories = await encounter_histories(client, encounter_workflow_id, run_id)
    newly = await asyncio.to_thread(store_histories, ledger, histories)
    digests = {f"{h.workflow_id}@{h.run_id}": h.sha256 for h in histories}
    encounter_run = histories[0].run_id
    await asyncio.to_thread(
        writes.append_audit_event,
        ledger,
        workflow_id=archive_workflow_id(encounter_workflow_id),
        step=f"archive:{encounter_run}",
        kind="histories_archived",
        detail={"on": histories[0].closed_at.date(), "histories": digests},
    )
    return ArchiveResult(
        encounter_id=encounter_id_of(encounter_workflow_id),
        workflows=[h.workflow_id for h in histories],
        newly_archived=newly,
        digests=digests,
    )


async def close_times(client: Client, workflow_ids: list[str]) -> list[datetime]:
    """When each of the workflows closed; those still running or unknown are left out."""
    found = []
    for workflow_id in workflow_ids:
        try:
            info = await execution_info(client, workflow_id)
        except RPCError:  # another server's encounter (a shared ledger)
            continue
        if info.HasField("close_time"):
            found.append(info.close_time.ToDatetime(UTC))
    return found


async def archive_batches_closed(
    client: Client, task_queue: str, closes: list[datetime], timeout: float
) -> int:
    """Wait (`timeout` seconds at most) for the ArchiveBatchWorkflows of encounters that
    closed at `closes` on `task_queue`: the batch of the close's minute, and of the minute
    before (the encounter signalled a moment before it closed). How many are still running."""
    ids = {
        archive_batch_workflow_id(task_queue, at - timedelta(minutes=back))
        for at in closes
        for back in (0, 1)
    }

    async def one(workflow_id: str) -> bool:
        try:
            await asyncio.wait_for(client.get_workflow_handle(workflow_id).result(), timeout)
        except TimeoutError:
            return True
        except (RPCError, WorkflowFailureError):  # none ran that minute, or it failed
            pass
        return False

    return sum(await asyncio.gather(*(one(i) for i in sorted(ids))))


class ArchiveActivities:
    def __init__(self, ledger: Engine) -> None:
        self.ledger = ledger

    @activity.defn
    async def archive_histories(self, request: ArchiveRequest) -> ArchiveResult:
        """Archive once every workflow of the encounter has closed. The encounter starts this
        just before it completes, so it is usually closed within the first seconds: those
        are waited for here; past them the attempt fails and Temporal retries it."""
        for _ in range(CLOSE_POLLS):
            try:
                return await archive_encounter(
                    activity.client(), self.ledger, request.encounter_workflow_id, request.run_id
                )
            except StillRunning:
                activity.heartbeat()
                await asyncio.sleep(CLOSE_POLL_SECONDS)
            except ArchiveConflict as error:  # not retried: a person finds out why
                await self._conflict_task(request.encounter_workflow_id, str(error))
                raise
        raise ApplicationError(
            f"encounter {request.encounter_workflow_id} has not closed yet", type="StillRunning"
        )

    async def _conflict_task(self, encounter_workflow_id: str, why: str) -> None:
        today = activity.info().current_attempt_scheduled_time.date()
        await asyncio.to_thread(
            worklist.open_task,
            self.ledger,
            workflow_id=archive_workflow_id(encounter_workflow_id),
            encounter_id=encounter_id_of(encounter_workflow_id),
            payer_id="",
            claim_control_number=None,
            kind="archive_conflict",
            reason=f"{why}: compare it with the server's history (cob audit replay, cob audit "
            "verify) and find who changed the ledger",
            due=today + CONFLICT_TASK_DAYS,
            opened_on=today,
        )

    @activity.defn
    async def archive_batch(self, requests: list[ArchiveRequest]) -> ArchiveBatchOutcome:
        """One pass over a batch's encounters: each closed one archived, each still open
        waited for a few seconds and then handed back, each in conflict given a task. A
        failure of the server or the ledger fails the pass, and Temporal retries it: what
        was archived already is not stored twice."""
        outcome = ArchiveBatchOutcome()
        gate = asyncio.Semaphore(BATCH_CONCURRENCY)

        async def one(request: ArchiveRequest) -> None:
            async with gate:
                for poll in range(CLOSE_POLLS):
                    try:
                        await archive_encounter(
                            activity.client(), self.ledger, request.encounter_workflow_id,
                            request.run_id,
                        )  # fmt: skip
                    except StillRunning:
                        activity.heartbeat()
                        if poll + 1 < CLOSE_POLLS:
                            await asyncio.sleep(CLOSE_POLL_SECONDS)
                        continue
                    except ArchiveConflict as error:  # not retried: a person finds out why
                        await self._conflict_task(request.encounter_workflow_id, str(error))
                        outcome.conflicts.append(request.encounter_workflow_id)
                        return
                    outcome.archived.append(request.encounter_workflow_id)
                    return
                outcome.still_running.append(request)

        try:  # a failure cancels the rest of the pass: the whole pass is retried
            async with asyncio.TaskGroup() as group:
                for request in requests:
                    group.create_task(one(request))
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return outcome

    @activity.defn
    async def start_archive(self, request: ArchiveRequest) -> None:
        """Hand the encounter to the ArchiveBatchWorkflow of this minute, starting it if
        none runs: the encounter's last step. Not a child workflow: it outlives the
        encounter, and an abandoned child stops the time-skipping test server from skipping
        time. A retried attempt signals again, and the batch keeps each encounter once."""
        at = activity.info().current_attempt_scheduled_time
        task_queue = activity.info().task_queue
        await activity.client().start_workflow(
            ARCHIVE_BATCH_WORKFLOW_TYPE,
            ArchiveBatch(),
            id=archive_batch_workflow_id(task_queue, at),
            task_queue=task_queue,
            start_signal=ARCHIVE_SIGNAL,
            start_signal_args=[request],
        )

    def all(self) -> list:
        return [self.archive_histories, self.archive_batch, self.start_archive]
