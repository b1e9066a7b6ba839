"""NAIC Model 120 order-of-benefit rules between two commercial plans: NAIC COB Model
Regulation (MDL-120) section 6 (see docs/order-of-benefits.md).

"Each plan determines its order of benefits using the first of the following rules that
applies": every rule below looks at two plans and answers with a Verdict, or None when it does
not apply. A Verdict with `first == 0` means the rule applies but cannot decide: a person must
(the rule id then ends in `_manual_review`). The Medicare reversal (rule 1a) is not here: it
only arises when Medicare sits between the two plans, and the MSP placement (cob/msp.py)
already puts the dependent's plan ahead of Medicare and the retiree plan behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple

from cob.model import Coverage, Employment, ParentRole, ParentsArrangement, Relationship


class Rule(NamedTuple):
    """A rule id for the audit trail and the source it comes from."""

    id: str
    citation: str


def _naic(rule_id: str, rule_number: str) -> Rule:
    return Rule(rule_id, f"NAIC MDL-120 §6 rule {rule_number}")


_GENERAL = "NAIC MDL-120 §6 general rules; Wis. Admin. Code Ins 3.40(11)(b)1"
NAIC_NO_COB_PROVISION = Rule("naic_no_cob_provision_first", _GENERAL)
NAIC_NO_COB_PROVISION_BOTH = Rule("naic_no_cob_provision_manual_review", _GENERAL)
NAIC_NONDEPENDENT = _naic("naic_nondependent_first", "1")
NAIC_PARENTS_UNKNOWN = _naic("naic_parents_unknown_manual_review", "2")
NAIC_BIRTHDAY = _naic("naic_birthday_rule", "2a(I)")
NAIC_BIRTHDAY_SAME_DAY = _naic("naic_birthday_same_day_longer_coverage", "2a(II)")
NAIC_COURT_DECREE = _naic("naic_court_decree", "2b(i)")
NAIC_COURT_DECREE_SPOUSE = _naic("naic_court_decree_parent_spouse", "2b(i)")
NAIC_COURT_DECREE_UNKNOWN = _naic("naic_court_decree_manual_review", "2b(i)")
NAIC_JOINT_CUSTODY = _naic("naic_joint_custody_birthday_rule", "2b(ii)")
NAIC_CUSTODIAL = _naic("naic_custodial_parent_order", "2b(iii)")
NAIC_CUSTODIAL_UNKNOWN = _naic("naic_parent_role_unknown_manual_review", "2b(iii)")
NAIC_ACTIVE = _naic("naic_active_before_inactive", "3")
NAIC_COBRA = _naic("naic_cobra_last", "4")
NAIC_LONGER = _naic("naic_longer_coverage", "5")
NAIC_UNDETERMINED = _naic("naic_undetermined_manual_review", "6")
NAIC_CONFLICT = _naic("naic_conflicting_rules_manual_review", "6")


class Verdict(NamedTuple):
    first: int  # < 0: a pays first; > 0: b pays first; 0: the rule cannot decide (manual review)
    rule: Rule


class Family(NamedTuple):
    """Facts about the child's parents that no single pair of plans carries."""

    arrangement: ParentsArrangement | None  # None: the plans disagree about it
    decree_first: frozenset[str]  # keys of the plans a court decree makes primary
    decree_rule: Rule


NO_FAMILY = Family(ParentsArrangement.MARRIED, frozenset(), NAIC_COURT_DECREE_UNKNOWN)
CUSTODIAL_ORDER = list(ParentRole)  # custodial, custodial's spouse, non-custodial, its spouse


def _sign(a: Any, b: Any) -> int:
    """-1 when `a` comes first (is smaller), 1 when `b` does, 0 on a tie."""
    return int(a > b) - int(a < b)


def _decide(a_first: bool, b_first: bool, rule: Rule) -> Verdict | None:
    return Verdict(int(b_first) - int(a_first), rule) if a_first != b_first else None


def continuous_start(c: Coverage) -> date:
    """The start of the person's continuous coverage: consecutive plans count as one when the
    next began within 24 hours of the end of the last (NAIC MDL-120 §6 rule 5)."""
    start = c.effective_date
    bridged = True
    while bridged:
        bridged = False
        for period in c.prior_periods:
            if period.start < start and (start - period.end).days <= 1:
                start, bridged = period.start, True
    return start


def family_of(plans: list[Coverage]) -> Family:
    """The parents' arrangement and who a court decree makes primary, from every plan that
    covers the patient as a child."""
    children = [c for c in plans if c.relationship is Relationship.CHILD]
    arrangements = {c.parents for c in children if c.parents is not None}
    if len(arrangements) > 1:
        return NO_FAMILY._replace(arrangement=None)
    arrangement = arrangements.pop() if arrangements else ParentsArrangement.MARRIED
    if arrangement is not ParentsArrangement.COURT_DECREE:
        return NO_FAMILY._replace(arrangement=arrangement)
    unknown = Family(arrangement, frozenset(), NAIC_COURT_DECREE_UNKNOWN)
    responsible = [c for c in children if c.decree_responsible]
    if responsible:
        if len({_person(c) for c in responsible}) > 1:
            return unknown  # two responsible parents is joint responsibility: a wrong input
        return Family(arrangement, frozenset(c.key for c in responsible), NAIC_COURT_DECREE)
    # The responsible parent does not cover the child: that parent's spouse's plan is
    # primary. The other parent's plan (not responsible) says which side that is.
    roles = {c.parent_role for c in children}
    sides = {
        ParentRole.CUSTODIAL_PARENT: ParentRole.NONCUSTODIAL_PARENT_SPOUSE,
        ParentRole.NONCUSTODIAL_PARENT: ParentRole.CUSTODIAL_PARENT_SPOUSE,
    }
    spouse_roles = {spouse for other, spouse in sides.items() if other in roles}
    if len(spouse_roles) != 1:
        return unknown
    spouse_role = spouse_roles.pop()
    first = frozenset(c.key for c in children if c.parent_role is spouse_role)
    return Family(arrangement, first, NAIC_COURT_DECREE_SPOUSE) if first else unknown


def _person(c: Coverage) -> str:
    return c.subscriber.model_dump_json() if c.subscriber is not None else f"?{c.key}"


# --- the rules, in the model's order --------------------------------------------------------


def _cob_provision(a: Coverage, b: Coverage, family: Family) -> Verdict | None:
    if not a.has_cob_provision and not b.has_cob_provision:
        return Verdict(0, NAIC_NO_COB_PROVISION_BOTH)
    return _decide(not a.has_cob_provision, not b.has_cob_provision, NAIC_NO_COB_PROVISION)


def _nondependent(a: Coverage, b: Coverage, family: Family) -> Verdict | None:
    # SELF covers the person as employee/member/retiree; spouse, child and other as dependents
    self_ = Relationship.SELF
    return _decide(a.relationship is self_, b.relationship is self_, NAIC_NONDEPENDENT)


def _dependent_child(a: Coverage, b: Coverage, family: Family) -> Verdict | None:
    if a.relationship is not Relationship.CHILD or b.relationship is not Relationship.CHILD:
        return None
    if a.subscriber is not None and a.subscriber == b.subscriber:
        return None  # one parent's two plans: rules 3 to 5 decide
    arrangement = family.arrangement
    if arrangement is None:
        return Verdict(0, NAIC_PARENTS_UNKNOWN)
    if arrangement is ParentsArrangement.COURT_DECREE:
        if not family.decree_first:
            return Verdict(0, family.decree_rule)
        # The decree names the primary plan only; rules 3 to 5 order the other plans.
        first = family.decree_first
        return _decide(a.key in first, b.key in first, family.decree_rule)
    if arrangement is ParentsArrangement.NO_DECREE:
        if a.parent_role is None or b.parent_role is None or a.parent_role is b.parent_role:
            return Verdict(0, NAIC_CUSTODIAL_UNKNOWN)
        rank = CUSTODIAL_ORDER.index
        return Verdict(_sign(rank(a.parent_role), rank(b.parent_role)), NAIC_CUSTODIAL)
    # Married or living together (2a), or joint custody (2b(ii)): the birthday rule.
    rule = NAIC_BIRTHDAY if arrangement is ParentsArrangement.MARRIED else NAIC_JOINT_CUSTODY
    if a.subscriber is None or b.subscriber is None:
        return Verdict(0, NAIC_PARENTS_UNKNOWN)
    # Month and day only; the year is ignored (N.J.A.C. 11:4-28.6(b)3)
    birthday_a, birthday_b = (
        (s.birth_date.month, s.birth_date.day) for s in (a.subscriber, b.subscriber)
    )
    if birthday_a != birthday_b:
        return Verdict(_sign(birthday_a, birthday_b), rule)
    longer = _sign(continuous_start(a), continuous_start(b))
    return Verdict(longer, NAIC_BIRTHDAY_SAME_DAY) if longer else None


def _active_before_inactive(a: Coverage, b: Coverage, family: Family) -> Verdict | None:
    if not (a.applies_active_inactive_rule and b.applies_active_inactive_rule):
        return None  # the other plan lacks the rule: ignored
    active, inactive = Employment.ACTIVE, {Employment.RETIRED, Employment.LAID_OFF}
    ea, eb = a.subscriber_employment, b.subscriber_employment
    return _decide(ea is active and eb in inactive, eb is active and ea in inactive, NAIC_ACTIVE)


def _cobra_last(a: Coverage, b: Coverage, family: Family) -> Verdict | None:
    if not (a.applies_cobra_rule and b.applies_cobra_rule):
        return None  # the other plan lacks the rule: ignored
    cobra = Employment.COBRA
    a_first, b_first = a.subscriber_employment is not cobra, b.subscriber_employment is not cobra
    return _decide(a_first, b_first, NAIC_COBRA)


def _longer_coverage(a: Coverage, b: Coverage, family: Family) -> Verdict | None:
    longer = _sign(continuous_start(a), continuous_start(b))
    return Verdict(longer, NAIC_LONGER) if longer else None


NAIC_RULES: list[Callable[[Coverage, Coverage, Family], Verdict | None]] = [
    _cob_provision,
    _nondependent,
    _dependent_child,
    _active_before_inactive,
    _cobra_last,
    _longer_coverage,
]


def naic_compare(a: Coverage, b: Coverage, family: Family = NO_FAMILY) -> Verdict:
    """The first NAIC rule that applies to two commercial plans (NAIC MDL-120 §6)."""
    for rule in NAIC_RULES:
        if (verdict := rule(a, b, family)) is not None:
            return verdict
    return Verdict(0, NAIC_UNDETERMINED)


def naic_order(plans: list[Coverage], family: Family) -> tuple[list[Coverage], list[Rule]]:
    """Plans in NAIC order, and the rule deciding each adjacent pair (`rules[k]` puts
    `plans[k]` ahead of `plans[k + 1]`). Each next plan is one that no remaining plan beats,
    the earliest listed among equals (callers list in a canonical order). First-rule-that-applies
    is not always transitive (A before B before C before A): every adjacent pair that such a
    contradiction spans is then left to a person (NAIC_CONFLICT)."""
    verdicts = {
        (i, j): naic_compare(a, b, family)
        for i, a in enumerate(plans)
        for j, b in enumerate(plans)
        if i != j
    }
    remaining, order = list(range(len(plans))), []
    while remaining:
        beaten = {j: sum(verdicts[i, j].first < 0 for i in remaining if i != j) for j in remaining}
        pick = min(remaining, key=lambda j: (beaten[j], j))
        remaining.remove(pick)
        order.append(pick)
    spanned = {
        cut
        for high, i in enumerate(order)
        for low in range(high + 1, len(order))
        if verdicts[i, order[low]].first > 0
        for cut in range(high, low)
    }
    rules = [
        NAIC_CONFLICT if k in spanned else verdicts[order[k], order[k + 1]].rule
        for k in range(len(order) - 1)
    ]
    return [plans[i] for i in order], rules
