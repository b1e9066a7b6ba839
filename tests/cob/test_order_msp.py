"""Medicare Secondary Payer, Medigap, TRICARE and Medicaid (42 USC 1395y(b), 10 USC 1079(j)(1),
42 USC 1396a(a)(25))."""

from datetime import date

import pytest

from cob.model import Employment, MedicareBasis, PlanType, Relationship
from cob.msp import esrd_coordination_period_end
from tests.cob.test_order import ADULT, AGED_67, cov, day, decide, payers, person, rules

ACTIVE = Employment.ACTIVE
AGED_MEDICARE = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.AGE)
DISABLED_MEDICARE = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.DISABILITY)


def employer_plan(employer_size: int | None, **fields):
    fields.setdefault("subscriber_employment", ACTIVE)
    return cov("EMP", employer_size=employer_size, **fields)


# --- working aged (42 USC 1395y(b)(1)(A)) -----------------------------------------------------


def test_working_aged_67_with_employer_of_20_employer_plan_first():
    order = decide(AGED_67, AGED_MEDICARE, employer_plan(20))
    assert payers(order) == ["EMP", "MCR"]
    assert rules(order) == ["msp_working_aged"]
    assert "1395y(b)(1)(A)" in order.decisions[0].citation
    assert not order.needs_manual_review


def test_working_aged_67_with_employer_of_19_medicare_first():
    order = decide(AGED_67, employer_plan(19), AGED_MEDICARE)
    assert payers(order) == ["MCR", "EMP"]
    assert rules(order) == ["msp_small_employer"]


def test_working_aged_through_the_spouse_current_employment():
    spouses = employer_plan(
        250, relationship=Relationship.SPOUSE, subscriber=person("Sue", "1962-02-02")
    )
    assert payers(decide(AGED_67, AGED_MEDICARE, spouses)) == ["EMP", "MCR"]


def test_age_decides_the_basis_when_medicare_basis_is_missing():
    medicare = cov("MCR", PlanType.MEDICARE)
    order = decide(AGED_67, medicare, employer_plan(20))
    assert payers(order) == ["EMP", "MCR"]
    assert rules(order) == ["msp_working_aged"]


def test_unknown_employer_size_bills_the_group_plan_first_and_asks():
    order = decide(AGED_67, AGED_MEDICARE, employer_plan(None))
    assert payers(order) == ["EMP", "MCR"]
    assert rules(order) == ["msp_employer_size_unknown_manual_review"]
    assert order.needs_manual_review


# --- disability (42 USC 1395y(b)(1)(B)) -------------------------------------------------------


def test_disability_with_employer_of_100_large_group_plan_first():
    order = decide(ADULT, DISABLED_MEDICARE, employer_plan(100))
    assert payers(order) == ["EMP", "MCR"]
    assert rules(order) == ["msp_disability_large_group"]


def test_disability_with_employer_of_99_medicare_first():
    order = decide(ADULT, DISABLED_MEDICARE, employer_plan(99))
    assert payers(order) == ["MCR", "EMP"]
    assert rules(order) == ["msp_small_employer"]


def test_disability_through_a_parent_current_employment():
    parents = employer_plan(
        500, relationship=Relationship.CHILD, subscriber=person("Pat", "1950-04-04")
    )
    assert payers(decide(ADULT, DISABLED_MEDICARE, parents)) == ["EMP", "MCR"]


def test_under_65_without_a_medicare_basis_needs_manual_review():
    order = decide(ADULT, cov("MCR", PlanType.MEDICARE), employer_plan(500))
    assert rules(order) == ["msp_basis_unknown_manual_review"]
    assert order.needs_manual_review


# --- no current employment, or no group plan --------------------------------------------------


@pytest.mark.parametrize(
    ("employment", "rule"),
    [
        (Employment.RETIRED, "msp_retiree"),
        (Employment.COBRA, "msp_cobra"),
        (Employment.LAID_OFF, "msp_medicare_primary"),
        (Employment.NONE, "msp_not_group_health_plan"),
    ],
)
def test_plans_without_current_employment_pay_after_medicare(employment, rule):
    plan = employer_plan(5000, subscriber_employment=employment)
    order = decide(AGED_67, plan, AGED_MEDICARE)
    assert payers(order) == ["MCR", "EMP"]
    assert rules(order) == [rule]


def test_medicare_reversal_spouse_active_plan_medicare_own_retiree_plan():
    # NAIC rule 1 alone would put the own retiree plan first (test_order_naic.py); rule 1a and
    # MSP put the spouse's active plan ahead of Medicare and the retiree plan behind it.
    spouses = cov(
        "SP",
        relationship=Relationship.SPOUSE,
        subscriber=person("Sue", "1962-02-02"),
        subscriber_employment=ACTIVE,
        employer_size=400,
    )
    own_retiree = cov("RET", subscriber_employment=Employment.RETIRED)
    tricare, medicaid = cov("TRI", PlanType.TRICARE), cov("MCD", PlanType.MEDICAID)
    order = decide(AGED_67, medicaid, own_retiree, tricare, AGED_MEDICARE, spouses)
    assert payers(order) == ["SP", "MCR", "RET", "TRI", "MCD"]
    assert rules(order) == ["msp_working_aged", "msp_retiree", "tricare_secondary", "medicaid_last"]


# --- ESRD: the 30-month coordination period (42 USC 1395y(b)(1)(C)) ---------------------------

# D-4: dialysis from September 2011, entitled 2011-12-01, enrolled June 2012.
ESRD_MEDICARE = cov(
    "MCR",
    PlanType.MEDICARE,
    medicare_basis=MedicareBasis.ESRD,
    medicare_entitlement_date=day("2011-12-01"),
    effective_date=day("2012-06-01"),
)


def test_d4_coordination_period_is_dec_2011_through_may_2014():
    assert esrd_coordination_period_end(date(2011, 12, 1)) == date(2014, 6, 1)
    assert esrd_coordination_period_end(date(2011, 12, 17)) == date(2014, 6, 1)


def test_d4_group_plan_first_on_the_last_day_of_the_coordination_period():
    employer = employer_plan(5000, effective_date=day("2010-01-01"))
    order = decide(ADULT, ESRD_MEDICARE, employer, dos=date(2014, 5, 31))
    assert payers(order) == ["EMP", "MCR"]
    assert rules(order) == ["msp_esrd_coordination_period"]
    assert "1395y(b)(1)(C)" in order.decisions[0].citation


def test_d4_medicare_first_from_2014_06_01():
    employer = employer_plan(5000, effective_date=day("2010-01-01"))
    order = decide(ADULT, employer, ESRD_MEDICARE, dos=date(2014, 6, 1))
    assert payers(order) == ["MCR", "EMP"]
    assert rules(order) == ["msp_esrd_after_coordination_period"]


@pytest.mark.parametrize(
    ("employment", "employer_size"),
    [(Employment.RETIRED, 5000), (Employment.COBRA, 5000), (ACTIVE, 5)],
)
def test_esrd_coordination_period_covers_retiree_cobra_and_small_employer_plans(
    employment, employer_size
):
    plan = employer_plan(
        employer_size, subscriber_employment=employment, effective_date=day("2010-01-01")
    )
    order = decide(AGED_67, ESRD_MEDICARE, plan, dos=date(2013, 1, 15))
    assert payers(order) == ["EMP", "MCR"]
    assert rules(order) == ["msp_esrd_coordination_period"]


def test_esrd_without_an_entitlement_date_needs_manual_review():
    medicare = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.ESRD)
    order = decide(ADULT, medicare, employer_plan(500, subscriber_employment=Employment.RETIRED))
    assert payers(order) == ["EMP", "MCR"]
    assert rules(order) == ["msp_esrd_manual_review"]
    assert order.needs_manual_review


# --- Medigap, TRICARE, Medicaid ---------------------------------------------------------------


def test_medigap_directly_after_medicare():
    medigap = cov("GAP", PlanType.MEDICARE_SUPPLEMENT)
    retiree = employer_plan(5000, subscriber_employment=Employment.RETIRED)
    order = decide(AGED_67, retiree, medigap, AGED_MEDICARE)
    assert payers(order) == ["MCR", "GAP", "EMP"]
    assert rules(order) == ["medigap_after_medicare", "medigap_after_medicare"]


def test_medigap_without_medicare_needs_manual_review():
    assert decide(AGED_67, cov("GAP", PlanType.MEDICARE_SUPPLEMENT)).needs_manual_review
    order = decide(AGED_67, cov("GAP", PlanType.MEDICARE_SUPPLEMENT), employer_plan(50))
    assert payers(order) == ["EMP", "GAP"]
    assert rules(order) == ["medigap_without_medicare_manual_review"]


def test_two_medicaid_plans_need_manual_review():
    order = decide(ADULT, cov("MCD2", PlanType.MEDICAID), cov("MCD1", PlanType.MEDICAID))
    assert payers(order) == ["MCD1", "MCD2"]
    assert rules(order) == ["same_class_manual_review"]
    assert order.needs_manual_review


def test_medicare_then_medicaid():
    order = decide(AGED_67, cov("MCD", PlanType.MEDICAID), AGED_MEDICARE)
    assert payers(order) == ["MCR", "MCD"]
    assert rules(order) == ["medicaid_last"]


def test_group_plan_then_tricare_then_medicaid():
    ghp = employer_plan(300)
    order = decide(ADULT, cov("MCD", PlanType.MEDICAID), cov("TRI", PlanType.TRICARE), ghp)
    assert payers(order) == ["EMP", "TRI", "MCD"]
    assert rules(order) == ["tricare_secondary", "medicaid_last"]
    assert "1396a(a)(25)" in order.decisions[1].citation


def test_tricare_for_life_after_medicare():
    order = decide(AGED_67, cov("TRI", PlanType.TRICARE), AGED_MEDICARE)
    assert payers(order) == ["MCR", "TRI"]
