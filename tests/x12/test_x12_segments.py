"""The X12 segment and envelope layer: separators from the ISA, counts and control numbers
checked, and every error naming the segment and its position."""

from __future__ import annotations

from datetime import datetime

import pytest

from payers.x12.segments import X12Error, build_interchange, parse_interchange, seg

WHEN = datetime(2026, 10, 1, 12, 30)


def two_transactions() -> str:
    body = [seg("BHT", "0019", "00", "REF1", "20261001", "1230", "CH"), seg("NM1", "41", "2", "CLINIC")]
    return build_interchange("HC", "005010X222A1", [("837", body), ("837", body)],
                             "SENDER", "RECEIVER", 42, WHEN)  # fmt: skip


def test_built_interchange_parses_back_with_its_counts():
    interchange = parse_interchange(two_transactions())
    assert [t.code for t in interchange.transactions] == ["837", "837"]
    assert interchange.transactions[0].version == "005010X222A1"
    assert interchange.transactions[1].se[1] == "4"  # ST + 2 segments + SE
    assert interchange.isa[13] == "000000042" and len(two_transactions().split("\n")[0]) == 106


def test_separators_come_from_the_isa():
    text = two_transactions().replace("*", "|").replace("~", "!")
    interchange = parse_interchange(text)
    assert interchange.separators.element == "|" and interchange.separators.segment == "!"
    assert interchange.transactions[0].body[1][3] == "CLINIC"


def test_truncated_file_names_the_last_segment():
    text = two_transactions().rsplit("GE*", 1)[0]
    with pytest.raises(X12Error, match=r"segment SE at position 10: the interchange is truncated"):
        parse_interchange(text)


def test_wrong_se_count_is_reported_at_the_se():
    text = two_transactions().replace("SE*4*0001", "SE*5*0001")
    with pytest.raises(X12Error, match=r"segment SE at position 6: SE01 says 5 segments, the transaction has 4"):
        parse_interchange(text)


def test_wrong_group_count_is_reported_at_the_ge():
    text = two_transactions().replace("GE*2*42", "GE*3*42")
    with pytest.raises(X12Error, match=r"segment GE"):
        parse_interchange(text)


def test_not_an_interchange():
    with pytest.raises(X12Error, match="must start with ISA"):
        parse_interchange("GS*HC*X~")
    with pytest.raises(X12Error, match="106 expected"):
        parse_interchange("ISA*00*~")
