"""Order of benefits: which coverage pays first on the date of service
(see docs/order-of-benefits.md).

Pure and deterministic (it runs inside Temporal workflows): no clock, no I/O, no randomness.
The rule families apply in this precedence (42 USC 1395y(b); NAIC COB Model Regulation
(MDL-120) section 6; 10 USC 1079(j)(1); 42 USC 1396a(a)(25)). Each coverage in force gets a slot, in
paying order: workers' compensation, no-fault and liability plans that cover the claim's cause;
commercial plans ahead of Medicare; Medicare; Medigap; commercial plans behind Medicare;
TRICARE; Medicaid. The MSP rules (cob/msp.py) decide on which side of Medicare a commercial
plan sits, and the NAIC rules (cob/naic.py) order the commercial plans within a slot. Every
adjacent pair gets an OrderDecision naming the rule that put one ahead of the other; when no
rule decides, the order is still deterministic and the rule id ends in `_manual_review`.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from cob.model import (
    Coverage,
    OrderDecision,
    PayerOrder,
    Person,
    PlanType,
    RelatedCause,
    Relationship,
)
from cob.msp import MspPlacement, age_on, msp_placement
from cob.naic import Family, Rule, family_of, naic_order

__all__ = [
    "Rule",
    "age_on",
    "birthday_rule_coverages",
    "determine_payer_order",
    "not_covered_reason",
    "not_in_force_reason",
]

_ACCIDENT_CITATION = "42 USC 1395y(b)(2)(A)(ii)"
WORKERS_COMP_FIRST = Rule("workers_comp_first", _ACCIDENT_CITATION)
NO_FAULT_FIRST = Rule("no_fault_first", _ACCIDENT_CITATION)
LIABILITY_FIRST = Rule("liability_first", _ACCIDENT_CITATION)
NO_FAULT_BEFORE_LIABILITY = Rule("no_fault_before_liability", _ACCIDENT_CITATION)
MEDICAID_LAST = Rule("medicaid_last", "42 USC 1396a(a)(25)")
TRICARE_SECONDARY = Rule("tricare_secondary", "10 USC 1079(j)(1); 32 CFR 199.8")
MEDIGAP_AFTER_MEDICARE = Rule("medigap_after_medicare", "CMS, Your Guide to Who Pays First")
MEDIGAP_WITHOUT_MEDICARE = Rule(
    "medigap_without_medicare_manual_review", "a supplement needs the Medicare it supplements"
)
SAME_CLASS = Rule("same_class_manual_review", "no rule orders two of a kind")


class _AccidentPlan(NamedTuple):
    label: str
    causes: frozenset[RelatedCause]
    first: Rule


_ACCIDENTS = frozenset({RelatedCause.AUTO_ACCIDENT, RelatedCause.OTHER_ACCIDENT})
# In paying order among themselves: only one of WC and no-fault/liability covers a cause, and
# no-fault pays as claims arise while liability pays on settlement.
ACCIDENT_PLANS: dict[PlanType, _AccidentPlan] = {
    PlanType.WORKERS_COMP: _AccidentPlan(
        "workers' compensation", frozenset({RelatedCause.EMPLOYMENT}), WORKERS_COMP_FIRST
    ),
    PlanType.NO_FAULT: _AccidentPlan("no-fault insurance", _ACCIDENTS, NO_FAULT_FIRST),
    PlanType.LIABILITY: _AccidentPlan("liability insurance", _ACCIDENTS, LIABILITY_FIRST),
}

# Slots, in paying order.
ACCIDENT, BEFORE_MEDICARE, MEDICARE, MEDIGAP, AFTER_MEDICARE, TRICARE, MEDICAID = range(7)
_COMMERCIAL_SLOTS = (BEFORE_MEDICARE, AFTER_MEDICARE)
_FIXED_SLOTS = {
    PlanType.MEDICARE: MEDICARE,
    PlanType.MEDICARE_SUPPLEMENT: MEDIGAP,
    PlanType.TRICARE: TRICARE,
    PlanType.MEDICAID: MEDICAID,
}


class _Placed(NamedTuple):
    coverage: Coverage
    slot: int
    msp: MspPlacement | None = None


def determine_payer_order(
    patient: Person,
    coverages: list[Coverage],
    service_date: date,
    related_cause: RelatedCause | None = None,
) -> PayerOrder:
    # A canonical input order makes the result independent of how coverages were listed.
    excluded: dict[str, str] = {}
    in_force: list[Coverage] = []
    for c in sorted(coverages, key=lambda c: (c.key, c.model_dump_json())):
        reason = not_in_force_reason(c, service_date) or not_covered_reason(c, related_cause)
        if reason:
            excluded[c.key] = reason
        else:
            in_force.append(c)
    medicare = next((c for c in in_force if c.plan_type is PlanType.MEDICARE), None)
    placed = [_place(patient, c, medicare, service_date) for c in in_force]
    family = family_of([p.coverage for p in placed if p.slot in _COMMERCIAL_SLOTS])
    ordered: list[_Placed] = []
    rules: list[Rule] = []  # rules[k] puts ordered[k] ahead of ordered[k + 1]
    for slot in range(MEDICAID + 1):
        group, within = _slot_order([p for p in placed if p.slot == slot], family)
        if ordered and group:
            rules.append(_between_slots(ordered[-1], group[0]))
        ordered.extend(group)
        rules.extend(within)
    decisions = [
        OrderDecision(
            higher=high.coverage.key, lower=low.coverage.key, rule=r.id, citation=r.citation
        )
        for high, low, r in zip(ordered[:-1], ordered[1:], rules, strict=True)
    ]
    review = any(p.msp is not None and p.msp.manual_review for p in placed)
    review |= medicare is None and any(p.slot == MEDIGAP for p in placed)
    review |= any(r.id.endswith("manual_review") for r in rules)
    return PayerOrder(
        coverages=[p.coverage for p in ordered],
        decisions=decisions,
        excluded=excluded,
        needs_manual_review=review,
    )


def birthday_rule_coverages(coverages: list[Coverage]) -> list[Coverage]:
    """The coverages of a dependent child that the birthday rule would order by their
    subscribers' birth dates (NAIC COB Model Regulation (MDL-120) section 6): empty when the rule
    cannot come into play (fewer than two plans covering the patient as a child)."""
    dependent = [c for c in coverages if c.relationship == Relationship.CHILD]
    return dependent if len(dependent) > 1 else []


def not_in_force_reason(coverage: Coverage, service_date: date) -> str | None:
    if coverage.effective_date > service_date:
        return f"not yet in force: effective {coverage.effective_date}, after the date of service {service_date}"
    if coverage.termination_date is not None and coverage.termination_date < service_date:
        return f"terminated {coverage.termination_date}, before the date of service {service_date}"
    return None


def not_covered_reason(coverage: Coverage, related_cause: RelatedCause | None) -> str | None:
    """Why a workers' compensation, no-fault or liability plan does not cover this claim."""
    accident_plan = ACCIDENT_PLANS.get(coverage.plan_type)
    if accident_plan is None or related_cause in accident_plan.causes:
        return None
    causes = " or ".join(sorted(accident_plan.causes))
    return (
        f"{accident_plan.label} covers only claims related to {causes}; "
        f"this claim's related cause is {related_cause or 'none'}"
    )


def _place(patient: Person, c: Coverage, medicare: Coverage | None, dos: date) -> _Placed:
    if c.plan_type in ACCIDENT_PLANS:
        return _Placed(c, ACCIDENT)
    if c.plan_type in _FIXED_SLOTS:
        return _Placed(c, _FIXED_SLOTS[c.plan_type])
    if medicare is None:
        return _Placed(c, BEFORE_MEDICARE)
    msp = msp_placement(patient, medicare, c, dos)
    return _Placed(c, BEFORE_MEDICARE if msp.group_primary else AFTER_MEDICARE, msp)


def _slot_order(group: list[_Placed], family: Family) -> tuple[list[_Placed], list[Rule]]:
    """One slot in paying order, and the rules between its neighbours."""
    if not group:
        return [], []
    slot = group[0].slot
    if slot in _COMMERCIAL_SLOTS:
        by_id = {id(p.coverage): p for p in group}
        plans, rules = naic_order([p.coverage for p in group], family)
        return [by_id[id(c)] for c in plans], rules
    if slot == ACCIDENT:
        group = sorted(group, key=lambda p: list(ACCIDENT_PLANS).index(p.coverage.plan_type))
        return group, [
            _between_accident_plans(h, low) for h, low in zip(group, group[1:], strict=False)
        ]
    return group, [SAME_CLASS] * (len(group) - 1)  # two Medicare, TRICARE or Medicaid plans


def _between_accident_plans(high: _Placed, low: _Placed) -> Rule:
    pair = (high.coverage.plan_type, low.coverage.plan_type)
    if pair == (PlanType.NO_FAULT, PlanType.LIABILITY):
        return NO_FAULT_BEFORE_LIABILITY
    return SAME_CLASS  # two plans of one kind; WC never meets the others (one related cause)


def _between_slots(high: _Placed, low: _Placed) -> Rule:
    """The rule that puts the last plan of one slot ahead of the first plan of a later slot."""
    if high.slot == ACCIDENT:
        return ACCIDENT_PLANS[high.coverage.plan_type].first
    if low.slot == MEDICAID:
        return MEDICAID_LAST
    if low.slot == TRICARE:
        return TRICARE_SECONDARY
    if low.slot == MEDIGAP:
        return MEDIGAP_AFTER_MEDICARE if high.slot == MEDICARE else MEDIGAP_WITHOUT_MEDICARE
    if high.slot == MEDIGAP:
        return MEDIGAP_AFTER_MEDICARE  # Medigap sits directly after Medicare
    # One side is Medicare, the other a commercial plan: the MSP rule that placed it.
    commercial = low if high.slot == MEDICARE else high
    assert commercial.msp is not None
    return commercial.msp.rule
