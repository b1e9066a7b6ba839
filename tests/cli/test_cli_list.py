"""`cob list`: the visibility query it sends (run against the dev server in test_end_to_end)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cli.encounters import list_query, parse_within
from cob.validation import InvalidInput


def test_filters_become_one_query_on_our_search_attributes():
    assert list_query() == "WorkflowType = 'EncounterWorkflow'"
    assert list_query("held", "MCARE", Decimal("25.00")) == (
        "WorkflowType = 'EncounterWorkflow' AND CobStage = 'held' AND "
        "CobCurrentPayer = 'MCARE' AND CobPatientBalance > 25.00"
    )


def test_a_value_that_could_change_the_query_is_refused_naming_the_option():
    with pytest.raises(InvalidInput, match='--stage: "x\' OR 1=1" is not a stage'):
        list_query(stage="x' OR 1=1")
    with pytest.raises(InvalidInput, match="--payer"):
        list_query(payer="MC ARE")


def test_deadline_within_is_a_day_count_and_includes_overdue_deadlines():
    assert parse_within("14d") == parse_within("14") == parse_within("2w") == timedelta(days=14)
    for bad in ("14h", "-3d", "two weeks", ""):
        with pytest.raises(InvalidInput, match="--deadline-within"):
            parse_within(bad)
    by = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert list_query(stage="awaiting_remittance", deadline_by=by) == (
        "WorkflowType = 'EncounterWorkflow' AND CobStage = 'awaiting_remittance' AND "
        "CobNextDeadline <= '2026-12-07T09:30:00Z'"
    )


def test_balance_over_is_a_plain_amount_the_query_can_carry():
    from cli.encounters import parse_balance_over

    assert parse_balance_over("25.00") == Decimal("25.00")
    assert str(parse_balance_over("1e3")) == "1000"  # never 1E+3 in the query
    assert str(parse_balance_over("-0")) == "0"
    assert str(parse_balance_over("100000000")) == "100000000"


@pytest.mark.parametrize(
    "value",
    ["-1", "-0.01", "NaN", "sNaN", "inf", "-Infinity", "100000000.01", "1e400", "abc", "", "25,00"],
)
def test_balance_over_out_of_range_or_not_a_number_is_refused_naming_the_option(value: str):
    from cli.encounters import parse_balance_over

    with pytest.raises(InvalidInput, match=r"^--balance-over: .* is not an amount"):
        parse_balance_over(value)


@pytest.mark.parametrize("value", ["-5", "NaN", "inf", "100000001", "ten"])
def test_cob_list_refuses_a_bad_balance_with_exit_2_and_one_line(value: str):
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "list", f"--balance-over={value}"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "TEMPORAL_ADDRESS": "127.0.0.1:1"},  # never reached
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"--balance-over: '{value}' is not an amount")
