"""The patient accounts' API as people use it: `cob api` and `cob worker` as real processes on
a real dev server with the payer simulator and a SQLite ledger (conftest.running_console),
users of every role with real tokens. Each test bills example 01 to an account of its own
(a patient of its own: one account per guarantor) and works it through the API."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from contract.accounts import account_workflow_id
from ledger.db import make_engine
from ledger.queries import audit_events
from tests.console.conftest import EXAMPLES, Console, wait_until

# the API's answer to a role that may not, for each new action
BILLER_MAY_NOT = "resolve disputes, set payment plans, record refunds and assistance decisions"
AUDITOR_MAY_NOT = "post payments, record disputes and assistance applications"


@pytest.fixture(scope="module")
def console(console_stack: Console) -> Console:
    return console_stack


def billed(console: Console, encounter_id: str, last_name: str) -> dict[str, Any]:
    """Example 01 for a patient named `last_name`, through the API, once its account has
    issued its first statement and recorded every step: the account's status."""
    data = json.loads((EXAMPLES / "01-commercial.json").read_text())
    data["patient"]["last_name"] = last_name
    console.start({**data, "encounter_id": encounter_id})

    def ready() -> dict[str, Any] | None:
        answer = console.call("GET", f"/api/accounts/{encounter_id}", "carol")
        status = answer.json() if answer.status_code == 200 else None
        return status if status and status["statements"] and not status["busy"] else None

    return wait_until(ready, 60, f"{encounter_id}'s account and its first statement")


def settled(console: Console, account_id: str) -> dict[str, Any]:
    """The account's status once every step it took is in the ledger."""

    def ready() -> dict[str, Any] | None:
        status = console.call("GET", f"/api/accounts/{account_id}", "carol").json()
        return None if status["busy"] else status

    return wait_until(ready, 10, f"account {account_id} recording its steps")


def trail(console: Console, account_id: str) -> list[dict[str, Any]]:
    return audit_events(make_engine(console.ledger_url), account_workflow_id(account_id))


ACTIONS = [
    ("POST", "/api/accounts/A1/payments", {"amount": "5.00"}, AUDITOR_MAY_NOT),
    ("POST", "/api/accounts/A1/disputes", {"dispute_id": "D1", "reason": "r"}, AUDITOR_MAY_NOT),
    ("POST", "/api/accounts/A1/assistance", {"application_id": "FA1"}, AUDITOR_MAY_NOT),
    ("POST", "/api/accounts/A1/disputes/D1/resolution", {"outcome": "upheld"}, BILLER_MAY_NOT),
    ("POST", "/api/accounts/A1/plan", {"installments": 2, "day_of_month": 5}, BILLER_MAY_NOT),
    ("POST", "/api/accounts/A1/refunds", {"amount": "5.00", "reference": "R"}, BILLER_MAY_NOT),
    ("POST", "/api/accounts/A1/assistance/FA1/decision", {"outcome": "denied"}, BILLER_MAY_NOT),
]


def test_each_role_is_refused_the_account_actions_it_may_not_take(console: Console):
    for method, path, body, does in ACTIONS:
        assert console.call(method, path, json=body).status_code == 401, path
        auditor = console.call(method, path, "carol", json=body)
        assert auditor.status_code == 403, path
        assert auditor.json()["detail"].startswith("auditor carol may not "), path
        biller = console.call(method, path, "ana", json=body)
        if does == BILLER_MAY_NOT:
            assert (biller.status_code, biller.json()["detail"]) == (
                403, f"biller ana may not {does}"
            ), path  # fmt: skip
        else:  # a biller may: the account is not there
            assert biller.status_code == 404, path
        # a supervisor may do everything here: 404, there is no account A1
        assert console.call(method, path, "sue", json=body).status_code == 404, path
    assert console.call(
        "POST", "/api/accounts/A1/payments", "carol", json={"amount": "5.00"}
    ).json() == {"detail": f"auditor carol may not {AUDITOR_MAY_NOT}"}
    # an auditor reads the account and its statements: 404, not 403
    for path in ("/api/accounts/A1", "/api/accounts/A1/statements/x"):
        assert console.call("GET", path, "carol").status_code == 404, path
    assert console.call("GET", "/api/accounts/A1/statements", "carol").json() == []


def test_a_payment_posted_through_the_api_shows_in_the_status_and_the_audit_trail(
    console: Console,
):
    status = billed(console, "E1001-acct-api-pay", "Okafor")
    account_id, owed = status["account_id"], Decimal(status["balance"])
    body = {"amount": "10.00", "method": "check", "reference": "555"}
    posted = console.call("POST", "/api/accounts/E1001-acct-api-pay/payments", "ana", json=body)
    again = console.call("POST", f"/api/accounts/account-{account_id}/payments", "bea", json=body)
    after = settled(console, account_id)
    assert posted.status_code == 200, posted.text
    receipt = posted.json()
    assert receipt["payment_id"] == "check-555" and receipt["duplicate"] is False
    assert sum(Decimal(a["amount"]) for a in receipt["applied"]) == Decimal("10.00")
    assert {a["encounter_id"] for a in receipt["applied"]} == {"E1001-acct-api-pay"}
    assert again.json() == {**receipt, "duplicate": True}  # posted once
    assert Decimal(after["balance"]) == owed - Decimal("10.00")
    events = trail(console, account_id)
    sent = [e["detail"] for e in events if e["kind"] == "payment_sent"]
    assert [(d["by"], d["role"], d["payment_id"], d["duplicate"]) for d in sent] == [
        ("ana", "biller", "check-555", False),
        ("bea", "biller", "check-555", True),
    ]
    assert sent[0]["reason"] == "payment check-555 of 10.00 posted by ana"
    taken = [e["detail"] for e in events if e["kind"] == "patient_payment"]
    assert [(d["amount"], d["by"]) for d in taken] == [("10.00", "ana")]  # the workflow's step


def test_bad_input_is_a_422_and_the_accounts_refusal_a_409_with_its_reason(console: Console):
    status = billed(console, "E1001-acct-api-bad", "Lindqvist")
    path = f"/api/accounts/{status['account_id']}"

    def pay(body: dict[str, Any]) -> tuple[int, str]:
        answer = console.call("POST", f"{path}/payments", "ana", json=body)
        return answer.status_code, answer.json()["detail"]

    assert pay({"amount": "12.345"}) == (422, "amount: 12.345 is not exact to the cent")
    assert pay({"amount": "-1"})[0] == 422
    assert pay({"amount": "5.00", "encounter": "E1"}) == (
        422,
        "encounter: Extra inputs are not permitted",
    )
    assert pay({"amount": "5.00", "encounter_id": "E9"}) == (
        422, f"encounter_id: E9 is not on account {status['account_id']} (its encounters: "
        "E1001-acct-api-bad)",
    )  # fmt: skip
    future = pay({"amount": "5.00", "received_on": "2999-01-01"})
    assert future[0] == 409 and future[1].startswith("received_on: 2999-01-01 is after today")
    refund = console.call(
        "POST", f"{path}/refunds", "sue", json={"amount": "5.00", "reference": "R1"}
    )
    assert (refund.status_code, refund.json()["detail"]) == (
        409, "amount: 5.00 is more than the 0.00 credit"
    )  # fmt: skip
    unknown = console.call("GET", "/api/accounts/A000NOSUCH", "carol")
    assert (
        unknown.status_code == 404 and "no patient account A000NOSUCH" in unknown.json()["detail"]
    )
    assert console.call("GET", "/api/accounts/bad%20id", "carol").status_code == 422
    after = settled(console, status["account_id"])
    assert after["balance"] == status["balance"]  # nothing was posted
    assert not [e for e in trail(console, status["account_id"]) if e["kind"] == "payment_sent"]


def test_a_biller_records_a_dispute_and_a_supervisor_resolves_it_each_named(console: Console):
    status = billed(console, "E1001-acct-api-dispute", "Haddad")
    path = f"/api/accounts/{status['account_id']}"
    body = {"dispute_id": "D1", "reason": "the lab test was never done"}
    opened = console.call("POST", f"{path}/disputes", "ana", json=body)
    assert opened.status_code == 200, opened.text
    assert opened.json()["paused"] and opened.json()["open_disputes"] == ["D1"]
    resolution = {"outcome": "adjusted", "amount": "5.00", "note": "lab line removed"}
    resolved = console.call("POST", f"{path}/disputes/D1/resolution", "sue", json=resolution)
    assert resolved.status_code == 200, resolved.text
    after = settled(console, status["account_id"])
    assert Decimal(after["balance"]) == Decimal(status["balance"]) - Decimal("5.00")
    assert not after["paused"]
    events = trail(console, status["account_id"])
    by = {e["kind"]: e["detail"]["by"] for e in events if "by" in e["detail"]}
    # the API's record of each action, and the workflow's own step with the `by` it was sent
    assert by["dispute_sent"] == by["dispute_opened"] == "ana"
    assert by["dispute_resolution_sent"] == by["dispute_resolved"] == "sue"


def test_a_plan_and_an_assistance_decision_by_a_supervisor(console: Console):
    status = billed(console, "E1001-acct-api-plan", "Castellano")
    path = f"/api/accounts/{status['account_id']}"
    both = console.call("POST", f"{path}/plan", "sue",
                        json={"installments": 2, "monthly_amount": "25.00", "day_of_month": 5})  # fmt: skip
    assert both.status_code == 422 and "installments or its monthly_amount" in both.json()["detail"]
    plan = console.call("POST", f"{path}/plan", "sue",
                        json={"monthly_amount": "25.00", "day_of_month": 5})  # fmt: skip
    assert plan.status_code == 200, plan.text
    assert plan.json()["paused"] and plan.json()["plan"]["total"] == status["balance"]
    applied = console.call("POST", f"{path}/assistance", "ana", json={"application_id": "FA1"})
    assert applied.status_code == 200 and applied.json()["assistance_pending"] == ["FA1"]
    decided = console.call("POST", f"{path}/assistance/FA1/decision", "sue",
                           json={"outcome": "approved", "percent": "100"})  # fmt: skip
    assert decided.status_code == 200, decided.text
    after = settled(console, status["account_id"])
    assert after["balance"] == "0.00"
    events = trail(console, status["account_id"])
    kinds = [e["kind"] for e in events]
    assert {"plan_sent", "plan_agreed", "assistance_application_sent",
            "assistance_decision_sent", "assistance_decided"} <= set(kinds)  # fmt: skip
    decided_step = [e["detail"] for e in events if e["kind"] == "assistance_decided"]
    assert decided_step[0]["by"] == "sue" and decided_step[0]["written_off"] == status["balance"]


def test_statements_are_listed_and_their_pdf_served_by_name_only(console: Console):
    status = billed(console, "E1001-acct-api-statements", "Nakamura")
    path = f"/api/accounts/{status['account_id']}/statements"
    listed = console.call("GET", "/api/accounts/E1001-acct-api-statements/statements", "carol")
    assert listed.status_code == 200
    (row,) = listed.json()
    assert row["step"] == "statement" and row["amount_due"] == status["balance"]
    assert row["pdf_url"] == f"{path}/{row['name']}"
    pdf = console.call("GET", row["pdf_url"], "carol")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf.headers["cache-control"] == "no-store"
    for name in ("nope", "..%2F..%2Fledger.db", row["name"] + ".txt"):
        assert console.call("GET", f"{path}/{name}", "carol").status_code == 404, name
