"""`cob list`: the visibility query it sends (run against the dev server in test_end_to_end)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cli.encounters import list_query
from cob.validation import InvalidInput


def test_filters_become_one_query_on_our_search_attributes():
    assert list_query() == "WorkflowType = 'EncounterWorkflow'"
    assert list_query("held", "MCARE", Decimal("25.00")) == (
        "WorkflowType = 'EncounterWorkflow' AND CobStage = 'held' AND "
        "CobCurrentPayer = 'MCARE' AND CobPatientBalance > 25.00"
    )


def test_a_value_that_could_change_the_query_is_refused_naming_the_option():
    with pytest.raises(InvalidInput, match="--stage: \"x' OR 1=1\" is not a stage"):
        list_query(stage="x' OR 1=1")
    with pytest.raises(InvalidInput, match="--payer"):
        list_query(payer="MC ARE")
