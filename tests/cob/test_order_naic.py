"""NAIC MDL-120 §6 rules between commercial plans beyond the worked cases O-1 to O-14."""

from datetime import date

from cob.model import CoveragePeriod, Employment, ParentRole, ParentsArrangement, Relationship
from cob.naic import continuous_start
from tests.cob.test_order import ADULT, CHILD, child_of, cov, day, decide, payers, person, rules

ACTIVE, RETIRED, LAID_OFF, COBRA = (
    Employment.ACTIVE,
    Employment.RETIRED,
    Employment.LAID_OFF,
    Employment.COBRA,
)


# --- (a) a plan without a COB provision -----------------------------------------------------


def test_plan_without_cob_provision_pays_first_even_before_own_older_plan():
    own = cov("A", subscriber_employment=ACTIVE, effective_date=day("2010-01-01"))
    no_cob = cov(
        "X",
        relationship=Relationship.SPOUSE,
        subscriber=person("Sam", "1979-01-02"),
        has_cob_provision=False,
        effective_date=day("2023-01-01"),
    )
    order = decide(ADULT, own, no_cob)
    assert payers(order) == ["X", "A"]
    assert rules(order) == ["naic_no_cob_provision_first"]


def test_two_plans_without_cob_provision_need_manual_review():
    a = cov("A", has_cob_provision=False, effective_date=day("2010-01-01"))
    b = cov("B", has_cob_provision=False, effective_date=day("2023-01-01"))
    order = decide(ADULT, b, a)
    assert payers(order) == ["A", "B"]  # deterministic: by key
    assert rules(order) == ["naic_no_cob_provision_manual_review"]
    assert order.needs_manual_review


# --- (b) non-dependent before dependent -----------------------------------------------------


def test_without_medicare_own_retiree_plan_before_spouse_active_plan():
    # Rule 1 decides before rule 3 (active/inactive) is asked; with Medicare the order flips
    # (the Medicare reversal, test_order_msp.py).
    own_retiree = cov("RET", subscriber_employment=RETIRED, effective_date=day("2015-01-01"))
    spouses = cov(
        "SP",
        relationship=Relationship.SPOUSE,
        subscriber=person("Sue", "1962-02-02"),
        subscriber_employment=ACTIVE,
        effective_date=day("2010-01-01"),
    )
    order = decide(ADULT, spouses, own_retiree)
    assert payers(order) == ["RET", "SP"]
    assert rules(order) == ["naic_nondependent_first"]


# --- (c) a dependent child on both parents' plans ----------------------------------------------


def test_joint_custody_uses_the_birthday_rule():
    joint = {"parents": ParentsArrangement.JOINT_CUSTODY}
    mother = child_of("M", person("Mia", "1980-10-01"), "2010-01-01", **joint)
    father = child_of("F", person("Fred", "1981-02-14"), "2022-01-01", **joint)
    order = decide(CHILD, mother, father)
    assert payers(order) == ["F", "M"]  # February 14 before October 1
    assert rules(order) == ["naic_joint_custody_birthday_rule"]


def test_court_decree_parent_without_a_plan_their_spouse_plan_first():
    # The decree makes the father responsible; he does not cover the child, his wife does.
    decree = {"parents": ParentsArrangement.COURT_DECREE}
    mother = child_of(
        "M", person("Mia", "1980-01-10"), "2010-01-01",
        parent_role=ParentRole.CUSTODIAL_PARENT, **decree,
    )  # fmt: skip
    stepmother = child_of(
        "SW", person("Sara", "1983-09-09"), "2023-01-01",
        parent_role=ParentRole.NONCUSTODIAL_PARENT_SPOUSE, **decree,
    )  # fmt: skip
    order = decide(CHILD, mother, stepmother)
    assert payers(order) == ["SW", "M"]
    assert rules(order) == ["naic_court_decree_parent_spouse"]


def test_court_decree_names_only_the_primary_plan_later_rules_order_the_rest():
    decree = {"parents": ParentsArrangement.COURT_DECREE}
    father = child_of(
        "F", person("Fred", "1975-07-22"), "2021-01-01",
        parent_role=ParentRole.NONCUSTODIAL_PARENT, decree_responsible=True, **decree,
    )  # fmt: skip
    mother = child_of(
        "M", person("Mia", "1980-03-10"), "2018-01-01",
        parent_role=ParentRole.CUSTODIAL_PARENT, **decree,
    )  # fmt: skip
    stepfather = child_of(
        "S", person("Sam", "1979-01-01"), "2022-01-01",
        parent_role=ParentRole.CUSTODIAL_PARENT_SPOUSE, **decree,
    )  # fmt: skip
    order = decide(CHILD, stepfather, mother, father)
    assert payers(order) == ["F", "M", "S"]
    assert rules(order) == ["naic_court_decree", "naic_longer_coverage"]


def test_court_decree_with_no_responsible_plan_and_both_parents_present_needs_review():
    decree = {"parents": ParentsArrangement.COURT_DECREE}
    mother = child_of("M", person("Mia", "1980-03-10"), parent_role=ParentRole.CUSTODIAL_PARENT,
                      **decree)  # fmt: skip
    father = child_of("F", person("Fred", "1975-07-22"),
                      parent_role=ParentRole.NONCUSTODIAL_PARENT, **decree)  # fmt: skip
    order = decide(CHILD, father, mother)
    assert rules(order) == ["naic_court_decree_manual_review"]
    assert order.needs_manual_review


def test_no_decree_with_a_missing_parent_role_needs_manual_review():
    apart = {"parents": ParentsArrangement.NO_DECREE}
    mother = child_of("M", person("Mia", "1980-03-10"), parent_role=ParentRole.CUSTODIAL_PARENT,
                      **apart)  # fmt: skip
    father = child_of("F", person("Fred", "1975-07-22"), **apart)
    order = decide(CHILD, father, mother)
    assert rules(order) == ["naic_parent_role_unknown_manual_review"]
    assert order.needs_manual_review


def test_plans_disagreeing_about_the_parents_need_manual_review():
    mother = child_of("M", person("Mia", "1980-03-10"), parents=ParentsArrangement.NO_DECREE)
    father = child_of("F", person("Fred", "1975-07-22"), parents=ParentsArrangement.MARRIED)
    order = decide(CHILD, father, mother)
    assert rules(order) == ["naic_parents_unknown_manual_review"]
    assert order.needs_manual_review


def test_one_parent_with_two_plans_skips_the_birthday_rule():
    mia = person("Mia", "1980-03-10")
    newer, older = child_of("N", mia, "2022-01-01"), child_of("O", mia, "2016-01-01")
    order = decide(CHILD, newer, older)
    assert payers(order) == ["O", "N"]
    assert rules(order) == ["naic_longer_coverage"]


# --- (d) active before inactive, (e) COBRA last ---------------------------------------------


def test_active_before_laid_off():
    active = cov("A", subscriber_employment=ACTIVE, effective_date=day("2023-09-01"))
    laid_off = cov("L", subscriber_employment=LAID_OFF, effective_date=day("2010-01-01"))
    order = decide(ADULT, laid_off, active)
    assert payers(order) == ["A", "L"]
    assert rules(order) == ["naic_active_before_inactive"]


def test_active_before_retired():
    active = cov("A", subscriber_employment=ACTIVE, effective_date=day("2023-09-01"))
    retired = cov("R", subscriber_employment=RETIRED, effective_date=day("2015-01-01"))
    assert payers(decide(ADULT, retired, active)) == ["A", "R"]


def test_active_inactive_rule_ignored_when_the_other_plan_lacks_it():
    active = cov("A", subscriber_employment=ACTIVE, effective_date=day("2023-09-01"))
    laid_off = cov(
        "L",
        subscriber_employment=LAID_OFF,
        effective_date=day("2010-01-01"),
        applies_active_inactive_rule=False,
    )
    order = decide(ADULT, active, laid_off)
    assert payers(order) == ["L", "A"]  # longer coverage: 2010 before 2023
    assert rules(order) == ["naic_longer_coverage"]


def test_cobra_rule_ignored_when_the_other_plan_lacks_it():
    active = cov(
        "A",
        subscriber_employment=ACTIVE,
        effective_date=day("2023-09-01"),
        applies_cobra_rule=False,
    )
    cobra = cov("C", subscriber_employment=COBRA, effective_date=day("2015-01-01"))
    order = decide(ADULT, active, cobra)
    assert payers(order) == ["C", "A"]  # longer coverage: 2015 before 2023
    assert rules(order) == ["naic_longer_coverage"]


# --- (f) longer continuous coverage, with 24-hour bridging ----------------------------------


def test_prior_period_ending_the_day_before_counts_as_continuous():
    prior = CoveragePeriod(start=day("2015-03-01"), end=day("2020-12-31"))
    bridged = cov("N", effective_date=day("2021-01-01"), prior_periods=[prior])
    other = cov("O", effective_date=day("2018-01-01"))
    order = decide(ADULT, other, bridged)
    assert payers(order) == ["N", "O"]  # covered since 2015-03-01
    assert rules(order) == ["naic_longer_coverage"]


def test_a_two_day_gap_breaks_continuity():
    prior = CoveragePeriod(start=day("2015-03-01"), end=day("2020-12-30"))
    gap = cov("N", effective_date=day("2021-01-01"), prior_periods=[prior])
    other = cov("O", effective_date=day("2018-01-01"))
    assert payers(decide(ADULT, gap, other)) == ["O", "N"]


def test_bridging_chains_through_prior_periods_listed_in_any_order():
    periods = [
        CoveragePeriod(start=day("2015-03-01"), end=day("2020-12-31")),
        CoveragePeriod(start=day("2009-01-01"), end=day("2011-06-30")),  # 8-month gap: no
        CoveragePeriod(start=day("2012-03-01"), end=day("2015-02-28")),
    ]
    coverage = cov("N", effective_date=day("2021-01-01"), prior_periods=periods)
    assert continuous_start(coverage) == date(2012, 3, 1)
