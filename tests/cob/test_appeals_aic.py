"""Medicare's minimum amounts in controversy (42 USC 1395ff(b)(1)(E)): ALJ hearing 2025 $190,
2026 $200; judicial review 2025 $1,900, 2026 $1,960 (90 FR 55869). Below it a claim alone is
not filed: the team aggregates claims or lets the level go."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

from cob.appeals import amount_in_controversy, below_amount_in_controversy
from cob.deadlines import AppealLevel
from cob.model import Adjustment, ClaimSubmission, Encounter, LineAdjudication, Remittance
from payers.directory import payer_deadlines

ROOT = Path(__file__).resolve().parents[2]
ALJ = payer_deadlines("MCARE").appeal_levels[2]
COURT = payer_deadlines("MCARE").appeal_levels[4]


def test_the_directory_states_the_2025_and_2026_minimums_for_alj_and_court() -> None:
    assert ALJ.name == "ALJ hearing" and COURT.name == "federal district court"
    assert ALJ.amount_in_controversy == {2025: D("190.00"), 2026: D("200.00")}
    assert COURT.amount_in_controversy == {2025: D("1900.00"), 2026: D("1960.00")}
    assert all(
        not level.amount_in_controversy for level in payer_deadlines("MCARE").appeal_levels[:2]
    )


def test_150_at_stake_is_below_the_2026_alj_minimum_200_and_says_aggregate() -> None:
    below = below_amount_in_controversy(D("150.00"), ALJ, date(2026, 3, 2))
    assert below is not None and (below.threshold, below.year) == (D("200.00"), 2026)
    assert "below the 2026 minimum 200.00" in below.explanation
    assert "Aggregate" in below.explanation and "1395ff(b)(1)(E)(ii)" in below.explanation


def test_195_is_enough_in_2025_190_but_not_in_2026_200() -> None:
    assert below_amount_in_controversy(D("195.00"), ALJ, date(2025, 12, 31)) is None
    assert below_amount_in_controversy(D("195.00"), ALJ, date(2026, 1, 1)) is not None


def test_exactly_200_meets_the_2026_alj_minimum() -> None:
    assert below_amount_in_controversy(D("200.00"), ALJ, date(2026, 6, 1)) is None


def test_1950_reaches_the_alj_but_not_the_2026_court_minimum_1960() -> None:
    assert below_amount_in_controversy(D("1950.00"), ALJ, date(2026, 6, 1)) is None
    below = below_amount_in_controversy(D("1950.00"), COURT, date(2026, 6, 1))
    assert below is not None and below.threshold == D("1960.00")


def test_a_year_not_yet_published_takes_the_latest_minimum_2027_uses_2026() -> None:
    below = below_amount_in_controversy(D("199.99"), ALJ, date(2027, 2, 1))
    assert below is not None and below.year == 2026


def test_a_level_without_a_minimum_never_blocks() -> None:
    level = AppealLevel(name="redetermination", filing_days=120)
    assert below_amount_in_controversy(D("0.01"), level, date(2026, 6, 1)) is None


def test_a_2024_request_has_no_minimum_in_the_table() -> None:
    assert below_amount_in_controversy(D("10.00"), ALJ, date(2024, 6, 1)) is None


def test_amount_at_stake_is_charge_150_less_paid_and_deductible_and_coinsurance() -> None:
    data = json.loads((ROOT / "examples/03-medicare-medigap.json").read_text())
    data["lines"] = [{"line_number": 1, "procedure_code": "20610", "charge": "150.00"}]
    encounter = Encounter.model_validate(data)
    submission = ClaimSubmission(
        claim_control_number="E1-1-1", payer_sequence=1, encounter=encounter,
        coverage=encounter.coverages[0],
    )  # fmt: skip

    def denied(*cas: tuple[str, str, str], paid: str = "0.00") -> Remittance:
        adjustments = [Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in cas]
        line = LineAdjudication(line_number=1, procedure_code="20610", charge=D("150.00"),
                                allowed=D("0.00"), paid=D(paid), adjustments=adjustments)  # fmt: skip
        return Remittance(
            claim_control_number="E1-1-1", payer_id="MCARE", member_id="M1",
            payer_claim_number="P1", payer_sequence=1, status="4",
            adjudication_date=date(2026, 3, 2), lines=[line],
        )  # fmt: skip

    assert amount_in_controversy(submission, denied(("CO", "50", "150.00"))) == D("150.00")
    partly = denied(("CO", "45", "50.00"), ("PR", "1", "20.00"), ("PR", "2", "10.00"), paid="70.00")
    assert amount_in_controversy(submission, partly) == D("50.00")  # 150 - 70 - 20 - 10
