"""`cob explain order|payment`: a billing team checks one case by hand, JSON in, JSON out.

The rules are cob/'s; this module only reads the case, calls the rule and shapes the answer.
"""

from __future__ import annotations

from datetime import date

from rich.table import Table

from cob.benefits import SecondaryPaymentCase, secondary_payment
from cob.model import Coverage, Model, PayerOrder, Person, RelatedCause
from cob.order import determine_payer_order
from cob.validation import parse_input


class OrderCase(Model):
    """Who is covered, by what, on which date of service (and why, for accident or work)."""

    patient: Person
    service_date: date
    related_cause: RelatedCause | None = None
    coverages: list[Coverage]


def explain_order(data: object) -> dict:
    case = parse_input(OrderCase, data)
    order = determine_payer_order(
        case.patient, case.coverages, case.service_date, case.related_cause
    )
    return order_answer(order)


def order_answer(order: PayerOrder) -> dict:
    return {
        "order": [
            {
                "position": n,
                "payer_id": c.payer_id,
                "member_id": c.member_id,
                "plan_type": str(c.plan_type),
            }
            for n, c in enumerate(order.coverages, start=1)
        ],  # fmt: skip
        "decisions": [d.model_dump() for d in order.decisions],
        "excluded": order.excluded,
        "needs_manual_review": order.needs_manual_review,
    }


def order_table(answer: dict) -> Table:
    table = Table(title="Order of benefits")
    for column in ("#", "payer", "member", "plan type", "before the next, because"):
        table.add_column(column, overflow="fold")
    decisions = answer["decisions"]
    for i, payer in enumerate(answer["order"]):
        why = ""
        if i < len(decisions):
            why = f"{decisions[i]['rule']} ({decisions[i]['citation']})"
        table.add_row(
            str(payer["position"]), payer["payer_id"], payer["member_id"], payer["plan_type"], why
        )
    for key, reason in answer["excluded"].items():
        table.add_row("-", key, "", "excluded", reason)
    if answer["needs_manual_review"]:
        table.caption = "needs manual review: no rule decided every pair"
    return table


def explain_payment(data: object) -> dict:
    case = parse_input(SecondaryPaymentCase, data)
    result = secondary_payment(case)
    answer = result.model_dump(mode="json")
    answer["decided_by"] = result.deciding_step.name
    # The plan's basis and what it made the allowable expense (NAIC MDL-120 §3).
    answer["allowable_basis"] = str(case.allowable_basis)
    answer["allowable_expense"] = f"{case.allowable_shown} = {case.allowable}"
    return answer


def payment_table(answer: dict) -> Table:
    table = Table(title=f"Secondary payment: {answer['method']}")
    for column in ("step", "amount", "formula", "source", "decides"):
        table.add_column(column, overflow="fold")
    for step in answer["steps"]:
        table.add_row(step["name"], step["amount"], step["formula"], step["citation"],
                      "<- pays this" if step["won"] else "")  # fmt: skip
    table.caption = (
        f"open balance {answer['open_balance']} = paid {answer['paid']} + write-off "
        f"{answer['write_off']} + patient {answer['patient_responsibility']}; allowable "
        f"expense ({answer['allowable_basis']}): {answer['allowable_expense']}"
    )
    return table
