"""An underpaid claim is worked: ACME01 set to pay every 835 line 10% less than it
adjudicated (the simulator's `POST /admin/underpay`, the difference moved to PR-2), so it pays
less than its own 271 benefits say (cob.expected). The claim gets a worklist task with the
expected, paid and variance per line, and CobUnderpaid on its workflow."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from contract.ids import claim_workflow_id
from ledger.db import make_engine
from ledger.queries import audit_events
from ledger.worklist import tasks
from tests.workflow_harness import example, run_encounter, running_worker, search_attribute_values


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def underpay(simulator, payer_id: str, percent: str) -> None:
    answer = httpx.post(
        f"{simulator.url}/admin/underpay", json={"payer_id": payer_id, "percent": percent}
    )
    answer.raise_for_status()


async def test_acme01_paying_10_percent_short_opens_an_underpaid_task_and_sets_cob_underpaid(
    client, simulator, ledger_url, tmp_path
):
    encounter = example("01-commercial", encounter_id="E1001-short")
    underpay(simulator, "ACME01", "10")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle, status = await run_encounter(client, settings, encounter)
    claim_id = claim_workflow_id(handle.id, 1, "ACME01")
    (outcome,) = status.claims
    review = outcome.payment_review
    assert review is not None and review.underpaid
    remitted = outcome.remittance.adjudication_date

    (task,) = tasks(make_engine(ledger_url), encounter_id=encounter.encounter_id)
    print(f"\n{task['kind']} due {task['due']}: {task['reason']}")
    # due 30 days after the 835 (ACME01's 180-day appeal window is later)
    assert (task["kind"], task["due"]) == ("underpaid", (remitted + timedelta(30)).isoformat())
    # 99213: 83.04 less 10% = 74.74; 85025: 8.68 less 10% = 7.81 (to the cent)
    assert task["reason"] == (
        "claim E1001-short-1-1 underpaid by 9.17: "
        "line 1: expected 83.04, paid 74.74, variance -8.30 (allowed 128.80 - deductible "
        "0.00 - copay 25.00 - coinsurance 20.76 = 83.04); "
        "line 2: expected 8.68, paid 7.81, variance -0.87 (allowed 10.85 - deductible "
        "0.00 - copay 0.00 - coinsurance 2.17 = 8.68); "
        "ask the payer to reprocess, or appeal the payment"
    )
    attributes = await search_attribute_values(client, claim_id)
    print(f"claim workflow search attributes: {attributes}")
    assert attributes["CobUnderpaid"] is True
    # the timeline has the task's text, beside the encounter's payment_review row
    events = audit_events(make_engine(ledger_url), claim_id)
    (step,) = [e for e in events if e["kind"] == "underpaid"]
    assert step["detail"]["reason"] == task["reason"]
    assert date.fromisoformat(step["detail"]["due"]) == remitted + timedelta(30)


async def test_a_payer_paying_in_full_opens_no_task_and_leaves_cob_underpaid_unset(
    client, simulator, ledger_url, tmp_path
):
    encounter = example("01-commercial", encounter_id="E1001-paid-in-full")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle, status = await run_encounter(client, settings, encounter)
    assert not status.claims[0].payment_review.underpaid
    assert tasks(make_engine(ledger_url), encounter_id=encounter.encounter_id) == []
    attributes = await search_attribute_values(client, claim_workflow_id(handle.id, 1, "ACME01"))
    assert "CobUnderpaid" not in attributes
