"""A payer's bad day never becomes a business decision: faults between the worker and the
payer (garbled, truncated or foreign answers, refusals) are retried, then held with a task,
and an encounter that gets through them closes with the money of a run without faults.

Real parts: the time-skipping Temporal server, the worker, the simulator over HTTP behind a
faulty payer endpoint (tests/payer_stub.py), the ledger."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from cli.encounters import start_encounter
from ledger.db import make_engine
from ledger.worklist import tasks
from payers.serve import start_in_thread
from tests.payer_stub import faulty_payer
from tests.workflow_harness import example, run_encounter, running_worker
from workflows.encounter import EncounterWorkflow

GARBLE = (200, b"ISA*00*garbled beyond reading~")


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


async def without_faults(client, tmp_path: Path, encounter):
    """The encounter on a simulator and ledger of its own: payers keep accumulators
    (deductibles met), so the run to compare with must not share them."""
    clean = start_in_thread(tmp_path / "clean-payers.db")
    try:
        ledger = f"sqlite:///{tmp_path / 'clean-ledger.db'}"
        async with running_worker(client, clean.url, ledger, tmp_path / "clean") as settings:
            return (await run_encounter(client, settings, encounter))[1]
    finally:
        clean.stop()


def money(status) -> list[tuple]:
    """What each line came to, payer by payer: the outcome two runs must agree on."""
    return [
        (
            line.line_number,
            line.charge,
            line.paid_by_payer,
            line.adjustments,
            line.patient_responsibility,
        )
        for line in status.lines
    ]


async def stage_of(handle, wanted: str, tries: int = 300) -> str:
    stage = ""
    for _ in range(tries):
        stage = (await handle.query(EncounterWorkflow.status)).stage
        if stage == wanted:
            break
        await asyncio.sleep(0.1)
    return stage


async def test_a_garbled_271_is_asked_again_and_the_money_is_as_without_faults(
    client, simulator, ledger_url, tmp_path
):
    """Medicare + Medicaid: the patient owes 0. Before, a garbled 271 dropped a coverage
    and the patient was billed what Medicaid should have paid."""
    clean = await without_faults(
        client, tmp_path, example("05-medicare-medicaid", encounter_id="PF1-clean")
    )
    garbled = lambda method, path, nth: GARBLE if path == "/x12/270" and nth <= 2 else None  # noqa: E731
    with faulty_payer(simulator.url, garbled) as url:
        async with running_worker(client, url, ledger_url, tmp_path) as settings:
            _, status = await run_encounter(
                client, settings, example("05-medicare-medicaid", encounter_id="PF1")
            )
    assert status.stage == clean.stage == "closed"
    assert status.payer_order == clean.payer_order and not status.excluded
    assert money(status) == money(clean)
    assert status.patient_responsibility == clean.patient_responsibility
    assert tasks(make_engine(ledger_url), encounter_id="PF1") == []


@pytest.mark.parametrize(
    ("name", "method", "route", "kind"),
    [
        ("06-prior-authorization", "POST", "/x12/278", "payer_answer_unreadable"),
        ("01-commercial", "POST", "/x12/837", "payer_answer_unreadable"),
        ("01-commercial", "GET", "/x12/era", "payer_unavailable"),
    ],
)
async def test_a_payer_that_keeps_failing_holds_with_a_task_until_it_answers(
    name, method, route, kind, client, simulator, ledger_url, tmp_path, time_skipping
):
    """After Temporal's retry budget (a day) the encounter is held, saying why, with one
    task; when the payer answers again the task closes and the money is as without faults."""
    case = f"PF-{name[:2]}-{route.rsplit('/', 1)[1]}"
    healed = asyncio.Event()

    def fault(m: str, path: str, nth: int):
        if healed.is_set() or (m, path) != (method, route):
            return None
        return (500, b"") if route == "/x12/era" else GARBLE

    clean = await without_faults(client, tmp_path, example(name, encounter_id=f"{case}-clean"))
    with faulty_payer(simulator.url, fault) as url:
        async with running_worker(client, url, ledger_url, tmp_path) as settings:
            handle = await start_encounter(
                client, example(name, encounter_id=case), task_queue=settings.task_queue
            )
            for _ in range(30):  # Temporal's retry budget is a day of payer time
                await time_skipping.sleep(timedelta(hours=1))
            assert await stage_of(handle, f"held_{kind}") == f"held_{kind}"
            [task] = tasks(make_engine(ledger_url), encounter_id=case)
            assert task["kind"] == kind and task["status"] == "open"
            assert "the engine keeps asking" in task["reason"]
            healed.set()
            status = await handle.result()
    assert status.stage == "closed" and money(status) == money(clean)
    assert tasks(make_engine(ledger_url), encounter_id=case) == []
    closed = tasks(make_engine(ledger_url), encounter_id=case, include_closed=True)
    assert [t["kind"] for t in closed] == [kind]
    assert "answered again" in closed[0]["resolution"]
