"""A correctable denial, worked on the time-skipping server until it is won or truly lost:
BLUE02 denies example 07 CO-16 with RARC N290 (no rendering provider). The team gets a task
the day the 835 comes, another 30 days before the corrected-claim deadline (the claim's timely
filing deadline, BLUE02: 365 days from the date of service), and the correction is sent
whenever it comes before that deadline; none by then and the claim is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from cli.encounters import start_encounter
from cob.denials import ClaimCorrection
from cob.model import Encounter
from contract.ids import claim_workflow_id
from ledger.db import make_engine
from ledger.queries import audit_events, unbalanced_lines
from ledger.worklist import tasks
from tests.conftest import start_time_skipping
from tests.workflow_harness import example, running_worker, search_attribute_values
from workflows.claim import PayerClaimWorkflow


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A test server of this module's own: its clock moves months ahead."""
    async with await start_time_skipping() as env:
        yield env


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


async def seen(env: WorkflowEnvironment, encounter_id: str, days_ago: int) -> Encounter:
    """Example 07 (BLUE02, no rendering provider) seen `days_ago` before the server's clock."""
    today = (await env.get_current_time()).date()
    return example(
        "07-denied-then-corrected",
        encounter_id=encounter_id,
        service_date=(today - timedelta(days=days_ago)).isoformat(),
    )


async def awaiting_correction(handle) -> None:
    for _ in range(300):
        try:
            if (await handle.query(PayerClaimWorkflow.status)).stage == "awaiting_correction":
                return
        except Exception:  # the claim workflow is starting
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the claim never waited for a correction")


def steps(ledger_url: str, workflow_id: str, *kinds: str) -> list[dict]:
    events = audit_events(make_engine(ledger_url), workflow_id)
    return [e["detail"] for e in events if e["kind"] in kinds]


async def test_a_co16_n290_denial_is_a_task_on_day_0_escalated_on_day_30_and_corrected_on_day_40(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    # DOS 305 days ago: the corrected-claim deadline (365 days) is day 60 after the denial,
    # the escalation (30 days before it) day 30; the old wait gave up on day 30.
    encounter = await seen(time_skipping, "E1007-day40", days_ago=305)
    deadline = encounter.service_date + timedelta(days=365)
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        claim = client.get_workflow_handle(claim_workflow_id(handle.id, 1, "BLUE02"))
        await awaiting_correction(claim)
        (needed,) = steps(ledger_url, claim.id, "correction_needed")
        day0 = date.fromisoformat(needed["on"])
        assert deadline == day0 + timedelta(days=60)

        await time_skipping.sleep(timedelta(days=40))
        attributes = await search_attribute_values(client, claim.id)
        assert attributes["CobStage"] == "awaiting_correction"
        assert attributes["CobNextDeadlineKind"] == "correction"
        due_at = datetime.combine(deadline, time(), tzinfo=UTC)
        assert datetime.fromisoformat(str(attributes["CobNextDeadline"])) == due_at
        on_encounter = await search_attribute_values(client, handle.id)
        assert on_encounter["CobNextDeadlineKind"] == "correction"
        worklist = tasks(make_engine(ledger_url), encounter_id=encounter.encounter_id)
        assert [(t["kind"], t["opened_on"], t["due"]) for t in worklist] == [
            ("correction_needed", day0.isoformat(), deadline.isoformat()),
            ("correction_escalation", (day0 + timedelta(days=30)).isoformat(), deadline.isoformat()),
        ]  # fmt: skip
        print(f"\nday 0 {day0}: {worklist[0]['kind']} due {worklist[0]['due']}: "
              f"{worklist[0]['reason']}\nescalation {worklist[1]['opened_on']}: "
              f"{worklist[1]['reason']}")  # fmt: skip
        assert worklist[0]["reason"] == (
            f"claim E1007-day40-1-1 denied, 310.00 at stake: CARC 16 (claim/service lacks "
            "information or has submission/billing error(s)): supply what the remark codes "
            "name; RARC N290 (missing/incomplete/invalid rendering provider primary "
            "identifier): give the rendering provider's NPI (rendering_provider_npi); send the "
            f"correction (update correct_claim) by {deadline.isoformat()} (a corrected claim "
            "is filed within timely filing: 365 days from the date of service, payer contract)"
        )
        assert "30 days left" in worklist[1]["reason"]

        await claim.execute_update(
            PayerClaimWorkflow.correct_claim, ClaimCorrection(rendering_provider_npi="1427051234")
        )
        status = await handle.result()

    (received,) = steps(ledger_url, claim.id, "correction_received")
    assert received["on"] == (day0 + timedelta(days=40)).isoformat()
    print(f"correction received {received['on']} (day 40), resubmitted and paid")
    (outcome,) = status.claims
    assert outcome.result == "adjudicated" and outcome.remittance.paid > 0
    assert outcome.claim_control_numbers == ["E1007-day40-1-1", "E1007-day40-1-2"]
    assert outcome.corrected_denials == ["CARC 16 N290 -> fix_resubmit"]
    replacement = next(
        c for c in httpx.get(f"{simulator.url}/admin/claims").json()
        if c["claim_control_number"] == "E1007-day40-1-2"
    )  # fmt: skip
    assert replacement["frequency"] == "7"
    assert status.stage == "closed"
    engine = make_engine(ledger_url)
    assert tasks(engine, encounter_id=encounter.encounter_id) == []  # the correction closed them
    closed = tasks(engine, encounter_id=encounter.encounter_id, include_closed=True)
    assert {t["resolution"] for t in closed} == {received["reason"]}
    assert unbalanced_lines(engine) == []


async def test_a_denial_never_corrected_is_lost_on_its_deadline_and_never_adjusted_away(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    # DOS 330 days ago: the deadline is day 35 after the denial, the escalation day 5.
    encounter = await seen(time_skipping, "E1007-lost", days_ago=330)
    deadline = encounter.service_date + timedelta(days=365)
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        status = await handle.result()
    claim_id = claim_workflow_id(handle.id, 1, "BLUE02")
    (needed,) = steps(ledger_url, claim_id, "correction_needed")
    day0 = date.fromisoformat(needed["on"])
    assert deadline == day0 + timedelta(days=35)
    (escalated,) = steps(ledger_url, claim_id, "correction_escalation")
    assert escalated["on"] == (deadline - timedelta(days=30)).isoformat()
    (lost,) = steps(ledger_url, claim_id, "claim_lost")
    assert lost["on"] == (deadline + timedelta(days=1)).isoformat()
    print(f"\nlost {lost['on']}: {lost['reason']}")

    assert status.stage == "lost"
    (outcome,) = status.claims
    assert outcome.result == "lost" and outcome.reason == lost["reason"]
    assert outcome.remittance is None and outcome.denial.reason_code == "16"
    assert f"by the deadline {deadline.isoformat()}" in outcome.reason
    assert status.patient_responsibility is None and status.lines == []  # nothing posted
    worklist = tasks(make_engine(ledger_url), encounter_id=encounter.encounter_id)
    assert [(t["kind"], t["due"]) for t in worklist] == [
        ("correction_needed", deadline.isoformat()),
        ("correction_escalation", deadline.isoformat()),
        ("claim_lost", deadline.isoformat()),
    ]
    attributes = await search_attribute_values(client, claim_id)
    assert attributes["CobStage"] == "lost" and "CobNextDeadline" not in attributes


async def test_a_denial_that_comes_after_the_deadline_is_lost_at_once(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    # DOS 366 days ago: the deadline passed before the denial came; the claim is lost at once.
    encounter = await seen(time_skipping, "E1007-late", days_ago=366)
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        status = await handle.result()
    claim_id = claim_workflow_id(handle.id, 1, "BLUE02")
    assert steps(ledger_url, claim_id, "correction_needed") == []
    assert status.stage == "lost" and status.claims[0].result == "lost"
    assert status.claims[0].remittance is None
    assert [t["kind"] for t in tasks(make_engine(ledger_url))] == ["claim_lost"]
    assert "310.00 unpaid" in status.claims[0].reason
