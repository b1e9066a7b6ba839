"""Order of benefits: which coverage pays first on the date of service (DOMAIN.md §1).

Pure and deterministic (it runs inside Temporal workflows): no clock, no I/O, no randomness.
Each coverage in force gets a slot (commercial before Medicare, Medicare, Medigap, commercial
after Medicare, TRICARE, Medicaid); the Medicare Secondary Payer rules decide on which side of
Medicare a group plan sits, and the NAIC rules sort commercial plans within a slot. Every
adjacent pair gets an OrderDecision naming the rule that put one ahead of the other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cmp_to_key
from typing import Any, NamedTuple

from cob.model import (
    Coverage,
    Employment,
    MedicareBasis,
    OrderDecision,
    PayerOrder,
    Person,
    PlanType,
    Relationship,
)


class Rule(NamedTuple):
    id: str
    citation: str


MEDICAID_LAST = Rule("medicaid_last", "42 USC 1396a(a)(25); DOMAIN.md §1.4")
TRICARE_SECONDARY = Rule("tricare_secondary", "10 USC 1079(j)(1); DOMAIN.md §1.5")
MEDIGAP_AFTER_MEDICARE = Rule("medigap_after_medicare", "CMS 'Who Pays First'; DOMAIN.md §1.1")
MEDIGAP_WITHOUT_MEDICARE = Rule("medigap_without_medicare_manual_review", "DOMAIN.md §1.1")
SAME_CLASS = Rule("same_class_manual_review", "no rule orders two of a kind; DOMAIN.md §1.1")

MSP_WORKING_AGED = Rule("msp_working_aged", "42 USC 1395y(b)(1)(A); DOMAIN.md §1.3")
MSP_DISABILITY = Rule("msp_disability_large_group", "42 USC 1395y(b)(1)(B); DOMAIN.md §1.3")
MSP_ESRD = Rule("msp_esrd_manual_review", "42 USC 1395y(b)(1)(C); DOMAIN.md §1.3")
MSP_BASIS_UNKNOWN = Rule("msp_basis_unknown_manual_review", "42 USC 1395y(b)(1); DOMAIN.md §1.3")
MSP_SIZE_UNKNOWN = Rule(
    "msp_employer_size_unknown_manual_review", "42 USC 1395y(b)(1)(A)(ii); DOMAIN.md §1.3"
)
MSP_RETIREE = Rule("msp_retiree", "42 USC 1395y(b)(1)(E)(ii); DOMAIN.md §1.3")
MSP_COBRA = Rule("msp_cobra", "COBRA is not current employment; DOMAIN.md §1.3")
MSP_SMALL_EMPLOYER = Rule("msp_small_employer", "42 USC 1395y(b)(1)(A)(ii), (B); DOMAIN.md §1.3")
MSP_MEDICARE_PRIMARY = Rule("msp_medicare_primary", "42 USC 1395y(b)(1)(E)(ii); DOMAIN.md §1.3")


def _naic(rule_id: str, rule_number: str) -> Rule:
    return Rule(rule_id, f"NAIC Model 120 §6 rule {rule_number}; DOMAIN.md §1.2")


NAIC_NONDEPENDENT = _naic("naic_nondependent_first", "1")
NAIC_BIRTHDAY = _naic("naic_birthday_rule", "2a(I)")
NAIC_BIRTHDAY_SAME_DAY = _naic("naic_birthday_same_day_longer_coverage", "2a(II)")
NAIC_ACTIVE = _naic("naic_active_before_inactive", "3")
NAIC_COBRA = _naic("naic_cobra_last", "4")
NAIC_LONGER = _naic("naic_longer_coverage", "5")
NAIC_UNDETERMINED = _naic("naic_undetermined_manual_review", "6")

# Slots, in paying order.
BEFORE_MEDICARE, MEDICARE, MEDIGAP, AFTER_MEDICARE, TRICARE, MEDICAID = range(6)
_COMMERCIAL_SLOTS = (BEFORE_MEDICARE, AFTER_MEDICARE)


class MspPlacement(NamedTuple):
    rule: Rule
    group_primary: bool
    manual_review: bool = False


class _Placed(NamedTuple):
    coverage: Coverage
    slot: int
    msp: MspPlacement | None = None


def determine_payer_order(
    patient: Person, coverages: list[Coverage], service_date: date
) -> PayerOrder:
    # A canonical input order makes the result independent of how coverages were listed.
    excluded: dict[str, str] = {}
    in_force: list[Coverage] = []
    for c in sorted(coverages, key=lambda c: (c.key, c.model_dump_json())):
        if reason := not_in_force_reason(c, service_date):
            excluded[c.key] = reason
        else:
            in_force.append(c)
    medicare = next((c for c in in_force if c.plan_type is PlanType.MEDICARE), None)
    placed = [_place(patient, c, medicare, service_date) for c in in_force]
    ordered: list[_Placed] = []
    review = any(p.msp is not None and p.msp.manual_review for p in placed)
    review |= any(p.slot == MEDIGAP for p in placed) and medicare is None
    for slot in range(MEDICAID + 1):
        group = [p for p in placed if p.slot == slot]
        if slot in _COMMERCIAL_SLOTS:
            group, consistent = _naic_sorted(group)
            review |= not consistent
        ordered.extend(group)
    decisions = [
        OrderDecision(
            higher=high.coverage.key, lower=low.coverage.key, rule=r.id, citation=r.citation
        )
        for high, low in zip(ordered, ordered[1:], strict=False)
        for r in [_pair_rule(high, low)]
    ]
    review |= any(d.rule.endswith("manual_review") for d in decisions)
    return PayerOrder(
        coverages=[p.coverage for p in ordered],
        decisions=decisions,
        excluded=excluded,
        needs_manual_review=review,
    )


def not_in_force_reason(coverage: Coverage, service_date: date) -> str | None:
    if coverage.effective_date > service_date:
        return f"not yet in force: effective {coverage.effective_date}, after the date of service {service_date}"
    if coverage.termination_date is not None and coverage.termination_date < service_date:
        return f"terminated {coverage.termination_date}, before the date of service {service_date}"
    return None


def age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


# --- slots and Medicare Secondary Payer ----------------------------------------------------


def _place(patient: Person, c: Coverage, medicare: Coverage | None, dos: date) -> _Placed:
    fixed = {
        PlanType.MEDICARE: MEDICARE,
        PlanType.MEDICARE_SUPPLEMENT: MEDIGAP,
        PlanType.TRICARE: TRICARE,
        PlanType.MEDICAID: MEDICAID,
    }
    if c.plan_type in fixed:
        return _Placed(c, fixed[c.plan_type])
    if medicare is None:
        return _Placed(c, BEFORE_MEDICARE)
    msp = msp_placement(patient, medicare, c, dos)
    return _Placed(c, BEFORE_MEDICARE if msp.group_primary else AFTER_MEDICARE, msp)


def msp_placement(patient: Person, medicare: Coverage, plan: Coverage, dos: date) -> MspPlacement:
    """Where a commercial group plan sits relative to Medicare (DOMAIN.md §1.3)."""
    basis = medicare.medicare_basis
    if basis is None and age_on(patient.birth_date, dos) >= 65:
        basis = MedicareBasis.AGE
    if basis is MedicareBasis.ESRD:
        # The GHP is primary during the 30-month coordination period, which starts with the
        # ESRD entitlement month; Coverage carries no such date, so a person must decide.
        return MspPlacement(MSP_ESRD, group_primary=True, manual_review=True)
    if basis is None:
        # Under 65 with no basis: disability or ESRD. Place it as disability, and ask.
        guess = _employment_placement(MedicareBasis.DISABILITY, plan)
        return MspPlacement(MSP_BASIS_UNKNOWN, guess.group_primary, manual_review=True)
    return _employment_placement(basis, plan)


def _employment_placement(basis: MedicareBasis, plan: Coverage) -> MspPlacement:
    employment = plan.subscriber_employment
    if employment is Employment.RETIRED:
        return MspPlacement(MSP_RETIREE, group_primary=False)
    if employment is Employment.COBRA:
        return MspPlacement(MSP_COBRA, group_primary=False)
    # Working aged: own or spouse's employment; disability: own or a family member's.
    family = {Relationship.SELF, Relationship.SPOUSE}  # 42 USC 1395y(b)(1)(A)(i)
    if basis is MedicareBasis.DISABILITY:
        family.add(Relationship.CHILD)  # 42 USC 1395y(b)(1)(B)(i)
    if employment is not Employment.ACTIVE or plan.relationship not in family:
        return MspPlacement(MSP_MEDICARE_PRIMARY, group_primary=False)
    if plan.employer_size is None:
        # Billing the group plan first is the MSP-safe guess; a person confirms the size.
        return MspPlacement(MSP_SIZE_UNKNOWN, group_primary=True, manual_review=True)
    threshold = 20 if basis is MedicareBasis.AGE else 100  # 1395y(b)(1)(A)(ii); (B)(iii)
    if plan.employer_size < threshold:
        return MspPlacement(MSP_SMALL_EMPLOYER, group_primary=False)
    rule = MSP_WORKING_AGED if basis is MedicareBasis.AGE else MSP_DISABILITY
    return MspPlacement(rule, group_primary=True)


def _pair_rule(high: _Placed, low: _Placed) -> Rule:
    """The rule that puts `high` directly ahead of `low` (slots are already in order)."""
    if high.slot == low.slot:
        if high.slot in _COMMERCIAL_SLOTS:
            return naic_compare(high.coverage, low.coverage)[1]
        return SAME_CLASS
    if low.slot == MEDICAID:
        return MEDICAID_LAST
    if low.slot == TRICARE:
        return TRICARE_SECONDARY
    if low.slot == MEDIGAP:
        return MEDIGAP_AFTER_MEDICARE if high.slot == MEDICARE else MEDIGAP_WITHOUT_MEDICARE
    if high.slot == MEDIGAP:
        return MEDIGAP_AFTER_MEDICARE  # Medigap sits directly after Medicare
    commercial = low if high.slot == MEDICARE else high
    assert commercial.msp is not None
    return commercial.msp.rule


# --- NAIC Model 120 between commercial plans -----------------------------------------------

Comparison = int  # < 0: a pays first; > 0: b pays first; 0: this rule does not decide


def _prefer(a_first: bool, b_first: bool) -> Comparison:
    return int(b_first) - int(a_first)


def _earlier(a: Any, b: Any) -> Comparison:
    return int(a > b) - int(a < b)


def _parents(a: Coverage, b: Coverage) -> tuple[Person, Person] | None:
    """Both parents' subscribers when the patient is a child on two different parents' plans."""
    if a.relationship is not Relationship.CHILD or b.relationship is not Relationship.CHILD:
        return None
    if a.subscriber is None or b.subscriber is None or a.subscriber == b.subscriber:
        return None
    return a.subscriber, b.subscriber


def _birthday(a: Coverage, b: Coverage) -> Comparison:
    # Month and day only; the year is ignored (NJ 11:4-28.6(b)3; DOMAIN.md §1.2)
    if (parents := _parents(a, b)) is None:
        return 0
    birthday_a, birthday_b = ((p.birth_date.month, p.birth_date.day) for p in parents)
    return _earlier(birthday_a, birthday_b)


def _birthday_same_day(a: Coverage, b: Coverage) -> Comparison:
    if (parents := _parents(a, b)) is None:
        return 0
    days = {(p.birth_date.month, p.birth_date.day) for p in parents}
    return _earlier(a.effective_date, b.effective_date) if len(days) == 1 else 0


def _nondependent_first(a: Coverage, b: Coverage) -> Comparison:
    # SELF covers the person as employee/subscriber; spouse, child and other are dependents
    return _prefer(a.relationship is Relationship.SELF, b.relationship is Relationship.SELF)


def _active_before_inactive(a: Coverage, b: Coverage) -> Comparison:
    active = Employment.ACTIVE
    if {a.subscriber_employment, b.subscriber_employment} != {active, Employment.RETIRED}:
        return 0
    return _prefer(a.subscriber_employment is active, b.subscriber_employment is active)


def _cobra_last(a: Coverage, b: Coverage) -> Comparison:
    cobra = Employment.COBRA
    return _prefer(a.subscriber_employment is not cobra, b.subscriber_employment is not cobra)


def _longer_coverage(a: Coverage, b: Coverage) -> Comparison:
    # The 24-hour bridging of consecutive plans is not modelled: Coverage has one start date.
    return _earlier(a.effective_date, b.effective_date)


NAIC_RULES: list[tuple[Rule, Callable[[Coverage, Coverage], Comparison]]] = [
    (NAIC_NONDEPENDENT, _nondependent_first),
    (NAIC_BIRTHDAY, _birthday),
    (NAIC_BIRTHDAY_SAME_DAY, _birthday_same_day),
    (NAIC_ACTIVE, _active_before_inactive),
    (NAIC_COBRA, _cobra_last),
    (NAIC_LONGER, _longer_coverage),
]


def naic_compare(a: Coverage, b: Coverage) -> tuple[Comparison, Rule]:
    """The first NAIC rule that decides between two commercial plans (DOMAIN.md §1.2)."""
    for rule, decide in NAIC_RULES:
        if result := decide(a, b):
            return result, rule
    return 0, NAIC_UNDETERMINED


def _naic_sorted(group: list[_Placed]) -> tuple[list[_Placed], bool]:
    """Sort by NAIC, key as the last tie-break; False when the rules contradict each other."""

    def compare(a: _Placed, b: _Placed) -> int:
        return naic_compare(a.coverage, b.coverage)[0] or _earlier(a.coverage.key, b.coverage.key)

    ordered = sorted(group, key=cmp_to_key(compare))
    # First-rule-that-applies is not always transitive (A > B > C > A); a person must decide.
    consistent = all(
        naic_compare(ordered[i].coverage, ordered[j].coverage)[0] <= 0
        for i in range(len(ordered))
        for j in range(i + 1, len(ordered))
    )
    return ordered, consistent
