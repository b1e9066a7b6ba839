"""Running encounters in tests: the real worker (real activities, real simulator over HTTP,
real ledger) on whichever Temporal server the test gives it."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from sqlmodel import Session, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.converter import default
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.archive import archive_batches_closed, close_times
from cli.encounters import start_encounter
from cob.model import Encounter
from contract.accounts import account_workflow_id
from ledger.db import make_engine
from ledger.tables import Encounter as EncounterRow
from ledger.tables import PatientAccount
from workers.codec import data_converter
from workers.devserver import find_binary
from workers.temporal import register_search_attributes
from workers.worker import WorkerSettings, build_worker

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ARCHIVE_WAIT_SECONDS = 30


def example(name: str, **changes) -> Encounter:
    data = json.loads((EXAMPLES / f"{name}.json").read_text())
    data.update(changes)
    return Encounter.model_validate(data)


@asynccontextmanager
async def running_worker(client: Client, payer_url: str, database_url: str, tmp_path: Path):
    settings = WorkerSettings(
        payer_url=payer_url,
        database_url=database_url,
        statements_dir=tmp_path / "statements",
        task_queue=f"test-{uuid.uuid4().hex[:8]}",
    )
    worker: Worker = build_worker(client, settings)
    async with worker:
        yield settings
        await archives_settled(client, database_url, settings.task_queue)
        await accounts_stopped(client, database_url)


async def archives_settled(client: Client, database_url: str, task_queue: str) -> None:
    """Let the ArchiveBatchWorkflows of the encounters that closed finish before the worker
    stops. On a real server an archive cut short is simply retried by the next worker; the
    time-skipping test server stops skipping time for good while a task it handed to a
    stopped worker stays open, and a later test on it would hang."""
    with Session(make_engine(database_url)) as session:
        workflow_ids = session.exec(select(EncounterRow.workflow_id)).all()
    closes = await close_times(client, list(workflow_ids))
    await archive_batches_closed(client, task_queue, closes, ARCHIVE_WAIT_SECONDS)


async def accounts_stopped(client: Client, database_url: str) -> None:
    """Terminate the patient accounts the test's encounters opened: an account lives on, its
    next timer months ahead, and on the shared time-skipping server a timer firing for a
    worker that has stopped would hand a task to nobody."""
    with Session(make_engine(database_url)) as session:
        account_ids = session.exec(select(PatientAccount.account_id)).all()
    for account_id in account_ids:
        with suppress(RPCError):  # closed already, or another server's
            await client.get_workflow_handle(account_workflow_id(account_id)).terminate(
                "the test is over"
            )


async def opened_tasks(database_url: str, encounter_id: str) -> list[dict]:
    """The encounter's open tasks once the activity that opens them has run: a workflow
    shows its held stage a moment before (10 s at most; [] if none comes)."""
    from ledger.worklist import tasks

    for _ in range(100):
        found = tasks(make_engine(database_url), encounter_id=encounter_id)
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def run_encounter(client: Client, settings: WorkerSettings, encounter: Encounter, **kw):
    handle = await start_encounter(client, encounter, task_queue=settings.task_queue, **kw)
    return handle, await handle.result()


async def search_attribute_values(client: Client, workflow_id: str) -> dict:
    """A workflow's search attributes as stored, an unset one left out. (The time-skipping
    test server keeps an unset attribute as a null value, which `describe()` cannot decode
    for a Datetime attribute.)"""
    request = DescribeWorkflowExecutionRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
    )
    described = await client.workflow_service.describe_workflow_execution(request)
    fields = described.workflow_execution_info.search_attributes.indexed_fields
    converter = default().payload_converter
    return {
        name: converter.from_payloads([payload])[0]
        for name, payload in fields.items()
        if payload.metadata.get("encoding") != b"binary/null"
    }


async def start_time_skipping() -> WorkflowEnvironment:
    """A time-skipping test server with our search attributes and our data converter (the
    payloads encrypted with the test run's key, tests/conftest.py)."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(),
        test_server_existing_path=find_binary("temporal-test-server"),
    )
    await register_search_attributes(env.client)
    return env
