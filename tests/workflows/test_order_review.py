"""An encounter whose payers' order no rule decides (NAIC MDL-120 §6 rule 6), on the
time-skipping Temporal server with the real activities, the payer simulator over HTTP and a
SQLite ledger: held before any claim with a task, released by a person's order (the code path
`cob order set` uses), billed in that order, who and why in the audit trail."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.client import WorkflowHandle

from cli.encounters import start_encounter
from cli.ledger_commands import step_summary
from cli.order import OrderRefused, set_payer_order
from cob.model import Encounter
from contract.messages import EncounterStatus
from ledger.db import make_engine
from ledger.documents import documents_for
from ledger.queries import audit_events, unbalanced_lines
from ledger.worklist import tasks
from tests.workflow_harness import opened_tasks, running_worker
from workflows.encounter import EncounterWorkflow


def _person(first: str, last: str, birth_date: str, sex: str) -> dict:
    return {"first_name": first, "last_name": last, "birth_date": birth_date, "sex": sex}


def tied_parents(encounter_id: str) -> dict:
    """A child on both parents' employer plans, both parents born on March 10 (1982 and 1984:
    the birthday rule reads month and day only), both plans in force since 2020-06-01 (the
    longer-coverage tie-break ties too), plus a BLUE02 plan whose 271 says the member is not
    found. No NAIC rule decides between ACME01 and EMPL03."""
    return {
        "encounter_id": encounter_id,
        "patient": _person("Noah", "Park", "2016-09-14", "M"),
        "patient_address": "77 Birch Rd, Hartwell, CT 06101",
        "service_date": "2026-10-07",
        "billing_provider": {
            "name": "Riverside Family Medicine",
            "npi": "1234567893",
            "tax_id": "123456789",
            "address": "200 River St, Hartwell, CT 06101",
            "phone": "(860) 555-0142",
        },  # fmt: skip
        "rendering_provider_npi": "1427051234",
        "diagnoses": ["J02.0"],
        "lines": [
            {
                "line_number": 1,
                "procedure_code": "99214",
                "charge": "210.00",
                "diagnosis_pointers": [1],
            },
            {
                "line_number": 2,
                "procedure_code": "85025",
                "charge": "40.00",
                "diagnosis_pointers": [1],
            },
        ],  # fmt: skip
        "coverages": [
            {
                "payer_id": "EMPL03",
                "member_id": "E2200456789",
                "plan_type": "commercial",
                "relationship": "child",
                "subscriber": _person("Daniel", "Park", "1982-03-10", "M"),
                "subscriber_employment": "active",
                "employer_size": 300,
                "effective_date": "2020-06-01",
            },
            {
                "payer_id": "ACME01",
                "member_id": "ACM555000111",
                "plan_type": "commercial",
                "relationship": "child",
                "subscriber": _person("Grace", "Park", "1984-03-10", "F"),
                "subscriber_employment": "active",
                "employer_size": 60,
                "effective_date": "2020-06-01",
            },
            {
                "payer_id": "BLUE02",
                "member_id": "BSH00000000X",
                "plan_type": "commercial",
                "relationship": "child",
                "subscriber": _person("Grace", "Park", "1984-03-10", "F"),
                "subscriber_employment": "active",
                "employer_size": 60,
                "effective_date": "2020-06-01",
            },
        ],  # fmt: skip
    }


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


async def held_for_order_review(handle: WorkflowHandle) -> EncounterStatus:
    for _ in range(300):
        try:
            status = await handle.query(EncounterWorkflow.status)
        except Exception:  # not started yet
            status = None
        if status is not None and status.stage == "held_order_review":
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"never held for an order review: {status}")


REFUSED = [
    (["EMPL03"], "dana.lee", "called EMPL03", r"payer_ids: ACME01 is missing"),
    (["EMPL03", "ACME01", "ACME01"], "dana.lee", "x", r"ACME01 is listed more than once"),
    (["EMPL03", "CASC05"], "dana.lee", "x", r"'CASC05' is not a payer of this encounter"),
    (["EMPL03", "ACME01", "BLUE02"], "dana.lee", "x",
     r"BLUE02 cannot be billed: not eligible \(271\)"),
    (["EMPL03", "ACME01"], "dana.lee", "  ", r"reason: why this order is missing"),
    (["EMPL03", "ACME01"], "", "called EMPL03", r"by: who sets the order is missing"),
]  # fmt: skip


async def test_parents_both_born_march_10_hold_the_encounter_until_dana_sets_empl03_first(
    client, simulator, ledger_url, tmp_path
):
    encounter = Encounter.model_validate(tied_parents("E2002"))
    engine = make_engine(ledger_url)
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        held = await held_for_order_review(handle)
        # Held before any claim: the tentative order, the rule that could not decide.
        assert held.needs_manual_review and held.claims == [] and held.current_claim is None
        assert held.payer_order == ["ACME01", "EMPL03"]
        assert [d.rule for d in held.order_rules] == ["naic_undetermined_manual_review"]
        assert "BLUE02:BSH00000000X" in held.excluded
        sent = [d.transaction for d in documents_for(engine, "E2002")]
        assert "837" not in sent and sorted(set(sent)) == ["270", "271"]
        assert httpx.get(f"{simulator.url}/admin/claims").json() == []
        [task] = await opened_tasks(ledger_url, "E2002")
        assert task["kind"] == "order_review" and task["status"] == "open"
        opened = date.fromisoformat(task["opened_on"])
        assert date.fromisoformat(task["due"]) == opened + timedelta(days=7)
        reason = task["reason"]
        print(f"\nday 0 task: {task['kind']} opened {opened} due {task['due']}: {reason}")
        assert "ACME01 (commercial, child, effective 2020-06-01)" in reason
        assert "EMPL03 (commercial, child, effective 2020-06-01)" in reason
        assert (
            "ACME01 before EMPL03: naic_undetermined_manual_review (NAIC MDL-120 §6 rule 6: "
            "no NAIC rule tells the two plans apart" in reason
        )
        assert "cob order set E2002 ACME01 EMPL03 --reason" in reason
        assert "E2200456789" not in reason and "Park" not in reason  # no member id, no name
        for payer_ids, by, why, refusal in REFUSED:
            with pytest.raises(OrderRefused, match=refusal):
                await set_payer_order(client, "E2002", payer_ids, by, why)
        assert (await handle.query(EncounterWorkflow.status)).stage == "held_order_review"
        order = await set_payer_order(
            client, "E2002", ["EMPL03", "ACME01"], "dana.lee",
            "EMPL03 confirmed by phone it pays first (the father's plan), call ref 4471",
        )  # fmt: skip
        assert order == ["EMPL03", "ACME01"]
        with pytest.raises(OrderRefused, match="not waiting for an order"):
            await set_payer_order(client, "E2002", ["ACME01", "EMPL03"], "dana.lee", "again")
        status = await handle.result()
    # Billed in the chosen order: EMPL03 as primary, then ACME01 with EMPL03's adjudication.
    assert status.stage == "closed" and not status.needs_manual_review
    assert status.payer_order == ["EMPL03", "ACME01"]
    assert [(c.payer_id, c.payer_sequence, c.result) for c in status.claims] == [
        ("EMPL03", 1, "adjudicated"), ("ACME01", 2, "adjudicated"),
    ]  # fmt: skip
    assert status.claims[1].remittance.status == "2"  # processed as secondary
    claims = httpx.get(f"{simulator.url}/admin/claims").json()
    assert [(c["payer_id"], c["claim_control_number"]) for c in claims][0] == (
        "EMPL03", "E2002-1-1",
    )  # fmt: skip
    manual = status.order_rules[-1]
    assert manual.rule == (
        "manual_order by dana.lee: EMPL03 confirmed by phone it pays first (the father's "
        "plan), call ref 4471"
    )
    assert (manual.higher, manual.lower) == ("EMPL03:E2200456789", "ACME01:ACM555000111")
    assert "naic_undetermined_manual_review" in manual.citation
    for line in status.lines:
        assert line.paid + line.adjustments + line.patient_responsibility == line.charge
    assert unbalanced_lines(engine) == []
    # Who and why in the audit trail, and the task closed with them.
    events = {e["kind"]: e for e in audit_events(engine, handle.id)}
    chosen = events["order_chosen"]["detail"]
    assert chosen["by"] == "dana.lee" and chosen["payer_ids"] == ["EMPL03", "ACME01"]
    assert chosen["reason"] == (
        "order set by dana.lee: EMPL03, ACME01 (first to last); why: EMPL03 confirmed by "
        "phone it pays first (the father's plan), call ref 4471"
    )
    assert events["payer_order"]["detail"]["reason"] == (
        "manual review: no rule decides (naic_undetermined_manual_review); tentative order "
        "ACME01, EMPL03, held until a person sets it; not billed: BLUE02"
    )
    print(
        f"order_chosen: {chosen['reason']}; claims {[c.claim_control_numbers for c in status.claims]}"
    )
    [closed] = tasks(engine, encounter_id="E2002", include_closed=True)
    assert closed["status"] == "closed" and closed["resolution"] == chosen["reason"]
    timeline = [(e["kind"], step_summary(e["detail"])) for e in audit_events(engine, handle.id)]
    print("\n".join(f"  {kind:18} {line}" for kind, line in timeline))
    rows = dict(timeline)
    assert rows["order_review"].startswith("no order-of-benefits rule decides")
    assert rows["order_chosen"].startswith("order set by dana.lee: EMPL03, ACME01")
    assert [line.split(":")[0] for kind, line in timeline if kind == "payment_review"] == [
        "EMPL03", "ACME01",
    ]  # fmt: skip
    steps = [e["step"] for e in audit_events(engine, handle.id)]
    assert steps.index("order") < steps.index("order_choice") < steps.index("closed")


async def test_eligibility_rows_say_active_or_not_and_why(client, simulator, ledger_url, tmp_path):
    encounter = Encounter.model_validate(tied_parents("E2003"))
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        await held_for_order_review(handle)
        await handle.terminate("test over")
    rows = {
        e["step"]: e["detail"]["reason"]
        for e in audit_events(make_engine(ledger_url), handle.id)
        if e["kind"] == "eligibility"
    }
    assert rows["eligibility:BLUE02:BSH00000000X"].startswith("BLUE02: not active (")
    assert rows["eligibility:ACME01:ACM555000111"].startswith(
        "ACME01: active, commercial plan, deductible left 0.00"
    )
    assert json.dumps(rows)  # plain text, for `cob timeline`
