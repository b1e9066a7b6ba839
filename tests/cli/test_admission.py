"""Admission (cli/admission.py) on a real dev server: a start waits while the task queue has
a backlog no worker takes up, and goes on once a worker drains it."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

import cli.admission as admission_module
from cli.admission import Admission, backlog
from contract import search_attributes as sa
from tests.workflows.test_end_to_end import dev_server_on_a_free_port, wait_for
from workers.temporal import connect

QUEUE = "admission-test"


@workflow.defn(sandboxed=False)
class Idle:
    @workflow.run
    async def run(self) -> None:
        return None


async def test_a_start_waits_while_the_queue_is_behind_and_goes_on_once_it_drains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admission_module, "MAX_WAITING", 2)
    server = await dev_server_on_a_free_port(tmp_path)
    try:
        client = await connect(server.address)
        admission = Admission(client, QUEUE)
        await admission.wait()  # nothing waits: admitted at once
        for number in range(4):  # no worker polls the queue yet
            await client.start_workflow(Idle.run, id=f"idle-{number}", task_queue=QUEUE)

        async def counted() -> bool:
            return (await backlog(client, QUEUE)).waiting >= 4

        await wait_for(counted, 30, "the server to count the 4 waiting workflow tasks")
        admission.read_at = float("-inf")  # read again now, not after READ_EVERY
        waiting = asyncio.create_task(admission.wait())
        await asyncio.sleep(2 * admission_module.READ_EVERY + 1)
        assert not waiting.done(), "a start was admitted while 4 tasks waited (at most 2)"

        async with Worker(client, task_queue=QUEUE, workflows=[Idle]):
            await asyncio.wait_for(waiting, 30)  # the worker drained the backlog
            for number in range(4):
                await client.get_workflow_handle(f"idle-{number}").result()
        assert (await backlog(client, QUEUE)).waiting == 0
    finally:
        server.stop()


async def test_a_burst_of_starts_is_read_again_before_more_are_admitted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most BURST starts between two readings: the reading lags the starts it has not seen."""
    server = await dev_server_on_a_free_port(tmp_path)
    try:
        client = await connect(server.address)
        admission = Admission(client, QUEUE)
        readings = 0
        real = admission_module.backlog

        async def counting(*args, **kwargs):
            nonlocal readings
            readings += 1
            return await real(*args, **kwargs)

        monkeypatch.setattr(admission_module, "backlog", counting)
        for _ in range(2 * admission_module.BURST + 1):
            await admission.wait()
        assert readings == 3
    finally:
        server.stop()


async def test_the_window_counts_encounters_at_work_not_those_resting(tmp_path: Path) -> None:
    """Encounters past the window wait the next start; one resting on a payer (an 835 days
    away) does not count. Encounter-typed workflows nobody runs, their stages set at start."""
    server = await dev_server_on_a_free_port(tmp_path)
    try:
        client = await connect(server.address)
        stages = {"at-work-1": "claim_1", "at-work-2": "eligibility", "resting": "awaiting_remittance",
                  "no-stage-yet": None}  # fmt: skip
        for workflow_id, stage in stages.items():
            await client.start_workflow(
                "EncounterWorkflow", id=workflow_id, task_queue="window-test",
                search_attributes=TypedSearchAttributes(
                    [] if stage is None else [SearchAttributePair(sa.STAGE, stage)]
                ),
            )  # fmt: skip

        async def listed() -> bool:
            found = await client.count_workflows("WorkflowType = 'EncounterWorkflow'")
            return found.count == len(stages)

        await wait_for(listed, 30, "the server to list the 4 workflows")
        # the backlog of another queue (empty): the window alone decides here
        assert (await client.count_workflows(admission_module.ENCOUNTERS_AT_WORK)).count == 2
        full = Admission(client, "empty-queue", window=2)
        waiting = asyncio.create_task(full.wait())
        await asyncio.sleep(2 * admission_module.READ_EVERY + 1)
        assert not waiting.done(), "a start was admitted with 2 encounters at work (window 2)"
        waiting.cancel()
        await asyncio.wait_for(Admission(client, "empty-queue", window=3).wait(), 10)
    finally:
        server.stop()


async def test_a_server_that_reports_neither_measure_admits_every_start(client) -> None:
    """The time-skipping test server has no visibility count and no task-queue stats."""
    admission = Admission(client, QUEUE)
    for _ in range(admission_module.BURST + 1):
        await asyncio.wait_for(admission.wait(), 10)
    assert admission.unmeasured == {"window", "backlog"}


class FlakyServer:
    """A client whose visibility count fails with UNAVAILABLE `failures` times, then answers
    0 (a stand-in for a server restarting: the reading's retry, not the server, is tested)."""

    def __init__(self, failures: int) -> None:
        self.failures, self.reads = failures, 0

    async def count_workflows(self, query: str):
        self.reads += 1
        if self.reads <= self.failures:
            raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
        return types.SimpleNamespace(count=0)


async def test_a_reading_the_server_fails_for_a_moment_holds_the_starts_then_goes_on() -> None:
    server = FlakyServer(failures=2)
    admission = Admission(server, QUEUE)  # type: ignore[arg-type]
    admission.unmeasured.add("backlog")
    await asyncio.wait_for(admission.wait(), 10)
    assert server.reads == 3  # held through two failed readings, admitted on the third


async def test_a_server_failing_past_the_give_up_time_stops_the_import_on_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admission_module, "GIVE_UP", 1.0)
    server = FlakyServer(failures=1_000)
    admission = Admission(server, QUEUE)  # type: ignore[arg-type]
    with pytest.raises(RPCError, match="connection refused"):
        await asyncio.wait_for(admission.wait(), 10)
    assert 2 <= server.reads <= 5
