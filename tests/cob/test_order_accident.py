"""Workers' compensation, no-fault and liability pay first for the claims they cover
(42 USC 1395y(b)(2)(A)(ii))."""

import pytest

from cob.model import Employment, MedicareBasis, PlanType, RelatedCause
from tests.cob.test_order import ADULT, AGED_67, cov, decide, payers, rules

GHP = cov("GHP", subscriber_employment=Employment.ACTIVE, employer_size=300)
WC = cov("WC", PlanType.WORKERS_COMP)
NO_FAULT = cov("PIP", PlanType.NO_FAULT)
LIABILITY = cov("LIAB", PlanType.LIABILITY)
MEDICARE = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.AGE)


def test_workers_comp_first_for_a_work_injury():
    order = decide(ADULT, GHP, WC, cause=RelatedCause.EMPLOYMENT)
    assert payers(order) == ["WC", "GHP"]
    assert rules(order) == ["workers_comp_first"]
    assert "1395y(b)(2)(A)(ii)" in order.decisions[0].citation


def test_workers_comp_before_medicare_and_medicaid():
    medicaid = cov("MCD", PlanType.MEDICAID)
    order = decide(AGED_67, medicaid, MEDICARE, WC, cause=RelatedCause.EMPLOYMENT)
    assert payers(order) == ["WC", "MCR", "MCD"]
    assert rules(order) == ["workers_comp_first", "medicaid_last"]


@pytest.mark.parametrize("cause", [None, RelatedCause.AUTO_ACCIDENT, RelatedCause.OTHER_ACCIDENT])
def test_workers_comp_excluded_when_the_claim_is_not_work_related(cause):
    order = decide(ADULT, WC, GHP, cause=cause)
    assert payers(order) == ["GHP"]
    assert order.excluded["WC:WC-1"] == (
        "workers' compensation covers only claims related to employment; "
        f"this claim's related cause is {cause or 'none'}"
    )
    assert not order.needs_manual_review


def test_auto_accident_no_fault_first_then_liability():
    order = decide(ADULT, GHP, LIABILITY, NO_FAULT, cause=RelatedCause.AUTO_ACCIDENT)
    assert payers(order) == ["PIP", "LIAB", "GHP"]
    assert rules(order) == ["no_fault_before_liability", "liability_first"]


def test_other_accident_liability_before_medicare():
    order = decide(AGED_67, MEDICARE, LIABILITY, cause=RelatedCause.OTHER_ACCIDENT)
    assert payers(order) == ["LIAB", "MCR"]
    assert rules(order) == ["liability_first"]


def test_no_fault_first_before_medicare():
    order = decide(AGED_67, MEDICARE, NO_FAULT, cause=RelatedCause.AUTO_ACCIDENT)
    assert rules(order) == ["no_fault_first"]


@pytest.mark.parametrize("cause", [None, RelatedCause.EMPLOYMENT])
def test_no_fault_and_liability_excluded_when_the_claim_is_not_an_accident(cause):
    order = decide(ADULT, NO_FAULT, LIABILITY, GHP, cause=cause)
    assert payers(order) == ["GHP"]
    assert set(order.excluded) == {"PIP:PIP-1", "LIAB:LIAB-1"}
    reason = order.excluded["PIP:PIP-1"]
    assert reason.startswith("no-fault insurance covers only claims related to auto_accident or")
