"""The fault suite in small (`make chaos` runs it with a few hundred encounters).

Eighteen encounters made from examples/ run on the time-skipping Temporal server with the
real worker, simulator and ledger: once straight to the payers, once through the fault
proxy (tests/faults/), with every kind of fault injected at least once. No encounter may be
lost, nothing done twice, no line unbalanced, and every stage and amount must be the same.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from payers.client import control_number
from payers.x12.eligibility import build_270, inquiry_for
from tests.faults.encounters import fault_suite_encounters
from tests.faults.plan import KINDS, FaultPlan, request_key
from tests.faults.report import report_lines
from tests.faults.run import fault_suite
from tests.workflow_harness import example

# With seed 17 the first attempts of these encounters' X12 requests alone (which are the
# same in every run; ERA reads follow the mailbox's timing) meet every kind of fault, and
# one hang, which costs the client's 10 s timeout.
SEED = 17
ENCOUNTERS = 18  # each example twice
# Higher than `make chaos`, so that 18 encounters meet every kind of fault.
RATES = {
    "500": 0.06,
    "500_forwarded": 0.05,
    "503": 0.05,
    "hang": 0.01,
    "garbage": 0.06,
    "truncated": 0.05,
    "wrong_answer": 0.06,
    "duplicate": 0.25,
    "redeliver": 0.25,
}


def test_a_request_is_the_same_request_whatever_the_clock() -> None:
    encounter = example("01-commercial")
    coverage = encounter.coverages[0]
    inquiry = inquiry_for(
        coverage, encounter.patient, encounter.service_date, encounter.billing_provider, "T1"
    )
    at_nine = build_270(inquiry, datetime(2026, 11, 30, 9, 0), control_number("270", "T1"))
    at_ten = build_270(inquiry, datetime(2026, 11, 30, 10, 1), control_number("270", "T1"))
    assert at_nine != at_ten
    key = request_key("POST", "/x12/270", {}, at_nine.encode())
    assert key == request_key("POST", "/x12/270", {}, at_ten.encode())


def test_the_same_attempt_of_the_same_request_meets_the_same_fault() -> None:
    plan = FaultPlan(seed=SEED, rates=RATES)
    decided = [plan.decide("POST", "/x12/837", "k1", n)[0] for n in range(200)]
    assert decided == [plan.decide("POST", "/x12/837", "k1", n)[0] for n in range(200)]
    assert {"duplicate", "redeliver"}.isdisjoint(decided)  # ERA faults only on the ERA
    era = {plan.decide("GET", "/x12/era", "k1", n)[0] for n in range(200)}
    assert "wrong_answer" not in era and {"duplicate", "redeliver"} <= era


async def test_faults_on_the_wire_change_no_encounter(tmp_path: Path) -> None:
    encounters = fault_suite_encounters(ENCOUNTERS, SEED)
    plan = FaultPlan(seed=SEED, rates=RATES, hang_seconds=11.0)
    report = await fault_suite(encounters, plan, tmp_path, timeout=40.0)
    shown = "\n".join(report_lines(report, encounters))
    assert set(report.faulty.injected) == set(KINDS), shown
    result = report.comparison
    assert result.lost == [], shown
    assert result.doubled == [], shown
    assert result.unbalanced == [], shown
    assert result.different == [], shown
    assert report.clean.stages() == {"closed": ENCOUNTERS}, shown
