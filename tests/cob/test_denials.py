"""Denial routing by CARC/RARC (X12 External Code Sources 139 and 411): the route each code takes, the order a claim
with several is worked in, and, on the time-skipping server, where a write-off and a bill
to the patient end."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from cob.denials import ROUTE_ACTIONS, DenialDecision, Route, route_denial, what_to_fix
from cob.model import Adjustment, LineAdjudication, Remittance
from contract.ids import claim_workflow_id
from ledger.db import make_engine
from ledger.queries import audit_events, unbalanced_lines
from tests.workflow_harness import example, run_encounter, running_worker

D = Decimal


def denied(*cas: tuple[str, str], remarks: list[str] | None = None) -> Remittance:
    adjustments = [Adjustment(group=g, reason=r, amount=D("10.00")) for g, r in cas]
    line = LineAdjudication(
        line_number=1, procedure_code="99213", charge=D("10.00") * len(cas), allowed=D("0"),
        paid=D("0"), adjustments=adjustments, remarks=remarks or [],
    )  # fmt: skip
    return Remittance(
        claim_control_number="C1", payer_id="ACME01", member_id="ACM100200300",
        payer_claim_number="P1", status="4", payer_sequence=1, adjudication_date="2026-11-02",
        lines=[line],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("group", "carc", "route"),
    [
        ("CO", "16", Route.FIX_RESUBMIT), ("CO", "4", Route.FIX_RESUBMIT),
        ("CO", "50", Route.APPEAL), ("CO", "197", Route.APPEAL),
        ("CO", "22", Route.COB_REVIEW), ("OA", "109", Route.COB_REVIEW),
        ("CO", "97", Route.WRITE_OFF), ("OA", "18", Route.WRITE_OFF),
        ("CO", "119", Route.NEXT_PAYER), ("OA", "209", Route.NEXT_PAYER),
        ("CO", "999", Route.WRITE_OFF),  # an unlisted CO denial is the provider's to absorb
        ("PR", "96", Route.POST),  # the patient's share is not a denial to work
        ("CO", "45", Route.POST),  # contractual
    ],
)  # fmt: skip
def test_each_carc_takes_its_route(group, carc, route):
    decision = route_denial(denied((group, carc)))
    assert decision.route == route
    if route != Route.POST:
        assert decision.reason_code == carc and decision.route in ROUTE_ACTIONS


def test_a_fix_is_worked_before_an_appeal_and_the_remark_travels():
    decision = route_denial(denied(("CO", "50"), ("CO", "16"), remarks=["N290"]))
    assert (decision.route, decision.reason_code, decision.remarks) == (
        Route.FIX_RESUBMIT, "16", ["N290"],
    )  # fmt: skip
    assert decision.explanation == "CARC 16 N290 -> fix_resubmit"


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


async def test_a_bundled_line_is_written_off_and_an_excluded_one_billed_to_the_patient(
    client, simulator, ledger_url, tmp_path
):
    """CASC05 bundles venipuncture (36415) into a lab panel (80053): CO-97, written off,
    never the patient's; it excludes 97110: PR-96, the patient's (group code PR: patient responsibility)."""
    encounter = example("01-commercial", encounter_id="E1011-routes")
    coverage = encounter.coverages[0].model_copy(
        update={"payer_id": "CASC05", "member_id": "CMH00000001"}
    )
    line = encounter.lines[0]
    lines = [
        line.model_copy(update={"line_number": n, "procedure_code": code, "charge": D(charge)})
        for n, (code, charge) in enumerate(
            [("80053", "100.00"), ("36415", "20.00"), ("97110", "80.00")], start=1
        )
    ]
    encounter = encounter.model_copy(update={"coverages": [coverage], "lines": lines})
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle, status = await run_encounter(client, settings, encounter)
    assert status.stage == "closed"
    (outcome,) = status.claims
    assert outcome.denial.route == Route.WRITE_OFF and outcome.denial.reason_code == "97"
    by_line = {a.procedure_code: a for a in status.lines}
    assert by_line["36415"].patient_responsibility == 0  # written off
    assert by_line["36415"].adjustments == D("20.00")
    assert by_line["97110"].patient_responsibility == D("80.00")  # excluded: the patient's
    assert by_line["80053"].paid > 0
    assert unbalanced_lines(make_engine(ledger_url)) == []
    routed = [
        e["detail"]["reason"]
        for e in audit_events(make_engine(ledger_url), claim_workflow_id(handle.id, 1, "CASC05"))
        if e["kind"] == "denial_routed"
    ]
    assert routed == ["CARC 97 M15 -> write_off: written off as the payer's adjustment; never "
                      "billed to the patient"]  # fmt: skip


def test_a_co16_n290_denial_asks_for_the_rendering_provider_npi():
    decision = route_denial(denied(("CO", "16"), remarks=["N290"]))
    assert what_to_fix(decision) == (
        "CARC 16 (claim/service lacks information or has submission/billing error(s)): supply "
        "what the remark codes name; RARC N290 (missing/incomplete/invalid rendering provider "
        "primary identifier): give the rendering provider's NPI (rendering_provider_npi)"
    )


def test_a_co4_denial_asks_for_the_modifiers_and_an_unknown_remark_is_read_on_the_835():
    decision = route_denial(denied(("CO", "4"), remarks=["N999"]))
    assert what_to_fix(decision) == (
        "CARC 4 (the procedure code is inconsistent with the modifier used or a required "
        "modifier is missing): correct the lines' modifiers (line_modifiers); RARC N999: read "
        "the remark on the 835 and fix what it names"
    )


def test_a_277ca_rejection_is_fixed_as_the_front_end_says():
    decision = DenialDecision(route=Route.FIX_RESUBMIT, reason_code="A7",
                              explanation="invalid subscriber id")  # fmt: skip
    assert what_to_fix(decision) == (
        "277CA A7: the payer's front end rejected the claim before adjudication (invalid "
        "subscriber id); fix what it names and resubmit as an original"
    )
