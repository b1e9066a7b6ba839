"""`cob list`: the visibility query it sends (run against the dev server in test_end_to_end),
and `--underpaid` listing from a dev server's visibility store."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cli.encounters import list_query, parse_within
from cob.validation import InvalidInput
from contract import search_attributes as sa
from workers.devserver import DevServer, free_port
from workers.temporal import connect


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


def test_underpaid_asks_for_cob_underpaid_true_beside_the_other_filters():
    assert list_query(underpaid=True) == (
        "WorkflowType = 'EncounterWorkflow' AND CobUnderpaid = true"
    )
    assert list_query(payer="ACME01", underpaid=True) == (
        "WorkflowType = 'EncounterWorkflow' AND CobCurrentPayer = 'ACME01' AND CobUnderpaid = true"
    )


async def test_cob_list_underpaid_lists_only_the_encounter_flagged_true(tmp_path: Path):
    """Two encounter workflows on a real dev server (no worker: they wait with the search
    attributes they started with), one with CobUnderpaid true and one false."""
    from temporalio.common import SearchAttributePair, TypedSearchAttributes

    server = DevServer(tmp_path / "temporal", port=free_port(), ui_port=None)
    await server.start()
    try:
        client = await connect(server.address)
        for workflow_id, flag in (("encounter-E-UNDER", True), ("encounter-E-FULL", False)):
            attributes = [SearchAttributePair(sa.UNDERPAID, flag),
                          SearchAttributePair(sa.STAGE, "closed")]  # fmt: skip
            await client.start_workflow(
                "EncounterWorkflow", id=workflow_id, task_queue="no-worker-here",
                search_attributes=TypedSearchAttributes(attributes),
            )  # fmt: skip
        env = {**os.environ, "TEMPORAL_ADDRESS": server.address}
        cob_list = [sys.executable, "-m", "cli.main", "list", "--underpaid"]
        root = Path(__file__).resolve().parents[2]
        for _ in range(50):  # the visibility store catches up within moments
            listed = subprocess.run(
                cob_list, cwd=root, env=env, capture_output=True, text=True, timeout=120
            )
            assert listed.returncode == 0, listed.stderr
            if "encounter-E-UNDER" in listed.stdout:
                break
            await asyncio.sleep(0.2)
        assert "CobUnderpaid = true" in listed.stdout and "1 encounter(s)" in listed.stdout
        row = next(line for line in listed.stdout.splitlines() if "encounter-E-UNDER" in line)
        assert "yes" in row and "encounter-E-FULL" not in listed.stdout
    finally:
        server.stop()
