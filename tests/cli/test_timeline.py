"""`cob timeline`: one readable line per audit step. An encounter runs on the time-skipping
server against a payer set to underpay 10% (`POST /admin/underpay`); the timeline then names
the payer's eligibility terms, the order and its rule, the 835's amounts and the payment
review's expected, paid and variance line by line. Old rows without a reason read as well."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import httpx

from cli.ledger_commands import step_summary
from contract import search_attributes as sa
from tests.cli.test_cli import cob
from tests.workflow_harness import example, run_encounter, running_worker, search_attribute_values


async def test_timeline_of_an_underpaid_claim_shows_expected_paid_and_variance_per_line(
    client, simulator, tmp_path: Path
):
    # ACME01, deductible met (members.json): 99213 allowed 128.80 - copay 25.00 - 20% = 83.04
    # expected; 85025 allowed 10.85, 20% coinsurance 2.17, 8.68 expected. 10% less: 74.74, 7.81.
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    answer = httpx.post(f"{simulator.url}/admin/underpay",
                        json={"payer_id": "ACME01", "percent": "10"})  # fmt: skip
    assert answer.status_code == 200
    async with running_worker(client, simulator.url, ledger, tmp_path) as settings:
        encounter = example("01-commercial", encounter_id="E1001-timeline")
        handle, status = await run_encounter(client, settings, encounter)
        assert (await search_attribute_values(client, handle.id)).get(sa.UNDERPAID.name) is True
    review = status.claims[0].payment_review
    assert review is not None and review.underpaid
    assert [(ln.expected, ln.paid) for ln in review.lines] == [
        (Decimal("83.04"), Decimal("74.74")),
        (Decimal("8.68"), Decimal("7.81")),
    ]

    shown = await asyncio.to_thread(cob, "timeline", "E1001-timeline", env={"DATABASE_URL": ledger})
    assert shown.returncode == 0, shown.stderr
    rows = {line.split()[2]: line for line in shown.stdout.splitlines()}
    assert "ACME01: active, commercial plan, deductible left 0.00" in rows["eligibility"]
    assert "coinsurance 20%, copay 25.00" in rows["eligibility"]
    assert (
        "service date" in rows["encounter_started"] and "charge 195.00" in rows["encounter_started"]
    )
    assert (
        "ACME01 CLP02 1 on claim E1001-timeline-1-1: paid 82.55, patient 57.10 over 2 line(s) (CO-45, PR-2, PR-3)"
        in (rows["remittance"])
    )
    assert "ACME01: expected 91.72, paid 82.55, variance -9.17" in rows["payment_review"]
    assert "line 1 expected 83.04 paid 74.74 variance -8.30" in rows["payment_review"]
    assert "line 2 expected 8.68 paid 7.81 variance -0.87" in rows["payment_review"]
    assert "patient owes 57.10" in rows["encounter_closed"]
    assert "Smith" not in shown.stdout and "ACM100200300" not in shown.stdout  # no patient data


def test_rows_written_before_activities_gave_reasons_still_read():
    eligibility = {"payer_id": "BLUE02", "member_id": "BSH1", "active": True,
                   "plan_type": "commercial", "deductible_remaining": "250.00",
                   "coinsurance": "0.10", "copay": "0.00"}  # fmt: skip
    assert step_summary(eligibility, "eligibility") == (
        "BLUE02: active, commercial plan, deductible left 250.00, coinsurance 10%"
    )
    order = {"order": ["MCARE:1EG4TE5MK72", "MGAP01:G1"], "excluded": {"ACME01:A9": "ended"},
             "decisions": [{"higher": "MCARE:1EG4TE5MK72", "lower": "MGAP01:G1",
                            "rule": "medigap_after_medicare", "citation": "42 CFR 403.205"}],
             "needs_manual_review": False}  # fmt: skip
    assert step_summary(order, "payer_order") == (
        "order MCARE, MGAP01 by medigap_after_medicare; not billed: ACME01"
    )
    review = {"summary": "ACME01: UNDERPAID 4.03 (line 1 -4.03): review or appeal",
              "lines": [{"line_number": 1, "paid": "36.29", "expected": "40.32", "working": ""},
                        {"line_number": 2, "paid": "0.00", "expected": None, "working": ""}]}  # fmt: skip
    assert step_summary(review, "payment_review") == (
        "ACME01: UNDERPAID 4.03 (line 1 -4.03): review or appeal; line 1 expected 40.32 paid "
        "36.29 variance -4.03; line 2 denied, not reviewed"
    )
    assert step_summary({"status": "approved", "payer_id": "ACME01",
                         "authorization_number": "PA1", "reason": "certified: 73721"},
                        "prior_auth") == "ACME01: approved PA1: certified: 73721"  # fmt: skip
    assert step_summary({"reason": "held"}, "some_new_kind") == "held"
    assert step_summary({"lines": "not a list"}, "remittance") == ""  # never a traceback
