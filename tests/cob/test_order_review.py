"""A person's order when no order-of-benefits rule decides (NAIC MDL-120 §6 rule 6): the task's
text, the check on the order, and the decisions it leaves."""

from datetime import date

import pytest

from cob.coverages import ineligible_coverages
from cob.model import Benefits, Coverage, PayerOrder, Person, PlanType, Relationship
from cob.order import determine_payer_order
from cob.order_review import (
    chosen_order,
    manual_decisions,
    order_choice_problem,
    order_review_due,
    order_review_reason,
)

DOS = date(2026, 10, 7)
CHILD = Person(first_name="Kim", last_name="Doe", birth_date=date(2016, 9, 14))


def child_plan(payer_id: str, member_id: str, parent_born: str) -> Coverage:
    return Coverage(
        payer_id=payer_id, member_id=member_id, plan_type=PlanType.COMMERCIAL,
        relationship=Relationship.CHILD, effective_date=date(2020, 6, 1),
        subscriber=Person(first_name="P", last_name="Doe", birth_date=date.fromisoformat(parent_born)),
    )  # fmt: skip


ACME = child_plan("ACME01", "A1", "1984-03-10")
EMPL = child_plan("EMPL03", "E1", "1982-03-10")
BLUE = child_plan("BLUE02", "B1", "1984-03-10")


def tied_order() -> PayerOrder:
    """ACME01 and EMPL03 tie on every NAIC rule; BLUE02's 271 said inactive."""
    order = determine_payer_order(CHILD, [EMPL, ACME], DOS)
    inactive = Benefits(payer_id="BLUE02", member_id="B1", active=False,
                        plan_type=PlanType.COMMERCIAL, reason="member id not found")  # fmt: skip
    order.excluded.update(ineligible_coverages([BLUE], {BLUE.key: inactive}))
    return order


def problem(payer_ids: list[str], by: str = "dana", reason: str = "phoned EMPL03") -> str | None:
    return order_choice_problem(payer_ids, by, reason, tied_order(), [EMPL, ACME, BLUE])


def test_the_tie_needs_a_person_and_the_task_names_coverages_and_rule_without_member_ids():
    order = tied_order()
    assert order.needs_manual_review
    text = order_review_reason(order, "E9")
    assert "ACME01 (commercial, child, effective 2020-06-01), EMPL03 (commercial" in text
    assert "ACME01 before EMPL03: naic_undetermined_manual_review (NAIC MDL-120 §6 rule 6" in text
    assert text.endswith("cob order set E9 ACME01 EMPL03 --reason TEXT (payers first to last)")
    assert "A1" not in text.replace("ACME01", "") and "E1" not in text.replace("EMPL03", "")


def test_the_task_is_due_7_days_after_it_opens():
    assert order_review_due(date(2026, 11, 30)) == date(2026, 12, 7)


@pytest.mark.parametrize(
    ("payer_ids", "by", "reason", "refusal"),
    [
        (["EMPL03", "ACME01"], "dana", "phoned", None),
        (["EMPL03"], "dana", "phoned", "payer_ids: ACME01 is missing"),
        ([], "dana", "phoned", "payer_ids: ACME01 is missing"),
        (["EMPL03", "EMPL03", "ACME01"], "dana", "x", "payer_ids: EMPL03 is listed more than once"),
        (["EMPL03", "ACME01", "MCARE"], "dana", "x", "payer_ids: 'MCARE' is not a payer"),
        (["BLUE02", "EMPL03", "ACME01"], "dana", "x",
         "payer_ids: BLUE02 cannot be billed: not eligible (271): member id not found"),
        (["EMPL03", "ACME01"], " ", "phoned", "by: who sets the order is missing"),
        (["EMPL03", "ACME01"], "dana", "", "reason: why this order is missing"),
        (["EMPL03", "ACME01"], "dana", "x" * 501, "reason: 501 characters, more than 500"),
        (["EMPL03", "ACME01"], "d" * 101, "phoned", "by: 101 characters, more than 100"),
    ],
)  # fmt: skip
def test_an_order_lists_every_billable_payer_once_with_who_and_why(payer_ids, by, reason, refusal):
    found = problem(payer_ids, by, reason)
    assert found == refusal if refusal is None else found.startswith(refusal), found


def test_two_plans_of_one_payer_are_listed_twice_and_keep_their_order_between_them():
    second = child_plan("ACME01", "A2", "1984-03-10")
    order = PayerOrder(coverages=[ACME, EMPL, second], decisions=[])
    coverages = [ACME, EMPL, second]
    assert order_choice_problem(["ACME01", "EMPL03"], "d", "r", order, coverages) == (
        "payer_ids: ACME01 is missing; list every billable payer once: ACME01 EMPL03 ACME01"
    )
    assert order_choice_problem(["EMPL03", "ACME01", "ACME01"], "d", "r", order, coverages) is None
    assert chosen_order(["EMPL03", "ACME01", "ACME01"], order) == [EMPL, ACME, second]


def test_the_chosen_order_leaves_one_manual_decision_per_pair_naming_who_and_why():
    tried = tied_order().decisions
    [decision] = manual_decisions([EMPL, ACME], " dana ", " phoned EMPL03 ", tried)
    assert (decision.higher, decision.lower) == ("EMPL03:E1", "ACME01:A1")
    assert decision.rule == "manual_order by dana: phoned EMPL03"
    assert decision.citation.endswith("tried: naic_undetermined_manual_review")


def test_a_medicare_supplement_alone_is_explained_though_no_pair_was_tried():
    medigap = Coverage(payer_id="MGAP01", member_id="G1", plan_type=PlanType.MEDICARE_SUPPLEMENT,
                       effective_date=date(2020, 1, 1))  # fmt: skip
    order = determine_payer_order(CHILD, [medigap], DOS)
    assert order.needs_manual_review and order.decisions == []
    text = order_review_reason(order, "E9")
    assert "Rules tried: none between these plans; a Medicare supplement without the" in text
