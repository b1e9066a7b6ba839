"""Order of benefits (DOMAIN.md §1 and the §7.3 cases)."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from cob.model import Coverage, Employment, MedicareBasis, Person, PlanType, Relationship
from cob.order import determine_payer_order

DOS = date(2024, 3, 15)
CHILD = Person(first_name="Kim", last_name="Doe", birth_date=date(2012, 6, 1))
ADULT = Person(first_name="Ana", last_name="Doe", birth_date=date(1980, 3, 10))
AGED_67 = Person(first_name="Al", last_name="Roe", birth_date=date(1956, 9, 1))


def parent(first: str, birth_date: str) -> Person:
    return Person(first_name=first, last_name="Doe", birth_date=date.fromisoformat(birth_date))


def cov(payer_id: str, plan_type: PlanType = PlanType.COMMERCIAL, **fields) -> Coverage:
    fields.setdefault("effective_date", date(2020, 1, 1))
    return Coverage(payer_id=payer_id, member_id=f"{payer_id}-1", plan_type=plan_type, **fields)


def order_of(patient: Person, *coverages: Coverage) -> list[str]:
    return [c.payer_id for c in determine_payer_order(patient, list(coverages), DOS).coverages]


def rules_of(patient: Person, *coverages: Coverage) -> list[str]:
    return [d.rule for d in determine_payer_order(patient, list(coverages), DOS).decisions]


def child_of(payer_id: str, subscriber: Person, effective: str = "2020-01-01") -> Coverage:
    return cov(
        payer_id,
        relationship=Relationship.CHILD,
        subscriber=subscriber,
        subscriber_employment=Employment.ACTIVE,
        effective_date=date.fromisoformat(effective),
    )


def test_o1_birthday_rule_ignores_birth_year():
    mother = child_of("M", parent("Mia", "1980-03-10"))
    father = child_of("F", parent("Fred", "1975-07-22"))  # older, but July comes after March
    assert order_of(CHILD, father, mother) == ["M", "F"]
    assert rules_of(CHILD, father, mother) == ["naic_birthday_rule"]


def test_o2_same_birthday_longer_coverage_of_the_parent_first():
    mother = child_of("M", parent("Mia", "1980-05-01"), effective="2019-01-01")
    father = child_of("F", parent("Fred", "1978-05-01"), effective="2021-06-01")
    assert order_of(CHILD, father, mother) == ["M", "F"]
    assert rules_of(CHILD, father, mother) == ["naic_birthday_same_day_longer_coverage"]


def test_o5_own_plan_as_employee_before_spouse_plan_as_dependent():
    own = cov("A", subscriber_employment=Employment.ACTIVE, effective_date=date(2023, 1, 1))
    spouse = parent("Sam", "1979-01-02")
    spouses = cov(
        "B", relationship=Relationship.SPOUSE, subscriber=spouse, effective_date=date(2010, 1, 1)
    )
    assert order_of(ADULT, spouses, own) == ["A", "B"]
    assert rules_of(ADULT, spouses, own) == ["naic_nondependent_first"]


def test_o12_active_plan_before_cobra():
    active = cov("A", subscriber_employment=Employment.ACTIVE, effective_date=date(2023, 9, 1))
    cobra = cov("C", subscriber_employment=Employment.COBRA, effective_date=date(2015, 1, 1))
    assert order_of(ADULT, cobra, active) == ["A", "C"]
    assert rules_of(ADULT, cobra, active) == ["naic_cobra_last"]


def test_active_before_retired():
    active = cov("A", subscriber_employment=Employment.ACTIVE, effective_date=date(2023, 9, 1))
    retired = cov("R", subscriber_employment=Employment.RETIRED, effective_date=date(2015, 1, 1))
    assert order_of(ADULT, retired, active) == ["A", "R"]
    assert rules_of(ADULT, retired, active) == ["naic_active_before_inactive"]


def test_longer_coverage_first_when_nothing_else_decides():
    newer = cov("N", effective_date=date(2022, 1, 1))
    older = cov("O", effective_date=date(2018, 1, 1))
    assert order_of(ADULT, newer, older) == ["O", "N"]
    assert rules_of(ADULT, newer, older) == ["naic_longer_coverage"]


def test_o14_group_plan_before_tricare():
    ghp = cov("GHP", subscriber_employment=Employment.ACTIVE, employer_size=300)
    tricare = cov("TRI", PlanType.TRICARE)
    assert order_of(ADULT, tricare, ghp) == ["GHP", "TRI"]
    assert rules_of(ADULT, tricare, ghp) == ["tricare_secondary"]


def test_working_aged_67_with_employer_of_50_employer_plan_first():
    employer = cov("EMP", subscriber_employment=Employment.ACTIVE, employer_size=50)
    medicare = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.AGE)
    order = determine_payer_order(AGED_67, [medicare, employer], DOS)
    assert [c.payer_id for c in order.coverages] == ["EMP", "MCR"]
    assert order.decisions[0].rule == "msp_working_aged"
    assert "1395y(b)(1)(A)" in order.decisions[0].citation
    assert not order.needs_manual_review


def test_working_aged_67_with_employer_of_10_medicare_first():
    employer = cov("EMP", subscriber_employment=Employment.ACTIVE, employer_size=10)
    medicare = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.AGE)
    assert order_of(AGED_67, employer, medicare) == ["MCR", "EMP"]
    assert rules_of(AGED_67, employer, medicare) == ["msp_small_employer"]


def test_age_decides_basis_when_medicare_basis_is_missing():
    employer = cov("EMP", subscriber_employment=Employment.ACTIVE, employer_size=20)
    medicare = cov("MCR", PlanType.MEDICARE)
    assert order_of(AGED_67, medicare, employer) == ["EMP", "MCR"]


def test_disability_needs_100_employees():
    medicare = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.DISABILITY)
    large = cov("EMP", subscriber_employment=Employment.ACTIVE, employer_size=100)
    small = cov("EMP", subscriber_employment=Employment.ACTIVE, employer_size=99)
    assert rules_of(ADULT, medicare, large) == ["msp_disability_large_group"]
    assert order_of(ADULT, medicare, small) == ["MCR", "EMP"]


def test_retiree_plan_after_medicare():
    retiree = cov("RET", subscriber_employment=Employment.RETIRED, employer_size=5000)
    medicare = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.AGE)
    assert order_of(AGED_67, retiree, medicare) == ["MCR", "RET"]
    assert rules_of(AGED_67, retiree, medicare) == ["msp_retiree"]


def test_cobra_after_medicare():
    cobra = cov("COB", subscriber_employment=Employment.COBRA, employer_size=5000)
    medicare = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.AGE)
    assert rules_of(AGED_67, cobra, medicare) == ["msp_cobra"]


def test_esrd_flags_manual_review_for_the_coordination_period():
    employer = cov("EMP", subscriber_employment=Employment.RETIRED)
    medicare = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.ESRD)
    order = determine_payer_order(ADULT, [medicare, employer], DOS)
    assert order.decisions[0].rule == "msp_esrd_manual_review"
    assert order.needs_manual_review


def test_medicare_then_medigap():
    medigap = cov("GAP", PlanType.MEDICARE_SUPPLEMENT)
    medicare = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.AGE)
    assert order_of(AGED_67, medigap, medicare) == ["MCR", "GAP"]
    assert rules_of(AGED_67, medigap, medicare) == ["medigap_after_medicare"]


def test_medicare_then_medicaid():
    medicaid = cov("MCD", PlanType.MEDICAID)
    medicare = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.AGE)
    assert order_of(AGED_67, medicaid, medicare) == ["MCR", "MCD"]
    assert rules_of(AGED_67, medicaid, medicare) == ["medicaid_last"]


def test_medicare_reversal_spouse_active_plan_medicare_own_retiree_plan():
    spouse = parent("Sue", "1962-02-02")
    spouses = cov(
        "SP",
        relationship=Relationship.SPOUSE,
        subscriber=spouse,
        subscriber_employment=Employment.ACTIVE,
        employer_size=400,
    )
    own_retiree = cov("RET", subscriber_employment=Employment.RETIRED)
    medicare = cov("MCR", PlanType.MEDICARE, medicare_basis=MedicareBasis.AGE)
    tricare, medicaid = cov("TRI", PlanType.TRICARE), cov("MCD", PlanType.MEDICAID)
    coverages = (medicaid, own_retiree, tricare, medicare, spouses)
    assert order_of(AGED_67, *coverages) == ["SP", "MCR", "RET", "TRI", "MCD"]
    assert rules_of(AGED_67, *coverages) == [
        "msp_working_aged",
        "msp_retiree",
        "tricare_secondary",
        "medicaid_last",
    ]


def test_terminated_coverage_is_excluded_with_a_reason():
    ended = cov("OLD", termination_date=date(2024, 1, 31))
    future = cov("NEW", effective_date=date(2024, 4, 1))
    current = cov("CUR")
    order = determine_payer_order(ADULT, [ended, current, future], DOS)
    assert [c.payer_id for c in order.coverages] == ["CUR"]
    assert order.decisions == []
    assert (
        order.excluded["OLD:OLD-1"]
        == "terminated 2024-01-31, before the date of service 2024-03-15"
    )
    assert "effective 2024-04-01" in order.excluded["NEW:NEW-1"]


def test_undetermined_case_flags_manual_review_with_a_deterministic_order():
    a, b = cov("A"), cov("B")  # same relationship, status and start date: no rule decides
    order = determine_payer_order(ADULT, [b, a], DOS)
    assert [c.payer_id for c in order.coverages] == ["A", "B"]
    assert order.decisions[0].rule == "naic_undetermined_manual_review"
    assert order.needs_manual_review


def test_contradicting_naic_rules_flag_manual_review():
    # X beats Y by birthday, Y beats Z by longer coverage, Z beats X by longer coverage.
    x = child_of("X", parent("Xe", "1980-01-05"), effective="2020-01-01")
    y = child_of("Y", parent("Yu", "1980-03-05"), effective="2010-01-01")
    z = cov("Z", relationship=Relationship.OTHER, subscriber=parent("Zo", "1950-01-01"),
            subscriber_employment=Employment.ACTIVE, effective_date=date(2015, 1, 1))  # fmt: skip
    assert determine_payer_order(CHILD, [x, y, z], DOS).needs_manual_review


# --- the result does not depend on the order coverages were listed in ----------------------

# A few fixed dates make same birthdays and same start dates (ties) common.
dates = st.sampled_from([date(1960, 5, 1), date(1980, 5, 1), date(2020, 1, 1)]) | st.dates(
    min_value=date(1940, 1, 1), max_value=date(2024, 12, 31)
)
people = st.builds(
    Person, first_name=st.sampled_from(["Ann", "Bob"]), last_name=st.just("Doe"), birth_date=dates
)
plan_types = st.sampled_from([PlanType.COMMERCIAL] * 4 + list(PlanType))  # mostly NAIC cases


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
            employer_size=draw(st.none() | st.sampled_from([5, 20, 99, 100, 500])),
            effective_date=draw(dates),
            termination_date=draw(st.none() | dates),
            medicare_basis=draw(st.none() | st.sampled_from(MedicareBasis)),
        )
        for payer_id in payer_ids
    ]


@settings(max_examples=300)
@given(data=st.data(), patient=people, coverages=coverage_lists(), service_date=dates)
def test_permuting_the_input_gives_the_same_order_and_decisions(
    data, patient, coverages, service_date
):
    shuffled = data.draw(st.permutations(coverages))
    first = determine_payer_order(patient, coverages, service_date)
    again = determine_payer_order(patient, shuffled, service_date)
    assert again.model_dump() == first.model_dump()
    keys = [c.key for c in first.coverages]
    assert [(d.higher, d.lower) for d in first.decisions] == list(zip(keys, keys[1:], strict=False))
    assert sorted(keys + list(first.excluded)) == sorted(c.key for c in coverages)
