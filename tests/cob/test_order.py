"""Order of benefits: the worked cases O-1 to O-14 (NAIC MDL-120 §6; 10 USC 1079(j)(1)),
exclusions, manual review, and the property that the answer does not depend on how the
coverages were listed. More rules in test_order_*.py."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from cob.model import (
    Coverage,
    CoveragePeriod,
    Employment,
    MedicareBasis,
    ParentRole,
    ParentsArrangement,
    PayerOrder,
    Person,
    PlanType,
    RelatedCause,
    Relationship,
)
from cob.order import determine_payer_order

DOS = date(2024, 3, 15)
CHILD = Person(first_name="Kim", last_name="Doe", birth_date=date(2012, 6, 1))
ADULT = Person(first_name="Ana", last_name="Doe", birth_date=date(1980, 3, 10))
AGED_67 = Person(first_name="Al", last_name="Roe", birth_date=date(1956, 9, 1))


def day(iso: str) -> date:
    return date.fromisoformat(iso)


def person(first: str, birth_date: str) -> Person:
    return Person(first_name=first, last_name="Doe", birth_date=day(birth_date))


def cov(payer_id: str, plan_type: PlanType = PlanType.COMMERCIAL, **fields) -> Coverage:
    fields.setdefault("effective_date", date(2020, 1, 1))
    return Coverage(payer_id=payer_id, member_id=f"{payer_id}-1", plan_type=plan_type, **fields)


def child_of(
    payer_id: str, subscriber: Person, effective: str = "2020-01-01", **fields
) -> Coverage:
    fields.setdefault("subscriber_employment", Employment.ACTIVE)
    return cov(
        payer_id,
        relationship=Relationship.CHILD,
        subscriber=subscriber,
        effective_date=day(effective),
        **fields,
    )


def decide(
    patient: Person, *coverages: Coverage, dos: date = DOS, cause: RelatedCause | None = None
) -> PayerOrder:
    return determine_payer_order(patient, list(coverages), dos, cause)


def payers(order: PayerOrder) -> list[str]:
    return [c.payer_id for c in order.coverages]


def rules(order: PayerOrder) -> list[str]:
    return [d.rule for d in order.decisions]


# --- worked cases O-1 to O-14 ---------------------------------------------------------------------


def test_o1_birthday_rule_ignores_birth_year():
    mother = child_of("M", person("Mia", "1980-03-10"))
    father = child_of("F", person("Fred", "1975-07-22"))  # older, but July comes after March
    order = decide(CHILD, father, mother)
    assert payers(order) == ["M", "F"]
    assert rules(order) == ["naic_birthday_rule"]
    assert not order.needs_manual_review


def test_o2_same_birthday_longer_coverage_of_the_parent_first():
    mother = child_of("M", person("Mia", "1980-05-01"), effective="2019-01-01")
    father = child_of("F", person("Fred", "1978-05-01"), effective="2021-06-01")
    order = decide(CHILD, father, mother)
    assert payers(order) == ["M", "F"]
    assert rules(order) == ["naic_birthday_same_day_longer_coverage"]


def test_o3_court_decree_makes_the_noncustodial_father_primary():
    # Birthday (March before July) and longer coverage (2015 before 2021) would both pick M.
    decree = {"parents": ParentsArrangement.COURT_DECREE}
    mother = child_of(
        "M", person("Mia", "1980-03-10"), "2015-01-01",
        parent_role=ParentRole.CUSTODIAL_PARENT, **decree,
    )  # fmt: skip
    father = child_of(
        "F", person("Fred", "1975-07-22"), "2021-01-01",
        parent_role=ParentRole.NONCUSTODIAL_PARENT, decree_responsible=True, **decree,
    )  # fmt: skip
    order = decide(CHILD, mother, father)
    assert payers(order) == ["F", "M"]
    assert rules(order) == ["naic_court_decree"]
    assert "rule 2b(i)" in order.decisions[0].citation


def test_o4_no_decree_custodial_mother_then_her_spouse_then_the_father():
    # The father has the earliest birthday and the longest coverage; custody decides.
    apart = {"parents": ParentsArrangement.NO_DECREE}
    mother = child_of(
        "M", person("Mia", "1985-11-30"), "2022-01-01",
        parent_role=ParentRole.CUSTODIAL_PARENT, **apart,
    )  # fmt: skip
    stepfather = child_of(
        "S", person("Sam", "1979-12-01"), "2023-01-01",
        parent_role=ParentRole.CUSTODIAL_PARENT_SPOUSE, **apart,
    )  # fmt: skip
    father = child_of(
        "F", person("Fred", "1975-01-02"), "2010-01-01",
        parent_role=ParentRole.NONCUSTODIAL_PARENT, **apart,
    )  # fmt: skip
    order = decide(CHILD, father, stepfather, mother)
    assert payers(order) == ["M", "S", "F"]
    assert rules(order) == ["naic_custodial_parent_order"] * 2


def test_o5_own_plan_as_employee_before_spouse_plan_as_dependent():
    own = cov("A", subscriber_employment=Employment.ACTIVE, effective_date=day("2023-01-01"))
    spouses = cov(
        "B",
        relationship=Relationship.SPOUSE,
        subscriber=person("Sam", "1979-01-02"),
        effective_date=day("2010-01-01"),
    )
    order = decide(ADULT, spouses, own)
    assert payers(order) == ["A", "B"]
    assert rules(order) == ["naic_nondependent_first"]


def test_o12_active_plan_before_cobra():
    active = cov("A", subscriber_employment=Employment.ACTIVE, effective_date=day("2023-09-01"))
    cobra = cov("C", subscriber_employment=Employment.COBRA, effective_date=day("2015-01-01"))
    order = decide(ADULT, cobra, active)
    assert payers(order) == ["A", "C"]
    assert rules(order) == ["naic_cobra_last"]


def test_o14_group_plan_before_tricare():
    ghp = cov("GHP", subscriber_employment=Employment.ACTIVE, employer_size=300)
    tricare = cov("TRI", PlanType.TRICARE)
    order = decide(ADULT, tricare, ghp)
    assert payers(order) == ["GHP", "TRI"]
    assert rules(order) == ["tricare_secondary"]
    assert "10 USC 1079(j)(1)" in order.decisions[0].citation


# --- exclusions and manual review -----------------------------------------------------------


def test_terminated_and_future_coverage_are_excluded_with_a_reason():
    ended = cov("OLD", termination_date=day("2024-01-31"))
    future = cov("NEW", effective_date=day("2024-04-01"))
    order = decide(ADULT, ended, cov("CUR"), future)
    assert payers(order) == ["CUR"]
    assert order.decisions == []
    assert (
        order.excluded["OLD:OLD-1"]
        == "terminated 2024-01-31, before the date of service 2024-03-15"
    )
    assert "effective 2024-04-01" in order.excluded["NEW:NEW-1"]


def test_undetermined_case_flags_manual_review_with_a_deterministic_order():
    a, b = cov("A"), cov("B")  # same relationship, status and start date: no rule decides
    order = decide(ADULT, b, a)
    assert payers(order) == ["A", "B"]
    assert rules(order) == ["naic_undetermined_manual_review"]
    assert "rule 6" in order.decisions[0].citation
    assert order.needs_manual_review


def test_contradicting_naic_rules_leave_every_spanned_pair_to_a_person():
    # X beats Y by birthday (Jan 5 before Mar 5), Y beats Z by longer coverage (2010 before
    # 2015), Z beats X by longer coverage (2015 before 2020): no order satisfies all three.
    x = child_of("X", person("Xe", "1980-01-05"), effective="2020-01-01")
    y = child_of("Y", person("Yu", "1980-03-05"), effective="2010-01-01")
    z = cov("Z", relationship=Relationship.OTHER, subscriber=person("Zo", "1950-01-01"),
            subscriber_employment=Employment.ACTIVE, effective_date=day("2015-01-01"))  # fmt: skip
    order = decide(CHILD, z, y, x)
    assert payers(order) == ["X", "Y", "Z"]
    assert rules(order) == ["naic_conflicting_rules_manual_review"] * 2
    assert order.needs_manual_review


def test_the_old_three_argument_call_still_works():
    order = determine_payer_order(ADULT, [cov("A")], DOS)
    assert payers(order) == ["A"] and not order.needs_manual_review


# --- the result does not depend on the order coverages were listed in ----------------------

# A few fixed dates make same birthdays and same start dates (ties) common.
dates = st.sampled_from([date(1960, 5, 1), date(1980, 5, 1), date(2020, 1, 1)]) | st.dates(
    min_value=date(1940, 1, 1), max_value=date(2024, 12, 31)
)
people = st.builds(
    Person, first_name=st.sampled_from(["Ann", "Bob"]), last_name=st.just("Doe"), birth_date=dates
)
plan_types = st.sampled_from([PlanType.COMMERCIAL] * 6 + list(PlanType))  # mostly NAIC cases
periods = st.lists(st.tuples(dates, dates), max_size=2).map(
    lambda pairs: [CoveragePeriod(start=min(p), end=max(p)) for p in pairs]
)
mostly_true = st.sampled_from([True, True, True, False])


@st.composite
def coverage_lists(draw) -> list[Coverage]:
    payer_ids = draw(st.lists(st.sampled_from("ABCDEFGH"), min_size=1, max_size=6, unique=True))
    return [
        Coverage(
            payer_id=payer_id,
            member_id=draw(st.sampled_from(["1", "2"])),
            plan_type=draw(plan_types),
            relationship=draw(st.sampled_from(Relationship)),
            subscriber=draw(st.none() | people),
            subscriber_employment=draw(st.sampled_from(Employment)),
            employer_size=draw(st.none() | st.sampled_from([5, 19, 20, 99, 100, 500])),
            effective_date=draw(dates),
            termination_date=draw(st.none() | dates),
            medicare_basis=draw(st.none() | st.sampled_from(MedicareBasis)),
            medicare_entitlement_date=draw(st.none() | dates),
            has_cob_provision=draw(mostly_true),
            applies_active_inactive_rule=draw(mostly_true),
            applies_cobra_rule=draw(mostly_true),
            parents=draw(st.none() | st.sampled_from(ParentsArrangement)),
            parent_role=draw(st.none() | st.sampled_from(ParentRole)),
            decree_responsible=draw(st.booleans()),
            prior_periods=draw(periods),
        )
        for payer_id in payer_ids
    ]


@settings(max_examples=400)
@given(
    data=st.data(),
    patient=people,
    coverages=coverage_lists(),
    service_date=dates,
    cause=st.none() | st.sampled_from(RelatedCause),
)
def test_permuting_the_input_gives_the_same_order_and_decisions(
    data, patient, coverages, service_date, cause
):
    shuffled = data.draw(st.permutations(coverages))
    first = determine_payer_order(patient, coverages, service_date, cause)
    again = determine_payer_order(patient, shuffled, service_date, cause)
    assert again.model_dump() == first.model_dump()
    # Every adjacent pair has exactly one decision, with a rule and its source.
    keys = [c.key for c in first.coverages]
    assert [(d.higher, d.lower) for d in first.decisions] == list(zip(keys, keys[1:], strict=False))
    assert all(d.rule and d.citation for d in first.decisions)
    assert sorted(keys + list(first.excluded)) == sorted(c.key for c in coverages)
    if any(d.rule.endswith("_manual_review") for d in first.decisions):
        assert first.needs_manual_review
    # The families keep their places: accident plans first, then TRICARE, Medicaid last.
    rank = {PlanType.WORKERS_COMP: 0, PlanType.NO_FAULT: 0, PlanType.LIABILITY: 0}
    rank |= {PlanType.TRICARE: 2, PlanType.MEDICAID: 3}
    ranks = [rank.get(c.plan_type, 1) for c in first.coverages]
    assert ranks == sorted(ranks)
