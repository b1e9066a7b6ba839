"""The engine's expectation of each payer's payment, and the underpayment flag."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from cob.deadlines import AppealLevel, DeadlineRules
from cob.expected import review_payment, underpayment_due, underpayment_task
from cob.model import Adjustment, Benefits, CobMethod, LineAdjudication, PlanType, Remittance


def remittance(payer_id: str, sequence: int, *lines: LineAdjudication) -> Remittance:
    return Remittance(
        claim_control_number=f"C-{sequence}", payer_id=payer_id, member_id="M1",
        payer_claim_number=f"{payer_id}-1", payer_sequence=sequence,
        status="1" if sequence == 1 else "2", adjudication_date=date(2026, 10, 1),
        lines=list(lines),
    )  # fmt: skip


def line(charge, allowed, paid, *cas: tuple[str, str, str], number: int = 1) -> LineAdjudication:
    return LineAdjudication(
        line_number=number, procedure_code="99213", charge=D(charge), allowed=D(allowed),
        paid=D(paid), adjustments=[Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in cas],
    )  # fmt: skip


COMMERCIAL = Benefits(
    payer_id="ACME01", member_id="M1", active=True, plan_type=PlanType.COMMERCIAL,
    deductible_remaining=D("20.00"), coinsurance=D("0.20"), copay=D("25.00"),
    copay_procedures=["99213"],
)  # fmt: skip


def test_primary_paid_as_its_271_benefits_say_has_no_variance():
    # allowed 150: deductible 20, copay 25, coinsurance 20% of 105 = 21 -> pays 84.00
    paid = remittance("ACME01", 1, line("200.00", "150.00", "84.00", ("CO", "45", "50.00"),
                                        ("PR", "1", "20.00"), ("PR", "3", "25.00"), ("PR", "2", "21.00")))  # fmt: skip
    review = review_payment(paid, COMMERCIAL, [])
    assert review.lines[0].expected == D("84.00")
    assert not review.underpaid and review.variance == D("0.00")


def test_primary_that_paid_less_than_its_benefits_is_flagged_underpaid():
    # The payer took 30% coinsurance although its 271 said 20%: 73.50 instead of 84.00.
    paid = remittance("ACME01", 1, line("200.00", "150.00", "73.50", ("CO", "45", "50.00"),
                                        ("PR", "1", "20.00"), ("PR", "3", "25.00"), ("PR", "2", "31.50")))  # fmt: skip
    review = review_payment(paid, COMMERCIAL, [])
    assert review.underpaid and review.variance == D("-10.50")
    assert "UNDERPAID 10.50" in review.summary()


def test_medicare_secondary_expectation_is_the_msp_1_result():
    # worked example MSP-1, 42 CFR 411.33(b): charge 175, primary allowed 150 paid 120, Medicare fee 125 -> 30.00
    primary = remittance("ACME01", 1, line("175.00", "150.00", "120.00", ("CO", "45", "25.00"),
                                           ("PR", "2", "30.00")))  # fmt: skip
    medicare = Benefits(payer_id="MCARE", member_id="M1", active=True, plan_type=PlanType.MEDICARE,
                        coinsurance=D("0.20"), cob_method=CobMethod.MEDICARE_SECONDARY)  # fmt: skip
    paid = remittance("MCARE", 2, line("175.00", "125.00", "30.00", ("OA", "23", "145.00"),
                                       ("CO", "45", "0.00"), ("PR", "2", "0.00")))  # fmt: skip
    review = review_payment(paid, medicare, [primary])
    assert review.lines[0].expected == D("30.00") and not review.underpaid
    assert "medicare_secondary" in review.lines[0].working


def test_denied_line_is_left_to_denial_routing():
    denied = remittance("ACME01", 1, line("200.00", "0.00", "0.00", ("CO", "16", "200.00")))
    review = review_payment(denied, COMMERCIAL, [])
    assert review.lines[0].expected is None and not review.underpaid


def test_an_underpaid_claims_task_shows_expected_paid_and_variance_per_line():
    paid = remittance("ACME01", 1, line("200.00", "150.00", "73.50", ("CO", "45", "50.00"),
                                        ("PR", "1", "20.00"), ("PR", "3", "25.00"), ("PR", "2", "31.50")))  # fmt: skip
    text = underpayment_task(review_payment(paid, COMMERCIAL, []), "E1001-1-1")
    assert text.startswith("claim E1001-1-1 underpaid by 10.50: line 1: expected 84.00, "
                           "paid 73.50, variance -10.50 (allowed 150.00 - deductible 20.00 - "
                           "copay 25.00 - coinsurance 21.00 = 84.00)")  # fmt: skip


def test_an_underpayment_is_due_30_days_after_the_835():
    # 180-day internal appeal (29 CFR 2560.503-1(h)(3)(i)): 30 days is the earlier
    assert underpayment_due(DeadlineRules(), date(2026, 10, 1)) == date(2026, 10, 31)


def test_an_underpayment_is_due_by_the_appeal_deadline_when_that_is_sooner():
    rules = DeadlineRules(appeal_levels=[AppealLevel(name="reconsideration", filing_days=20)])
    assert underpayment_due(rules, date(2026, 10, 1)) == date(2026, 10, 21)
