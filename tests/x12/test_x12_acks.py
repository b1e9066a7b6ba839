"""999 and 277CA: built files are pyx12-valid and parse back (005010X231A1, 005010X214)."""

from __future__ import annotations

import io
import tempfile
from datetime import date, datetime
from decimal import Decimal as D

import pytest
import pyx12.params
import pyx12.x12n_document

from cob.model import ClaimAcknowledgment
from payers.x12.acknowledgments import AckError, build_277ca, build_999, parse_277ca, parse_999
from payers.x12.segments import X12Error

WHEN = datetime(2024, 2, 2, 12, 0)


def pyx12_valid(text: str) -> bool:
    with tempfile.NamedTemporaryFile("w", suffix=".x12", delete=False) as f:
        f.write(text)
    return pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=f.name, fd_997=io.StringIO(), fd_html=None
    )


def test_accepted_999_is_valid_and_parses():
    text = build_999(True, "17", "0001", "005010X222A1", None, WHEN, 9)
    assert pyx12_valid(text)
    assert "AK2*837*0001*005010X222A1~\nIK5*A~\nAK9*A*1*1*1~" in text
    assert parse_999(text) == (True, [])


def test_rejected_999_carries_segment_errors():
    errors = [AckError("DTP", 33, "3", "2430"), AckError("CAS", 31, "8")]
    text = build_999(False, "17", "0001", "005010X222A1", errors, WHEN, 9)
    assert pyx12_valid(text)
    assert "IK3*DTP*33*2430*3~" in text and "IK5*R*5~\nAK9*R*1*1*0~" in text  # as pyx12 writes it
    assert parse_999(text) == (False, errors)


def test_parse_999_requires_ik5():
    text = build_999(True, "17", "0001", "005010X222A1", None, WHEN, 9)
    text = text.replace("IK5*A~\n", "").replace("SE*6*", "SE*5*")
    with pytest.raises(X12Error, match="no IK5"):
        parse_999(text)


ACKS = [
    ClaimAcknowledgment(claim_control_number="ENC1-P1", accepted=True, payer_claim_number="ICN9"),
    ClaimAcknowledgment(
        claim_control_number="ENC2-P1", accepted=False, status_code="A7", reason="INVALID MEMBER ID"
    ),
]


def build(acks, **kw):
    return build_277ca(
        acks, "A PLAN", "11111", "CLINIC EDI", "SUB1", "CLINIC", "1234567893", WHEN, 10, **kw
    )


def test_277ca_is_valid_and_parses_back():
    text = build(
        ACKS,
        patients={"ENC1-P1": ("DOE", "JANE", "M123")},
        charges={"ENC1-P1": D("150"), "ENC2-P1": D("80.50")},
        service_dates={"ENC1-P1": date(2024, 1, 10)},
    )
    assert pyx12_valid(text)
    assert "TRN*2*ENC1-P1~\nSTC*A2:20*20240202*WQ*150~\nREF*1K*ICN9~" in text
    assert "STC*A7:21*20240202*WQ*80.5********INVALID MEMBER ID~" in text
    assert "QTY*90*1~\nQTY*AA*1~\nAMT*YU*150~\nAMT*YY*80.5~" in text
    assert parse_277ca(text) == ACKS


def test_277ca_inconsistent_code_follows_accepted_flag():
    rejected = ClaimAcknowledgment(claim_control_number="ENC3-P1", accepted=False)  # code A2
    text = build([rejected])
    assert pyx12_valid(text)
    [parsed] = parse_277ca(text)
    assert (parsed.accepted, parsed.status_code) == (False, "A7")
