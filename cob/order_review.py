"""When no order-of-benefits rule decides (cob.order: PayerOrder.needs_manual_review): the
worklist task that asks a person, the check on the order the person sets, and the decisions
that order leaves in the audit trail.

NAIC COB Model Regulation (MDL-120) section 6 rule 6: when no rule decides, the plans share the
expenses; a billing office cannot bill "shared", so a person finds out which plan pays first
(a COB questionnaire to the family, a call to the plans) and sets the order.

Pure: the encounter workflow asks these and records the answers. Task texts name payers, plan
types and rules, never a member id or a person's name.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from cob.model import Coverage, OrderDecision, PayerOrder, PlanType

# A week: every claim of the encounter waits on this, while the shortest timely filing window
# in the payer directory (90 days from the date of service) still leaves room to bill all
# payers; asking the family or the plans takes days, not hours. Industry practice; configurable.
ORDER_REVIEW_TASK_DAYS = 7
ORDER_REVIEW_KIND = "order_review"  # the worklist task's kind
MANUAL_RULE = "manual_order"  # the rule id of an order a person set
MAX_BY = 100  # characters: a user name
MAX_REASON = 500  # characters: one or two sentences for the audit trail

# Why a rule left the order to a person, in words (the rule ids: cob/naic.py, cob/msp.py,
# cob/order.py).
WHY_NO_RULE_DECIDES = {
    "naic_undetermined_manual_review": "no NAIC rule tells the two plans apart (same "
    "relationship, employment status and continuous coverage start)",
    "naic_conflicting_rules_manual_review": "the NAIC rules order these plans in a circle",
    "naic_parents_unknown_manual_review": "the child's parents' arrangement (married, apart, "
    "joint custody) or a subscriber is not known",
    "naic_court_decree_manual_review": "a court decree is said to apply but not whose plan it "
    "makes responsible",
    "naic_parent_role_unknown_manual_review": "the parents are apart without a decree and the "
    "subscribers' roles (custodial or not) are not known",
    "naic_no_cob_provision_manual_review": "neither plan has a COB provision",
    "same_class_manual_review": "two plans of the same kind: no rule orders them",
    "medigap_without_medicare_manual_review": "a Medicare supplement without the Medicare it "
    "supplements",
    "msp_esrd_manual_review": "the ESRD coordination period cannot be counted without the "
    "Medicare entitlement date",
    "msp_basis_unknown_manual_review": "Medicare under 65 with no basis given (disability or ESRD)",
    "msp_employer_size_unknown_manual_review": "the employer's size is not known",
}


def order_review_due(today: date) -> date:
    return today + timedelta(days=ORDER_REVIEW_TASK_DAYS)


def _payer_of(key: str) -> str:
    return key.split(":", 1)[0]  # Coverage.key is payer id:member id; only the payer is shown


def coverage_label(coverage: Coverage) -> str:
    """A coverage as a task shows it: payer, plan type, the patient's relationship, start."""
    return (
        f"{coverage.payer_id} ({coverage.plan_type}, {coverage.relationship}, "
        f"effective {coverage.effective_date.isoformat()})"
    )


def rule_tried(decision: OrderDecision) -> str:
    why = WHY_NO_RULE_DECIDES.get(decision.rule)
    return (
        f"{_payer_of(decision.higher)} before {_payer_of(decision.lower)}: {decision.rule} "
        f"({decision.citation}{': ' + why if why else ''})"
    )


def order_review_reason(order: PayerOrder, encounter_id: str) -> str:
    """The worklist task: the coverages to order, the rules tried and why none decided, and
    how to answer."""
    rules = "; ".join(rule_tried(d) for d in order.decisions) or "none between these plans"
    undecided = [d for d in order.decisions if d.rule.endswith("_manual_review")]
    if not undecided:
        types = {c.plan_type for c in order.coverages}
        if PlanType.MEDICARE_SUPPLEMENT in types and PlanType.MEDICARE not in types:
            rules += f"; {WHY_NO_RULE_DECIDES['medigap_without_medicare_manual_review']}"
        else:
            rules += "; the Medicare Secondary Payer placement needs a person's check"
    payers = " ".join(c.payer_id for c in order.coverages)
    return (
        f"no order-of-benefits rule decides which payer pays first; nothing is billed until "
        f"a person sets the order. Coverages (tentative order): "
        f"{', '.join(coverage_label(c) for c in order.coverages)}. Rules tried: {rules}. "
        f"Ask the family or the plans, then: cob order set {encounter_id} {payers} "
        "--reason TEXT (payers first to last)"
    )


def order_choice_problem(
    payer_ids: list[str], by: str, reason: str, order: PayerOrder, coverages: list[Coverage]
) -> str | None:
    """Why a person's order cannot be used, naming the field; None when it can. `order` is
    the tentative billing order (the coverages the 271s confirmed active, in force on the date
    of service), `coverages` every coverage of the encounter."""
    if not by.strip():
        return "by: who sets the order is missing"
    if len(by) > MAX_BY:
        return f"by: {len(by)} characters, more than {MAX_BY}"
    if not reason.strip():
        return "reason: why this order is missing"
    if len(reason) > MAX_REASON:
        return f"reason: {len(reason)} characters, more than {MAX_REASON}"
    billable = Counter(c.payer_id for c in order.coverages)
    every = " ".join(c.payer_id for c in order.coverages)
    known = {c.payer_id for c in coverages}
    for payer_id in dict.fromkeys(payer_ids):
        if payer_id not in known:
            return (
                f"payer_ids: {payer_id!r} is not a payer of this encounter; "
                f"list its billable payers once each: {every}"
            )
        if payer_id not in billable:
            why = "; ".join(r for key, r in order.excluded.items() if _payer_of(key) == payer_id)
            return f"payer_ids: {payer_id} cannot be billed: {why or 'not billable'}"
    listed = Counter(payer_ids)
    for payer_id, count in billable.items():
        if listed[payer_id] < count:
            return f"payer_ids: {payer_id} is missing; list every billable payer once: {every}"
        if listed[payer_id] > count:
            return f"payer_ids: {payer_id} is listed more than once; list each once: {every}"
    return None


def chosen_order(payer_ids: list[str], order: PayerOrder) -> list[Coverage]:
    """The coverages in the order a person set (checked by order_choice_problem); two
    coverages of one payer keep their tentative order between them."""
    left = list(order.coverages)
    chosen = []
    for payer_id in payer_ids:
        coverage = next(c for c in left if c.payer_id == payer_id)
        left.remove(coverage)
        chosen.append(coverage)
    return chosen


def manual_decisions(
    coverages: list[Coverage], by: str, reason: str, tried: list[OrderDecision]
) -> list[OrderDecision]:
    """The decisions a person's order adds to the audit trail, one per adjacent pair, naming
    who set it and why; the rules tried stay beside them."""
    rules = ", ".join(dict.fromkeys(d.rule for d in tried)) or "none"
    return [
        OrderDecision(
            higher=high.key,
            lower=low.key,
            rule=f"{MANUAL_RULE} by {by.strip()}: {reason.strip()}",
            citation=f"set by a person; no rule decided (NAIC MDL-120 §6 rule 6); tried: {rules}",
        )
        for high, low in zip(coverages, coverages[1:], strict=False)
    ]


def order_chosen_line(coverages: list[Coverage], by: str, reason: str) -> str:
    order = ", ".join(c.payer_id for c in coverages)
    return f"order set by {by.strip()}: {order} (first to last); why: {reason.strip()}"
