"""A claim the payer accepted but never pays, on the time-skipping server: the 276 status
inquiries, the escalation before the timely filing deadline and the lost claim after it,
each pinned to its day (42 CFR 424.44; the payer's prompt-pay terms). The payer simulator holds its 835s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from cli.encounters import start_encounter
from cob.model import Encounter
from contract.ids import claim_workflow_id
from ledger.db import make_engine
from ledger.queries import audit_events
from ledger.worklist import tasks
from tests.conftest import start_time_skipping
from tests.workflow_harness import example, running_worker, search_attribute_values


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A test server of this module's own: its clock moves years ahead, and the other
    modules' tests file claims on today's date."""
    async with await start_time_skipping() as env:
        yield env


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def hold(simulator, payer_id: str, on: bool = True) -> dict:
    response = httpx.post(f"{simulator.url}/admin/hold", json={"payer_id": payer_id, "hold": on})
    response.raise_for_status()
    return response.json()


async def seen_lately(env, encounter_id: str) -> Encounter:
    """Example 01 (ACME01) seen two days before the test server's clock, which earlier tests
    have moved on."""
    today = (await env.get_current_time()).date()
    return example("01-commercial", encounter_id=encounter_id, service_date=today - timedelta(2))


def claim_events(ledger_url: str, workflow_id: str) -> list[dict]:
    return audit_events(make_engine(ledger_url), workflow_id)


def accepted_on(events: list[dict]) -> date:
    (filing,) = [e for e in events if e["kind"] == "timely_filing"]
    return date.fromisoformat(filing["detail"]["filed_on"])


async def test_commercial_claim_without_remittance_is_followed_up_then_lost(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    # ACME01: 180 days from the date of service
    encounter = await seen_lately(time_skipping, "E1001-lost")
    hold(simulator, "ACME01")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(
            client, encounter, task_queue=settings.task_queue, era_poll_days=7
        )
        status = await handle.result()
    claim_id = claim_workflow_id(handle.id, 1, "ACME01")
    events = claim_events(ledger_url, claim_id)
    accepted = accepted_on(events)
    filing_due = encounter.service_date + timedelta(days=180)  # ACME01.json timely_filing

    checks = [e["detail"]["on"] for e in events if e["kind"] == "claim_status"]
    expected = [accepted + timedelta(days=25)]  # max(floor 0 + 1, prompt pay 30 - 5)
    while expected[-1] + timedelta(days=14) <= filing_due:
        expected.append(expected[-1] + timedelta(days=14))
    assert checks == [d.isoformat() for d in expected]
    assert {e["detail"]["category"] for e in events if e["kind"] == "claim_status"} == {"P1"}

    (escalation,) = [e for e in events if e["kind"] == "filing_escalation"]
    assert escalation["detail"]["on"] == (filing_due - timedelta(days=30)).isoformat()
    assert "30 days left" in escalation["detail"]["reason"]
    (lost,) = [e for e in events if e["kind"] == "claim_lost"]
    assert lost["detail"]["on"] == (filing_due + timedelta(days=1)).isoformat()
    assert filing_due.isoformat() in lost["detail"]["reason"]

    assert status.stage == "lost"
    (outcome,) = status.claims
    assert outcome.result == "lost" and outcome.remittance is None
    assert f"timely filing deadline {filing_due.isoformat()}" in outcome.reason
    open_tasks = tasks(make_engine(ledger_url), encounter_id=encounter.encounter_id)
    assert [(t["kind"], t["due"]) for t in open_tasks] == [
        ("filing_escalation", filing_due.isoformat()),
        ("claim_lost", filing_due.isoformat()),
    ]


async def test_remittance_after_the_first_status_check_closes_the_follow_up(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    encounter = await seen_lately(time_skipping, "E1001-late")
    hold(simulator, "ACME01")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        await time_skipping.sleep(timedelta(days=27))
        attributes = await search_attribute_values(client, handle.id)
        filing_due = encounter.service_date + timedelta(days=180)
        assert attributes["CobStage"] == "awaiting_remittance"
        assert attributes["CobNextDeadlineKind"] == "timely_filing"
        deadline = datetime.fromisoformat(attributes["CobNextDeadline"])
        assert deadline == datetime.combine(filing_due, time(), tzinfo=UTC)
        assert hold(simulator, "ACME01", on=False)["released"] == [f"{encounter.encounter_id}-1-1"]
        status = await handle.result()
    assert status.stage == "closed"
    events = claim_events(ledger_url, claim_workflow_id(handle.id, 1, "ACME01"))
    accepted = accepted_on(events)
    checks = [e["detail"]["on"] for e in events if e["kind"] == "claim_status"]
    assert checks == [(accepted + timedelta(days=25)).isoformat()]
    remitted = [e for e in events if e["kind"] == "remittance"]
    assert len(remitted) == 1
    attributes = await search_attribute_values(client, handle.id)
    assert "CobNextDeadline" not in attributes and attributes["CobStage"] == "closed"


def silence(simulator, payer_id: str, on: bool = True) -> None:
    answer = httpx.post(f"{simulator.url}/admin/silence", json={"payer_id": payer_id, "hold": on})
    answer.raise_for_status()


async def test_a_claim_without_a_277ca_is_resent_once_then_escalated(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    encounter = await seen_lately(time_skipping, "E1001-silent")
    silence(simulator, "ACME01")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        status = await handle.result()
    events = claim_events(ledger_url, claim_workflow_id(handle.id, 1, "ACME01"))
    (waiting,) = [e for e in events if e["kind"] == "no_277ca"]
    sent = date.fromisoformat(waiting["detail"]["on"])
    (escalated,) = [e for e in events if e["kind"] == "no_acknowledgment"]
    assert escalated["detail"]["on"] == (sent + timedelta(days=5)).isoformat()
    assert status.stage == "held" and status.claims[0].result == "held"
    assert f"resent {sent + timedelta(days=5)}" in status.claims[0].reason
    (task,) = tasks(make_engine(ledger_url), encounter_id=encounter.encounter_id)
    assert task["kind"] == "no_acknowledgment"
    sent_837s = [
        d for d in httpx.get(f"{simulator.url}/admin/claims").json()
        if d["claim_control_number"] == f"{encounter.encounter_id}-1-1"
    ]  # fmt: skip
    assert sent_837s == []  # the payer never had it


async def test_a_resend_that_gets_its_277ca_goes_on_to_the_remittance(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    encounter = await seen_lately(time_skipping, "E1001-resent")
    silence(simulator, "ACME01")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        await time_skipping.sleep(timedelta(days=2))
        silence(simulator, "ACME01", on=False)
        status = await handle.result()
    assert status.stage == "closed" and status.claims[0].remittance is not None
    events = claim_events(ledger_url, claim_workflow_id(handle.id, 1, "ACME01"))
    sent = date.fromisoformat(next(e for e in events if e["kind"] == "no_277ca")["detail"]["on"])
    assert accepted_on(events) == sent + timedelta(days=5)  # the resend's 277CA: proof of filing
    assert not [e for e in events if e["kind"] == "no_acknowledgment"]


async def test_a_pended_prior_authorization_is_followed_up_and_its_window_escalated(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    """Medicaid (CMS-0057-F): decision due 7 days after the request; a task at 80% of the
    window (day 5.6), another when it passes; the claim goes out with the number only after
    the payer certifies the MRI (70553)."""
    today = (await time_skipping.get_current_time()).date()
    encounter = example(
        "05-medicare-medicaid",
        encounter_id="E1005-pa",
        service_date=today - timedelta(days=2),
    )
    encounter = encounter.model_copy(
        update={
            "coverages": [c for c in encounter.coverages if c.payer_id == "MCAID"],
            "lines": [encounter.lines[0].model_copy(update={"procedure_code": "70553"})],
        }
    )
    hold(simulator, "MCAID")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        await time_skipping.sleep(timedelta(days=8, hours=12))
        attributes = await search_attribute_values(client, handle.id)
        assert attributes["CobStage"] == "prior_auth"
        assert attributes["CobNextDeadlineKind"] == "prior_auth_decision"
        hold(simulator, "MCAID", on=False)
        status = await handle.result()
    claim_id = claim_workflow_id(handle.id, 1, "MCAID")
    events = claim_events(ledger_url, claim_id)
    (pended,) = [e for e in events if e["kind"] == "prior_auth_pended"]
    requested = date.fromisoformat(pended["detail"]["on"])
    due = date.fromisoformat(pended["detail"]["due"])
    (alert,) = [e for e in events if e["kind"] == "prior_auth_escalation"]
    (breach,) = [e for e in events if e["kind"] == "prior_auth_overdue"]
    (decided,) = [e for e in events if e["kind"] == "prior_auth_decided"]
    assert due == requested + timedelta(days=7)  # D-5: standard request, 7 calendar days
    # 80% of 7 days is 5 days 14.4 hours: day 5 or 6 depending on the request's hour
    assert date.fromisoformat(alert["detail"]["on"]) - requested in (timedelta(5), timedelta(6))
    assert breach["detail"]["on"] == due.isoformat()
    assert date.fromisoformat(decided["detail"]["on"]) == requested + timedelta(days=9)
    asks = [e for e in events if e["kind"] == "prior_auth"]
    assert len(asks) == 10  # the request and one re-ask a day for 9 days
    (outcome,) = status.claims
    assert outcome.result == "adjudicated" and status.stage == "closed"
    assert tasks(make_engine(ledger_url)) == []  # the decision closed the escalations


async def test_a_claim_filed_after_its_deadline_is_followed_up_before_it_is_given_up(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    """Filed 200 days after the service (ACME01 allows 180): a `filed_late` task at once,
    the usual 276 on day 25, and lost only after the prompt-pay day plus one re-check
    (30 + 14 days), not at the first empty ERA read."""
    today = (await time_skipping.get_current_time()).date()
    encounter = example(
        "01-commercial", encounter_id="E1001-late-filed", service_date=today - timedelta(200)
    )
    hold(simulator, "ACME01")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(
            client, encounter, task_queue=settings.task_queue, era_poll_days=7
        )
        status = await handle.result()
    events = claim_events(ledger_url, claim_workflow_id(handle.id, 1, "ACME01"))
    accepted = accepted_on(events)
    (late,) = [e for e in events if e["kind"] == "filed_late"]
    assert late["detail"]["on"] == accepted.isoformat()
    checks = [e["detail"]["on"] for e in events if e["kind"] == "claim_status"]
    assert checks == [(accepted + timedelta(days=n)).isoformat() for n in (25, 39)]
    (lost,) = [e for e in events if e["kind"] == "claim_lost"]
    assert lost["detail"]["on"] == (accepted + timedelta(days=45)).isoformat()
    assert not [e for e in events if e["kind"] == "filing_escalation"]
    assert status.stage == "lost"


LINE_LEVEL = ["SVC*HC:99213*150*100", "CAS*CO*45*30", "CAS*PR*2*20",
              "SVC*HC:85025*45*35", "CAS*CO*45*10"]  # fmt: skip


def clearinghouse_835(ccn: str, paid_on: date, claim: list[str] = LINE_LEVEL) -> str:
    """An 835 as a clearinghouse delivers it for a payer that names itself only by TRN03 and
    its name (no REF*2U), with CR/LF after each segment and prompt-pay interest in a PLB."""
    day = paid_on.strftime("%Y%m%d")
    body = [
        f"BPR*I*136.5*C*ACH*CCP*01*999999999*DA*123456*1987654321**01*999988880*DA*98765*{day}",
        "TRN*1*EFT20261*1987654321", f"DTM*405*{day}", "N1*PR*ACME HEALTH PLAN",
        "N1*PE*RIVERSIDE FAMILY MEDICINE*XX*1234567893", "LX*1",
        f"CLP*{ccn}*1*195*135*20*12*ACMEICN77", "NM1*QC*1*RIVERA*ANA****MI*ACM123456789",
        *claim, "PLB*1234567893*20261231*L6*-1.5",
    ]  # fmt: skip
    segments = [
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*RIVERSIDE      *261101*1200*^*00501*000000077*0*P*:",
        "GS*HP*CLEARINGHOUSE*RIVERSIDE*20261101*1200*77*X*005010X221A1", "ST*835*0001", *body,
        f"SE*{len(body) + 2}*0001", "GE*1*77", "IEA*1*000000077",
    ]  # fmt: skip
    return "\ufeff" + "".join(s + "~\r\n" for s in segments)


async def test_an_835_posted_from_a_file_is_picked_up_by_the_waiting_claim(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    from activities.remittances import Posted, file_posting, post_era
    from ledger.documents import claim_on_file
    from ledger.queries import encounter_summary

    encounter = await seen_lately(time_skipping, "E1001-posted")
    ccn = f"{encounter.encounter_id}-1-1"
    hold(simulator, "ACME01")  # the mailbox never brings this claim's 835
    ledger = make_engine(ledger_url)
    try:
        async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
            handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
            await time_skipping.sleep(timedelta(days=3))
            today = (await time_skipping.get_current_time()).date()
            posting = file_posting(
                clearinghouse_835(ccn, today), lambda c: claim_on_file(ledger, c), "ACME01"
            )
            assert [link.claim_control_number for link in posting.links] == [ccn]
            assert post_era(ledger, posting, today).first_time
            assert post_era(ledger, posting, today) == Posted(first_time=False)  # twice: nothing
            status = await handle.result()
    finally:
        hold(simulator, "ACME01", on=False)
    assert status.stage == "closed"
    summary = encounter_summary(ledger, encounter.encounter_id)
    [claim] = summary["claims"]
    assert claim["payer_claim_number"] == "ACMEICN77" and claim["total_paid"] == "135.00"
    assert summary["patient_responsibility"] == "20.00"


async def test_an_835_paying_a_two_line_claim_at_the_claim_level_is_a_task_until_a_good_one(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    """CLP04 135 with claim-level CAS only (no SVC): on two billed lines any split is a guess,
    so the team gets a task and the claim keeps waiting; the payer's line-level 835 then
    settles it (005010X221A1: the 2110 loop is situational)."""
    from activities.remittances import file_posting, post_era
    from ledger.documents import claim_on_file

    encounter = await seen_lately(time_skipping, "E1001-claimlevel")
    ccn = f"{encounter.encounter_id}-1-1"
    hold(simulator, "ACME01")
    ledger = make_engine(ledger_url)
    claim_level = ["CAS*CO*45*40", "CAS*PR*2*20"]
    try:
        async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
            handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
            await time_skipping.sleep(timedelta(days=3))
            today = (await time_skipping.get_current_time()).date()

            def post(text: str) -> None:
                found = file_posting(text, lambda c: claim_on_file(ledger, c), "ACME01")
                assert post_era(ledger, found, today).first_time

            post(clearinghouse_835(ccn, today, claim_level))
            await time_skipping.sleep(timedelta(days=2))  # two ERA checks
            [task] = [t for t in tasks(ledger, encounter_id=encounter.encounter_id)
                      if t["kind"] == "era_unplaceable_amount"]  # fmt: skip
            assert "without service lines (no SVC)" in task["reason"]
            assert "(segment CLP at position 10 of era/file/" in task["reason"]
            assert "its 2 lines" in task["reason"] and task["due"] == (today + timedelta(7)).isoformat()
            post(clearinghouse_835(ccn, today + timedelta(days=2)))
            status = await handle.result()
    finally:
        hold(simulator, "ACME01", on=False)
    assert status.stage == "closed"
    assert {(t["kind"], t["status"]) for t in tasks(ledger, encounter_id=encounter.encounter_id,
                                                   include_closed=True)} >= {
        ("era_unplaceable_amount", "closed")}  # fmt: skip


async def test_follow_up_timers_wake_at_the_claims_own_time_of_day(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    """Held claims waiting for the same days wake spread over them (workflows/wake.py): each
    of a claim's follow-up timers fires at its own time of day, the same for all of them,
    and two claims' times differ."""
    from audit.history_reading import Reader
    from workers.codec import data_converter
    from workflows.wake import time_of_day

    hold(simulator, "ACME01")
    fired: dict[str, set[timedelta]] = {}
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        for encounter_id in ("E1001-wake-a", "E1001-wake-b"):
            encounter = await seen_lately(time_skipping, encounter_id)
            handle = await start_encounter(
                client, encounter, task_queue=settings.task_queue, era_poll_days=7
            )
            await handle.result()  # lost: followed up to the filing deadline
            claim_id = claim_workflow_id(handle.id, 1, "ACME01")
            history = await client.get_workflow_handle(claim_id).fetch_history()
            trail = await Reader(data_converter()).trail(history)
            assert len(trail.timers) > 5
            fired[claim_id] = {  # to the second: the history's clock is the server's
                timedelta(seconds=round((timer.fires_at - midnight(timer.fires_at)).total_seconds()))
                for timer in trail.timers
            }
    hold(simulator, "ACME01", on=False)
    for claim_id, times in fired.items():
        assert times == {time_of_day(claim_id)}
    assert len({time_of_day(claim_id) for claim_id in fired}) == 2


def midnight(at: datetime) -> datetime:
    return datetime.combine(at.date(), time(), tzinfo=UTC)


def test_times_of_day_are_spread_over_the_whole_day():
    from workflows.wake import time_of_day

    times = [time_of_day(f"encounter-E{n}/claim-1-ACME01") for n in range(2000)]
    assert times == [time_of_day(f"encounter-E{n}/claim-1-ACME01") for n in range(2000)]
    assert all(timedelta(0) <= t < timedelta(days=1) for t in times)
    assert {t.seconds // 3600 for t in times} == set(range(24))  # every hour of the day
