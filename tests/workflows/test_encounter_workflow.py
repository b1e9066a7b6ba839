"""EncounterWorkflow on the time-skipping Temporal server, with the real activities, the real
payer simulator over HTTP and a real SQLite ledger."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from temporalio.client import WorkflowUpdateFailedError

from cli.encounters import start_encounter
from cob.denials import ClaimCorrection
from cob.model import Encounter
from contract.ids import claim_workflow_id
from ledger.db import make_engine
from ledger.queries import audit_events, unbalanced_lines
from ledger.worklist import tasks
from tests.workflow_harness import (
    example,
    opened_tasks,
    run_encounter,
    running_worker,
    search_attribute_values,
    start_time_skipping,
)
from workflows.claim import PayerClaimWorkflow
from workflows.encounter import EncounterWorkflow


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def balanced(status) -> None:
    for line in status.lines:
        assert line.paid + line.adjustments + line.patient_responsibility == line.charge
    # The engine's own expectation (271 benefits + 835 allowed + COB method) matches what
    # every payer paid, line by line, for a payer that adjudicates correctly.
    for claim in status.claims:
        if claim.remittance is not None:
            review = claim.payment_review
            assert review is not None and not review.underpaid, review
            assert all(ln.expected in (None, ln.paid) for ln in review.lines), review


async def test_single_commercial_payer_closes_balanced(client, simulator, ledger_url, tmp_path):
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle, status = await run_encounter(client, settings, example("01-commercial"))
    assert status.stage == "closed"
    assert status.payer_order == ["ACME01"]
    balanced(status)
    assert sum(line.charge for line in status.lines) == Decimal("195.00")
    assert unbalanced_lines(make_engine(ledger_url)) == []
    steps = [event["step"] for event in audit_events(make_engine(ledger_url), handle.id)]
    assert steps[:3] == ["encounter", "eligibility:ACME01:ACM100200300", "order"]
    assert steps[-1] == "closed"


async def test_child_of_two_parents_bills_the_earlier_birthday_first(
    client, simulator, ledger_url, tmp_path
):
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        _, status = await run_encounter(client, settings, example("02-child-birthday-rule"))
    # Mother born March 10, father July 22: the mother's ACME01 plan is primary.
    assert status.payer_order == ["ACME01", "EMPL03"]
    assert status.order_rules[0].rule == "naic_birthday_rule"
    balanced(status)
    secondary = status.claims[1].remittance
    assert secondary is not None and secondary.status == "2"
    assert unbalanced_lines(make_engine(ledger_url)) == []


async def test_working_aged_employer_plan_pays_before_medicare(
    client, simulator, ledger_url, tmp_path
):
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        _, status = await run_encounter(client, settings, example("04-working-aged"))
    assert status.payer_order == ["EMPL03", "MCARE"]
    assert status.order_rules[0].rule == "msp_working_aged"
    balanced(status)


async def test_medicaid_leaves_the_patient_nothing(client, simulator, ledger_url, tmp_path):
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        _, status = await run_encounter(client, settings, example("05-medicare-medicaid"))
    assert status.payer_order == ["MCARE", "MCAID"]
    assert status.patient_responsibility == Decimal("0.00")
    assert status.statement_path is None
    balanced(status)


async def test_prior_authorization_number_travels_with_the_claim(
    client, simulator, ledger_url, tmp_path
):
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle, status = await run_encounter(client, settings, example("06-prior-authorization"))
    assert status.stage == "closed"
    claim_id = claim_workflow_id(handle.id, 1, "ACME01")
    events = {e["step"]: e for e in audit_events(make_engine(ledger_url), claim_id)}
    decision = events["prior_auth:ACME01:ACM300400500"]["detail"]
    assert decision["status"] == "approved" and decision["authorization_number"]
    mri = next(line for line in status.lines if line.procedure_code == "73721")
    assert mri.paid > 0  # not denied CO-197 for a missing authorization


async def test_self_pay_patient_owes_the_charge_and_gets_a_statement(
    client, simulator, ledger_url, tmp_path
):
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        _, status = await run_encounter(client, settings, example("08-self-pay"))
    assert status.payer_order == []
    assert status.patient_responsibility == Decimal("380.00")
    text = Path(status.statement_path).read_text()
    assert "Amount due:      $380.00" in text


async def test_denied_claim_is_corrected_and_paid_as_a_replacement(
    client, simulator, ledger_url, tmp_path
):
    encounter = example("07-denied-then-corrected")
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        claim = client.get_workflow_handle(claim_workflow_id(handle.id, 1, "BLUE02"))
        while (await _claim_stage(claim)) != "awaiting_correction":
            await asyncio.sleep(0.1)
        denial = (await claim.query(PayerClaimWorkflow.status)).denial
        assert denial.reason_code == "16" and denial.remarks == ["N290"]
        with pytest.raises(WorkflowUpdateFailedError):
            await claim.execute_update(PayerClaimWorkflow.correct_claim, ClaimCorrection())
        with pytest.raises(WorkflowUpdateFailedError):  # N290 needs the rendering NPI
            await claim.execute_update(
                PayerClaimWorkflow.correct_claim, ClaimCorrection(diagnoses=["J18.9"])
            )
        await claim.execute_update(
            PayerClaimWorkflow.correct_claim, ClaimCorrection(rendering_provider_npi="1427051234")
        )
        status = await handle.result()
    outcome = status.claims[0]
    assert outcome.result == "adjudicated"
    assert outcome.claim_control_numbers == ["E1007-1-1", "E1007-1-2"]
    assert outcome.corrected_denials == ["CARC 16 N290 -> fix_resubmit"]
    assert outcome.remittance.paid > 0
    claims = httpx.get(f"{simulator.url}/admin/claims").json()
    replacement = next(c for c in claims if c["claim_control_number"] == "E1007-1-2")
    assert replacement["frequency"] == "7"
    routed = [e["detail"]["reason"] for e in audit_events(make_engine(ledger_url), claim.id)
              if e["kind"] == "denial_routed"]  # fmt: skip
    assert routed == ["CARC 16 N290 -> fix_resubmit: held for the team's correction "
                      "(update correct_claim), then resubmitted: frequency 7 with the payer's "
                      "claim number, or 1 if never accepted"]  # fmt: skip
    balanced(status)
    assert unbalanced_lines(make_engine(ledger_url)) == []


async def test_denial_never_corrected_is_lost_and_never_billed_to_the_patient(
    simulator, ledger_url, tmp_path
):
    """CO-16 N290 and no correction by the corrected-claim deadline (workflows/correction.py,
    patch correction-worklist; correction_wait_days only for claims started before it): the
    claim is lost and the encounter stops there, the CO-16 never posted and never the
    patient's bill (group CO: contractual obligation)."""
    encounter = example("07-denied-then-corrected", encounter_id="E1007-nofix")
    # Its own server: the wait skips to the deadline a year on, which would move the clock of
    # the session's shared server under every later test.
    async with await start_time_skipping() as env:
        async with running_worker(env.client, simulator.url, ledger_url, tmp_path) as settings:
            _, status = await run_encounter(env.client, settings, encounter, correction_wait_days=10)
    outcome = status.claims[0]
    assert outcome.result == "lost" and outcome.remittance is None
    assert status.stage == "lost"
    assert status.patient_responsibility is None and status.statement_path is None


async def _claim_stage(handle) -> str:
    try:
        return (await handle.query(PayerClaimWorkflow.status)).stage
    except Exception:
        return "not started"


__all__ = ["EncounterWorkflow"]


async def test_a_payer_the_clearinghouse_refuses_holds_the_encounter_with_a_task(
    client, simulator, ledger_url, tmp_path
):
    """The clearinghouse does not know GHOST1 (HTTP 404): that says nothing about the
    patient's coverage, so the coverage is not dropped and the patient is not billed; the
    encounter is held at eligibility with a task naming the payer's error."""
    data = example("01-commercial").model_dump(mode="json")
    data["encounter_id"] = "E1001-ghost"
    data["coverages"][0]["payer_id"] = "GHOST1"
    encounter = Encounter.model_validate(data)
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        for _ in range(100):
            status = await handle.query(EncounterWorkflow.status)
            if status.stage != "eligibility":
                break
            await asyncio.sleep(0.1)
        await handle.terminate("test over")
    assert status.stage == "held_payer_refused_request"
    assert not status.excluded and status.patient_responsibility is None
    [task] = await opened_tasks(ledger_url, "E1001-ghost")
    assert task["kind"] == "payer_refused_request" and task["payer_id"] == "GHOST1"
    assert "eligibility (270) with GHOST1" in task["reason"]
    assert "unknown payer id GHOST1" in task["reason"]  # the payer's words, for the team


@pytest.mark.parametrize("name", ["03-medicare-medigap", "01-commercial"])
async def test_every_payer_is_paid_as_the_engine_expects(
    name, client, simulator, ledger_url, tmp_path
):
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        encounter = example(name, encounter_id=f"R{name[:2]}")
        handle, status = await run_encounter(client, settings, encounter)
    balanced(status)
    reviews = [e for e in audit_events(make_engine(ledger_url), handle.id)
               if e["kind"] == "payment_review"]  # fmt: skip
    assert len(reviews) == len(status.claims)
    assert all(not e["detail"]["underpaid"] for e in reviews)
    assert all(" variance 0.00" in e["detail"]["reason"] for e in reviews)
    assert "CobUnderpaid" not in await search_attribute_values(client, handle.id)


async def test_acme01_paying_10_percent_less_marks_the_encounter_underpaid(
    client, simulator, ledger_url, tmp_path
):
    """The simulator's ACME01 pays each line 10% less than it adjudicated (the difference
    moved to PR-2): the engine's own expectation finds the claim underpaid, and the encounter
    carries CobUnderpaid = true, so `cob list --underpaid` finds it."""
    underpay = {"payer_id": "ACME01", "percent": "10"}
    httpx.post(f"{simulator.url}/admin/underpay", json=underpay).raise_for_status()
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        encounter = example("01-commercial", encounter_id="E1001-under")
        handle, status = await run_encounter(client, settings, encounter)
    [claim] = status.claims
    assert claim.payment_review is not None and claim.payment_review.underpaid
    assert claim.payment_review.variance < 0
    attributes = await search_attribute_values(client, handle.id)
    assert attributes["CobUnderpaid"] is True
    [review] = [e for e in audit_events(make_engine(ledger_url), handle.id)
                if e["kind"] == "payment_review"]  # fmt: skip
    print(f"\n{handle.id}: CobUnderpaid={attributes['CobUnderpaid']}; {review['detail']['reason']}")
    assert review["detail"]["reason"].startswith("ACME01: expected ")
    assert review["detail"]["reason"].endswith(
        f"variance {claim.payment_review.variance}; UNDERPAID: review or appeal"
    )
    for line in status.lines:
        assert line.paid + line.adjustments + line.patient_responsibility == line.charge


async def test_a_payer_that_says_another_pays_first_is_billed_again_after_it(
    client, simulator, ledger_url, tmp_path
):
    """CO-22 (CARC 22: covered by another payer per coordination of benefits): ACME01's COB file names BLUE02 as primary for member
    ACM700800901 (payers/simulator/members.json). The engine bills BLUE02 first, then ACME01 again
    with BLUE02's adjudication; the denied claim is set aside and the money balances."""
    encounter = example("09-three-payers", encounter_id="E1009-cob")
    by_payer = {c.payer_id: c for c in encounter.coverages}
    own = by_payer["ACME01"].model_copy(update={"member_id": "ACM700800901"})
    encounter = encounter.model_copy(update={"coverages": [own, by_payer["BLUE02"]]})
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle, status = await run_encounter(client, settings, encounter)
    assert [(c.payer_id, c.result) for c in status.claims] == [
        ("ACME01", "denied"), ("BLUE02", "adjudicated"), ("ACME01", "adjudicated"),
    ]  # fmt: skip
    denied, primary, secondary = status.claims
    assert denied.denial.reason_code == "22" and denied.denial.route == "cob_review"
    assert [c.claim_control_numbers for c in status.claims] == [
        ["E1009-cob-1-1"],
        ["E1009-cob-2-1"],
        ["E1009-cob-3-1"],
    ]
    assert primary.payer_sequence == 1 and secondary.payer_sequence == 2
    assert secondary.remittance.status == "2"  # processed as secondary
    assert status.payer_order == ["BLUE02", "ACME01"]
    assert status.order_rules[-1].rule.startswith("COB review: ACME01 denied CARC 22")
    assert status.stage == "closed"
    balanced(status)
    engine = make_engine(ledger_url)
    assert unbalanced_lines(engine) == []
    (review,) = [e for e in audit_events(engine, handle.id) if e["kind"] == "cob_review"]
    assert review["detail"]["set_aside"] == ["E1009-cob-1-1"]
    # The claim opened a COB-review task; the engine's review answered and closed it.
    (task,) = tasks(engine, include_closed=True)
    assert (task["kind"], task["status"]) == ("denial_routed", "closed")
    assert task["resolution"].startswith("COB review: ACME01 denied CARC 22")
