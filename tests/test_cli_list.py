"""`cob list`: the visibility query it sends (run against the dev server in test_end_to_end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

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
