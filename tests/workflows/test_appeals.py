"""A Medicare denial appealed on the time-skipping server (42 USC 1395ff; 42 CFR 405.942): CO-50 routes to
appeal; the redetermination is due 120 days after the notice's presumed receipt (notice + 5
days); a task escalates at 75% of the window; the outcome comes from the payer's new 835 or
from the team, and an upheld level opens the next one. Every date is pinned."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from cli.encounters import start_encounter
from cob.appeals import AppealDecision, AppealFiling
from cob.model import Encounter
from contract.ids import claim_workflow_id
from ledger.db import make_engine
from ledger.queries import audit_events
from ledger.worklist import tasks
from tests.conftest import start_time_skipping
from tests.workflow_harness import EXAMPLES, running_worker, search_attribute_values
from workflows.appeal import AppealWorkflow


@pytest_asyncio.fixture(loop_scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A test server per test: its clock moves months ahead, while the simulator dates its
    835s (the notices appealed) by the real clock."""
    async with await start_time_skipping() as env:
        yield env


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


async def medicare_only(env: WorkflowEnvironment, encounter_id: str) -> Encounter:
    """Example 03's Medicare patient, Medicare only, an arthrocentesis (20610) for a sore
    throat: MCARE.json covers 20610 only for M and S diagnoses, so the line is denied CO-50."""
    data = json.loads((EXAMPLES / "03-medicare-medigap.json").read_text())
    data["encounter_id"] = encounter_id
    data["service_date"] = str((await env.get_current_time()).date() - timedelta(days=2))
    data["coverages"] = [c for c in data["coverages"] if c["payer_id"] == "MCARE"]
    data["diagnoses"] = ["J02.9"]
    data["lines"] = [
        {"line_number": 1, "procedure_code": "20610", "charge": "150.00", "diagnosis_pointers": [1]}
    ]
    return Encounter.model_validate(data)


def appeal_steps(ledger_url: str, claim_id: str) -> list[tuple[str, str]]:
    kinds = {"appeal_due", "appeal_escalation", "appeal_filed", "appeal_upheld", "appeal_expired"}
    return [
        (e["kind"], e["detail"]["on"])
        for e in audit_events(make_engine(ledger_url), claim_id)
        if e["kind"] in kinds
    ]


async def test_medicare_denial_is_appealed_and_paid_when_the_payer_overturns_it(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    encounter = await medicare_only(time_skipping, "E1010-won")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        claim_id = claim_workflow_id(handle.id, 1, "MCARE")
        appeal = client.get_workflow_handle(f"{claim_id}/appeal")
        await time_skipping.sleep(timedelta(days=100))
        notice = date.fromisoformat(
            next(
                e
                for e in audit_events(make_engine(ledger_url), claim_id)
                if e["kind"] == "remittance"
            )["detail"]["adjudication_date"]
        )
        due = notice + timedelta(days=5 + 120)  # received 5 days after the notice; 120 days
        attributes = await search_attribute_values(client, handle.id)
        assert attributes["CobStage"] == "appeal"
        assert attributes["CobNextDeadlineKind"] == "appeal"
        assert attributes["CobNextDeadline"].startswith(due.isoformat())
        assert appeal_steps(ledger_url, claim_id) == [
            ("appeal_due", notice.isoformat()),
            ("appeal_escalation", (notice + timedelta(days=5 + 90)).isoformat()),  # 75% of 120
        ]
        open_tasks = [(t["kind"], t["due"]) for t in tasks(make_engine(ledger_url))]
        assert open_tasks == [
            ("appeal_due", due.isoformat()),
            ("appeal_escalation", due.isoformat()),
        ]

        with pytest.raises(WorkflowUpdateFailedError):  # level 2 is not open
            await appeal.execute_update(AppealWorkflow.file_appeal, AppealFiling(level=2))
        await appeal.execute_update(
            AppealWorkflow.file_appeal, AppealFiling(level=1, note="CMS-20027 with records")
        )
        answer = httpx.post(
            f"{simulator.url}/admin/appeals",
            json={"payer_id": "MCARE", "claim_control_number": f"{encounter.encounter_id}-1-1",
                  "outcome": "overturned"},
        )  # fmt: skip
        answer.raise_for_status()
        status = await handle.result()

    (outcome,) = status.claims
    assert outcome.denial.reason_code == "50" and outcome.denial.route == "appeal"
    assert outcome.appeal.result == "overturned" and outcome.appeal.level == 1
    assert outcome.result == "adjudicated" and outcome.remittance.paid > 0
    assert outcome.remittance.payer_claim_number == answer.json()["payer_claim_number"]
    assert status.stage == "closed"
    line = status.lines[0]
    assert line.paid + line.adjustments + line.patient_responsibility == line.charge
    assert tasks(make_engine(ledger_url)) == []  # filing and the 835 closed them
    (routed,) = [e for e in audit_events(make_engine(ledger_url), claim_id)
                 if e["kind"] == "denial_routed"]  # fmt: skip
    assert routed["detail"]["reason"].startswith("CARC 50 N115 -> appeal: appealed")


async def test_an_upheld_redetermination_opens_the_reconsideration_which_expires_unfiled(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    encounter = await medicare_only(time_skipping, "E1010-lost")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        claim_id = claim_workflow_id(handle.id, 1, "MCARE")
        appeal = client.get_workflow_handle(f"{claim_id}/appeal")
        await time_skipping.sleep(timedelta(days=10))
        await appeal.execute_update(AppealWorkflow.file_appeal, AppealFiling(level=1))
        await time_skipping.sleep(timedelta(days=20))
        await appeal.signal(
            AppealWorkflow.appeal_decided, AppealDecision(level=1, outcome="upheld")
        )
        status = await handle.result()

    steps = appeal_steps(ledger_url, claim_id)
    notice = date.fromisoformat(steps[0][1])
    filed = date.fromisoformat(steps[1][1])
    upheld = date.fromisoformat(steps[2][1])
    assert [kind for kind, _ in steps] == [
        "appeal_due", "appeal_filed", "appeal_upheld", "appeal_due", "appeal_escalation",
        "appeal_expired",
    ]  # fmt: skip
    assert filed == notice + timedelta(days=10) and upheld == filed + timedelta(days=20)
    # Reconsideration: 180 days from the redetermination's presumed receipt (decision + 5).
    reconsideration_due = upheld + timedelta(days=5 + 180)
    assert steps[3][1] == upheld.isoformat()
    assert steps[4][1] == (upheld + timedelta(days=5 + 135)).isoformat()  # 75% of 180
    (outcome,) = status.claims
    assert outcome.appeal.result == "expired" and outcome.appeal.level == 2
    assert reconsideration_due.isoformat() in outcome.appeal.reason
    expired_on = reconsideration_due + timedelta(days=1)
    assert steps[5][1] == expired_on.isoformat()
    assert outcome.appeal.steps[-1].startswith(expired_on.isoformat())
    # The denial stands; CO-50 is never the patient's bill (group CO: contractual obligation).
    assert status.stage == "closed" and status.patient_responsibility == 0


async def test_a_favorable_decision_from_the_team_waits_for_the_payers_payment(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    encounter = await medicare_only(time_skipping, "E1010-paid")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        claim_id = claim_workflow_id(handle.id, 1, "MCARE")
        appeal = client.get_workflow_handle(f"{claim_id}/appeal")
        await time_skipping.sleep(timedelta(days=3))
        await appeal.execute_update(AppealWorkflow.file_appeal, AppealFiling(level=1))
        await time_skipping.sleep(timedelta(days=40))
        await appeal.signal(
            AppealWorkflow.appeal_decided, AppealDecision(level=1, outcome="overturned")
        )
        await time_skipping.sleep(timedelta(days=35))  # past the 30-day prompt-pay day
        attributes = await search_attribute_values(client, handle.id)
        assert attributes["CobStage"] == "appeal_won"
        overdue = [
            t for t in tasks(make_engine(ledger_url)) if t["kind"] == "appeal_payment_overdue"
        ]
        assert len(overdue) == 1
        httpx.post(
            f"{simulator.url}/admin/appeals",
            json={"payer_id": "MCARE", "claim_control_number": f"{encounter.encounter_id}-1-1",
                  "outcome": "overturned"},
        ).raise_for_status()  # fmt: skip
        status = await handle.result()
    events = audit_events(make_engine(ledger_url), claim_id)
    decided = next(e for e in events if e["kind"] == "appeal_overturned")["detail"]
    overdue_on = next(e for e in events if e["kind"] == "appeal_payment_overdue")["detail"]["on"]
    assert date.fromisoformat(overdue_on) == date.fromisoformat(decided["due"]) + timedelta(1)
    assert date.fromisoformat(decided["due"]) == date.fromisoformat(decided["on"]) + timedelta(30)
    (outcome,) = status.claims
    assert outcome.appeal.result == "overturned" and outcome.remittance.paid > 0
    assert tasks(make_engine(ledger_url)) == []


async def test_150_at_stake_at_the_alj_level_is_an_aggregation_task_not_a_filing_task(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    # The CO-50 line's 150.00 is below the ALJ minimum (2026: 200; 42 USC 1395ff(b)(1)(E)):
    # the redetermination and reconsideration are filed and upheld, then level 3 opens with a
    # task explaining aggregation instead of the filing task.
    encounter = await medicare_only(time_skipping, "E1010-aic")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        claim_id = claim_workflow_id(handle.id, 1, "MCARE")
        appeal = client.get_workflow_handle(f"{claim_id}/appeal")
        for level in (1, 2):
            await time_skipping.sleep(timedelta(days=5))
            await appeal.execute_update(AppealWorkflow.file_appeal, AppealFiling(level=level))
            await time_skipping.sleep(timedelta(days=10))
            await appeal.signal(
                AppealWorkflow.appeal_decided, AppealDecision(level=level, outcome="upheld")
            )
        await time_skipping.sleep(timedelta(days=2))
        opened = [(t["kind"], t["due"]) for t in tasks(make_engine(ledger_url))]
        status = await handle.result()

    events = [
        e for e in audit_events(make_engine(ledger_url), claim_id) if e["kind"].startswith("appeal")
    ]
    kinds = [e["kind"] for e in events]
    assert kinds == [
        "appeal_due", "appeal_filed", "appeal_upheld", "appeal_due", "appeal_filed",
        "appeal_upheld", "appeal_below_aic", "appeal_escalation", "appeal_expired",
    ]  # fmt: skip
    upheld = date.fromisoformat(events[5]["detail"]["on"])
    below = events[6]["detail"]
    alj_due = upheld + timedelta(days=5 + 60)  # received 5 days after the decision; 60 days
    assert below["on"] == upheld.isoformat() and below["due"] == alj_due.isoformat()
    assert "amount in controversy 150.00 is below the" in below["reason"]
    assert "minimum 200.00" in below["reason"] and "Aggregate" in below["reason"]
    assert opened == [("appeal_below_aic", alj_due.isoformat())]
    (outcome,) = status.claims
    assert outcome.appeal.result == "expired" and outcome.appeal.level == 3
