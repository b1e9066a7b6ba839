"""A payer's bad day never becomes a business decision: faults between the worker and the
payer (garbled, truncated or foreign answers, refusals) are retried, then held with a task,
and an encounter that gets through them closes with the money of a run without faults.

Real parts: the time-skipping Temporal server, the worker, the simulator over HTTP behind a
faulty payer endpoint (tests/payer_stub.py), the ledger."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cli.encounters import start_encounter
from cob.payer_faults import fault_kind
from ledger.db import make_engine
from ledger.worklist import tasks
from payers.client import (
    CannotBuildRequest,
    PayerClient,
    PayerRefusedRequest,
    PayerUnavailable,
    UnreadableAnswer,
)
from payers.simulator.serve import start_in_thread
from payers.x12.claim_837p import build_837p
from tests.payer_stub import faulty_payer, payer_stub
from tests.payers.test_simulator import ACME, CLINIC, DOS, PATIENT, claim, coverage
from tests.workflow_harness import example, opened_tasks, run_encounter, running_worker
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
    garbled = lambda method, path, nth, body: GARBLE if path == "/x12/270" and nth <= 2 else None  # noqa: E731
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

    def fault(m: str, path: str, nth: int, body: bytes):
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
            [task] = await opened_tasks(ledger_url, case)
            assert task["kind"] == kind and task["status"] == "open"
            assert "the engine keeps asking" in task["reason"]
            healed.set()
            status = await handle.result()
    assert status.stage == "closed" and money(status) == money(clean)
    assert tasks(make_engine(ledger_url), encounter_id=case) == []
    closed = tasks(make_engine(ledger_url), encounter_id=case, include_closed=True)
    assert [t["kind"] for t in closed] == [kind]
    assert "answered again" in closed[0]["resolution"]


# The client alone: answers that are not answers to the request sent.


def replaying(answers: dict[str, bytes]):
    """A payer that answers every request to a path with the body recorded for it."""
    return payer_stub(lambda method, path: ("application/json", answers[path.split("?")[0]]))


async def test_an_answer_to_another_request_is_no_answer(payers, simulator):
    """A 271 for another member, a 999/277CA about another claim: asked again as transport
    trouble is, never read as this request's answer (a wrong 999 rejection would stop a
    good claim)."""
    other = coverage("EMPL03", "EMP555666777")
    await payers.eligibility(other, PATIENT, DOS, CLINIC)
    await payers.submit_claim(claim("W1", ACME, [("99213", "150.00")]))
    [_, answer_271, _, _, _] = [e.text for e in payers.exchanges]
    answer_837 = httpx.post(
        f"{simulator.url}/x12/837",
        content=build_837p(claim("W1", ACME, [("99213", "150.00")]), datetime(2026, 3, 3), 7),
    ).content
    recorded = {"/x12/270": answer_271.encode(), "/x12/837": answer_837}
    with replaying(recorded) as url:
        async with PayerClient(url, retry_budget=0.5) as client:
            with pytest.raises(UnreadableAnswer, match=r"271: .*segment HL"):
                await client.eligibility(ACME, PATIENT, DOS, CLINIC)
            with pytest.raises(UnreadableAnswer, match=r"999: .*segment AK1"):
                await client.submit_claim(claim("W2", ACME, [("99213", "150.00")]))


@pytest.mark.parametrize(
    ("status", "body", "raised", "kind"),
    [
        (200, b"ISA*00*", UnreadableAnswer, "payer_answer_unreadable"),
        (200, b'{"ack_999": 5', UnreadableAnswer, "payer_answer_unreadable"),
        (500, b"internal error", PayerUnavailable, "payer_unavailable"),
        (
            400,
            b'{"detail": "NM109: not a member id"}',
            PayerRefusedRequest,
            "payer_refused_request",
        ),
    ],
)
async def test_what_a_fault_says_names_the_call_never_a_value(status, body, raised, kind):
    """The message reaches the worker's log: it names the transaction and segment. The
    payer's own text travels in `detail`, for the worklist task."""
    with faulty_payer("http://127.0.0.1:9", lambda m, p, n, b: (status, body)) as url:
        async with PayerClient(url, retry_budget=0.5) as client:
            with pytest.raises(raised) as fault:
                await client.submit_claim(claim("V1", ACME, [("99213", "150.00")]))
    message = str(fault.value)
    assert ("837" in message or "POST /x12/837" in message) and "V1" not in message
    assert PATIENT.last_name not in message and ACME.member_id not in message
    assert fault_kind(type(fault.value).__name__).kind == kind


async def test_a_value_x12_cannot_carry_is_never_sent_and_never_retried(payers):
    """The door refuses delimiters in names; should one get past it, the builder refuses to
    write a segment it would split (NM103), and the claim is not sent."""
    sent = claim("D1", ACME, [("99213", "150.00")])
    encounter = sent.encounter.model_copy(
        update={"patient": PATIENT.model_copy(update={"last_name": "O*BRIEN"})}
    )
    with pytest.raises(CannotBuildRequest) as unwritable:
        await payers.submit_claim(sent.model_copy(update={"encounter": encounter}))
    assert not unwritable.value.retryable and "O*BRIEN" not in str(unwritable.value)
    assert "NM103 holds a separator" in unwritable.value.detail
    assert [e.transaction for e in payers.exchanges] == []


async def test_two_payers_failing_at_once_each_get_a_task_and_the_hold_lasts_until_both_answer(
    client, simulator, ledger_url, tmp_path, time_skipping
):
    """Medicare's and Medicaid's 271s both garbled: one task per payer. Medicare heals
    first: its task closes, the encounter stays held for Medicaid, whose task stays open."""
    broken = {"MCARE", "MCAID"}

    def fault(method: str, path: str, nth: int, body: bytes):
        payer = re.search(rb"NM1\*PR\*2\*[^*]*\*{5}PI\*(\w+)", body)
        return GARBLE if path == "/x12/270" and payer and payer[1].decode() in broken else None

    clean = await without_faults(
        client, tmp_path, example("05-medicare-medicaid", encounter_id="PF2-clean")
    )
    with faulty_payer(simulator.url, fault) as url:
        async with running_worker(client, url, ledger_url, tmp_path) as settings:
            handle = await start_encounter(
                client,
                example("05-medicare-medicaid", encounter_id="PF2"),
                task_queue=settings.task_queue,
            )
            for _ in range(30):
                await time_skipping.sleep(timedelta(hours=1))
            held = "held_payer_answer_unreadable"
            assert await stage_of(handle, held) == held
            open_ = tasks(make_engine(ledger_url), encounter_id="PF2")
            assert sorted(t["payer_id"] for t in open_) == ["MCAID", "MCARE"]
            broken.discard("MCARE")
            for _ in range(3):
                await time_skipping.sleep(timedelta(hours=1))
            assert await stage_of(handle, held, tries=20) == held  # Medicaid still garbled
            [still] = tasks(make_engine(ledger_url), encounter_id="PF2")
            assert still["payer_id"] == "MCAID"
            broken.clear()
            status = await handle.result()
    assert status.stage == "closed" and money(status) == money(clean)
    closed = tasks(make_engine(ledger_url), encounter_id="PF2", include_closed=True)
    assert sorted((t["payer_id"], t["status"]) for t in closed) == [
        ("MCAID", "closed"),
        ("MCARE", "closed"),
    ]
