"""Generations (workflows/versions.py): an encounter started now says in its input which code
it runs, so neither it nor its claims record a patch marker (each also an upsert of
TemporalChangeVersion); one started with no generation in its input (1, as before) still
takes every change by its marker, and both come out the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType

from cli.encounters import start_encounter
from contract.ids import claim_workflow_id
from contract.messages import GENERATION, EncounterRun
from tests.workflow_harness import example, running_worker
from workflows.encounter import EncounterWorkflow


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


async def patch_markers(client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    markers = [
        e.marker_recorded_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    return [
        p.data.decode()
        for m in markers
        if m.marker_name == "core_patch"
        for p in m.details["patch-data"].payloads
    ]


async def test_an_encounter_of_this_generation_records_no_patch_marker(
    client, simulator, ledger_url, tmp_path
):
    assert GENERATION == 2
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        now = await start_encounter(
            client, example("04-working-aged", encounter_id="E1004-gen2"),
            task_queue=settings.task_queue,
        )  # fmt: skip
        before = await client.start_workflow(
            EncounterWorkflow.run,
            EncounterRun(encounter=example("04-working-aged", encounter_id="E1004-gen1")),
            id="encounter-E1004-gen1",
            task_queue=settings.task_queue,
        )
        new, old = await now.result(), await before.result()
    assert (new.stage, new.payer_order, new.patient_responsibility) == (
        old.stage, old.payer_order, old.patient_responsibility,
    )  # fmt: skip
    assert [(c.payer_id, c.result, c.remittance.paid) for c in new.claims] == [
        (c.payer_id, c.result, c.remittance.paid) for c in old.claims
    ]
    for workflow_id in (now.id, claim_workflow_id(now.id, 1, new.claims[0].payer_id)):
        assert await patch_markers(client, workflow_id) == []
    old_markers = await patch_markers(client, before.id)
    assert any("lean-encounter" in m for m in old_markers)
    assert any("patient-account" in m or "archive-on-close" in m for m in old_markers)
    claim = claim_workflow_id(before.id, 1, old.claims[0].payer_id)
    assert any("lean-claim" in m for m in await patch_markers(client, claim))
