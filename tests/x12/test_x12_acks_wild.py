"""999 and 277CA as others write them: the public samples in tests/x12_corpus, and the cases
the simulator never produces (several AK2 sets, rejections above the claim, categories that
decide nothing). 005010X231A1 and 005010X214."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from cob.model import ClaimAcknowledgment
from payers.x12.acknowledgments import (
    ACK_999,
    SENT_ST02,
    AckError,
    ElementError,
    build_277ca,
    parse_277ca,
    parse_999,
    read_999,
    summarize_277ca,
    summarize_999,
)
from payers.x12.segments import (
    X12Error,
    build_interchange,
    decode_x12,
    parse_interchange,
    seg,
    transactions_of,
)

CORPUS = Path(__file__).parents[1] / "x12_corpus"
WHEN = datetime(2024, 2, 2, 12, 0)


def corpus(name: str) -> str:
    return decode_x12((CORPUS / name).read_bytes())


def a_999(*body) -> str:
    return build_interchange("FA", ACK_999, [("999", list(body))], "PAYER", "US", 31, WHEN)


# --- 999 ---------------------------------------------------------------------------------

# Three 837s in one group: 0001 accepted, 0002 rejected (a CLM element error), 0003 rejected.
A_R_R = a_999(
    seg("AK1", "HC", "17", "005010X222A1"),
    seg("AK2", "837", "0001", "005010X222A1"), seg("IK5", "A"),
    seg("AK2", "837", "0002", "005010X222A1"),
    seg("IK3", "CLM", "22", "2300", "8"), seg("IK4", "2", "782", "4", "12X.00"),
    seg("IK5", "R", "5"),
    seg("AK2", "837", "0003", "005010X222A1"), seg("IK3", "NM1", "9", "2010BA", "3"),
    seg("IK5", "R", "5"),
    seg("AK9", "P", "3", "3", "1"),
)  # fmt: skip


def test_a_999_with_ik5_a_r_r_and_ak9_p_is_read_set_by_set():
    assert parse_999(A_R_R, "0001") == (True, [])
    clm = AckError("CLM", 22, "8", "2300", (ElementError("2", "4", "782", "12X.00"),))
    assert parse_999(A_R_R, "0002") == (False, [clm])
    assert parse_999(A_R_R, "0003") == (False, [AckError("NM1", 9, "3", "2010BA")])


def test_the_first_ik5_no_longer_speaks_for_the_transaction_we_sent():
    """Before: the first IK5 (A) read as 'accepted' whatever transaction it answered."""
    rejected_first = A_R_R.replace("AK2*837*0001*", "AK2*837*0009*").replace(
        "AK2*837*0002*", "AK2*837*0001*"
    )
    accepted, errors = parse_999(rejected_first)  # the engine's one 837 is ST02 0001
    assert not accepted and [e.segment_id for e in errors] == ["CLM"]


def test_summarize_999_lists_every_transaction_set():
    assert summarize_999(transactions_of(A_R_R)[0]) == {
        "group_status": "P",
        "transactions": [
            {"control": "0001", "code": "837", "status": "A", "errors": []},
            {"control": "0002", "code": "837", "status": "R",
             "errors": [{"segment": "CLM", "position": 22, "code": "8"}]},
            {"control": "0003", "code": "837", "status": "R",
             "errors": [{"segment": "NM1", "position": 9, "code": "3"}]},
        ],
    }  # fmt: skip


def test_a_999_that_does_not_mention_our_transaction_is_not_an_acceptance():
    text = a_999(seg("AK1", "HC", "17"), seg("AK2", "837", "0002"), seg("IK5", "A"),
                 seg("AK9", "A", "1", "1", "1"))  # fmt: skip
    with pytest.raises(X12Error, match=r"segment AK9 at position 7: the 999 does not acknowledge "
                                       r"transaction 0001 \(it acknowledges: 0002\)"):  # fmt: skip
        parse_999(text)


def test_a_group_rejected_without_ak2_rejects_our_transaction_with_it():
    text = a_999(seg("AK1", "HC", "17"), seg("AK9", "R", "1", "1", "0", "5"))
    assert parse_999(text) == (False, [])
    assert read_999(transactions_of(text)[0]).transactions == ()


def test_an_accepted_ik5_in_a_rejected_group_is_rejected():
    text = a_999(seg("AK1", "HC", "17"), seg("AK2", "837", "0001"), seg("IK5", "E"),
                 seg("AK9", "R", "1", "1", "0"))  # fmt: skip
    assert parse_999(text) == (False, [])
    accepted_with_errors = text.replace("AK9*R*1*1*0", "AK9*E*1*1*1")
    assert parse_999(accepted_with_errors) == (True, [])


@pytest.mark.parametrize("code", ["M", "W", "X"])
def test_ik5_m_w_and_x_are_rejections(code):
    text = a_999(seg("AK1", "HC", "17"), seg("AK2", "837", "0001"), seg("IK5", code),
                 seg("AK9", "A", "1", "1", "1"))  # fmt: skip
    assert parse_999(text) == (False, [])


def test_an_ik3_outside_an_ak2_loop_names_it():
    text = a_999(seg("AK1", "HC", "17"), seg("IK3", "CLM", "22", "", "8"), seg("AK9", "R"))
    with pytest.raises(X12Error, match=r"segment IK3 at position 5: IK3 outside an AK2 loop"):
        parse_999(text)


def test_the_engine_sends_its_one_837_as_st02_0001():
    """SENT_ST02 follows build_interchange's numbering; if that changes, so must it."""
    text = build_interchange("HC", "005010X222A1", [("837", [])], "US", "PAYER", 5, WHEN)
    assert parse_interchange(text).transactions[0].st[2] == SENT_ST02 == "0001"


def test_imsweb_999_rejected_reads_ik3_nm_17_under_transaction_0028():
    text = corpus("imsweb/837_5010/x12_999_rejected.txt")  # ISA16 is '|'
    assert parse_999(text, "0028") == (False, [AckError("NM", 17, "1")])
    assert summarize_999(transactions_of(text)[0]) == {
        "group_status": "R",
        "transactions": [{"control": "0028", "code": "837", "status": "R",
                          "errors": [{"segment": "NM", "position": 17, "code": "1"}]}],
    }  # fmt: skip


def test_imsweb_999_accepted_is_refused_for_its_iea_control_number():
    # ISA13 000000286, IEA02 000000001
    with pytest.raises(X12Error, match=r"segment IEA at position 10: IEA says 1 groups / control "
                                       r"000000001; the interchange has 1 / 000000286"):  # fmt: skip
        parse_999(corpus("imsweb/837_5010/x12_999_accepted.txt"))


# --- 277CA -------------------------------------------------------------------------------


def build(*acks: ClaimAcknowledgment) -> str:
    return build_277ca(
        list(acks), "A PLAN", "11111", "CLINIC EDI", "SUB1", "CLINIC", "1234567893", WHEN, 10
    )


ACCEPTED = ClaimAcknowledgment(claim_control_number="ENC1-P1", accepted=True)
TWO = build(ACCEPTED, ClaimAcknowledgment(claim_control_number="ENC2-P1", accepted=True))


def test_a_277ca_rejected_at_the_billing_provider_level_rejects_every_claim_below():
    # 2200C: A3 returned as unprocessable, 562 (entity's NPI), entity 85 billing provider
    text = TWO.replace("STC*A1:19:PR**WQ*0~", "STC*A3:562:85**WQ*0********NPI NOT ON FILE~")
    acks = parse_277ca(text)
    assert [(a.claim_control_number, a.accepted, a.status_code) for a in acks] == [
        ("ENC1-P1", False, "A3"), ("ENC2-P1", False, "A3")
    ]  # fmt: skip
    assert acks[0].reason == "rejected at 2200C (STC A3:562): NPI NOT ON FILE"
    assert summarize_277ca(transactions_of(text)[0]) == {
        "claims": [
            {"claim_control_number": "ENC1-P1", "category": "A3", "status_code": "562",
             "accepted": False},
            {"claim_control_number": "ENC2-P1", "category": "A3", "status_code": "562",
             "accepted": False},
        ],
        "levels": [{"level": "2200B", "category": "A1", "status_code": "19"},
                   {"level": "2200C", "category": "A3", "status_code": "562"}],
    }  # fmt: skip


def test_a_277ca_rejected_at_the_information_receiver_level_rejects_the_claims_too():
    text = TWO.replace("STC*A1:19:PR*20240202*WQ*0~", "STC*A6:128*20240202*WQ*0~")
    assert {(a.accepted, a.status_code) for a in parse_277ca(text)} == {(False, "A6")}


def test_a_277ca_with_an_unknown_category_is_not_an_acceptance():
    text = TWO.replace("TRN*2*ENC1-P1~\nSTC*A2:20", "TRN*2*ENC1-P1~\nSTC*Q9:20")
    unknown, other = parse_277ca(text)
    assert (unknown.accepted, unknown.acknowledged, unknown.status_code) == (False, False, "Q9")
    assert "'Q9' is not a claim status category" in unknown.reason
    assert (other.accepted, other.status_code) == (True, "A2")
    summary = summarize_277ca(transactions_of(text)[0])["claims"][0]
    assert summary == {"claim_control_number": "ENC1-P1", "category": "Q9", "status_code": "20",
                       "accepted": False}  # fmt: skip


def test_an_unknown_category_above_the_claim_makes_its_a2_no_decision():
    text = TWO.replace("STC*A1:19:PR**WQ*0~", "STC*Q9:19**WQ*0~")
    assert {(a.accepted, a.acknowledged, a.status_code) for a in parse_277ca(text)} == {
        (False, False, "Q9")
    }


@pytest.mark.parametrize(
    "category, accepted, acknowledged",
    [("A2", True, True), ("A5", True, True), ("A1", False, False), ("A0", False, False),
     ("E1", False, False), ("P1", False, False), ("A7", False, True), ("A8", False, True)],
)  # fmt: skip
def test_only_acceptance_into_adjudication_accepts_a_claim(category, accepted, acknowledged):
    text = build(ACCEPTED).replace("STC*A2:20*", f"STC*{category}:20*")
    [ack] = parse_277ca(text)
    assert (ack.accepted, ack.acknowledged, ack.status_code) == (accepted, acknowledged, category)


def test_a_claim_without_stc_is_no_decision():
    text = build(ACCEPTED)
    text = text.replace("STC*A2:20*20240202*WQ*0~\n", "").replace("SE*25*", "SE*24*")
    [ack] = parse_277ca(text)
    assert (ack.accepted, ack.acknowledged, ack.status_code) == (False, False, "")
    assert "no STC for the claim" in ack.reason


def test_a_rejection_in_stc10_rejects_the_claim():
    text = build(ACCEPTED).replace("STC*A2:20*20240202*WQ*0~",
                                   "STC*A2:20*20240202*WQ*0******A7:21~")  # fmt: skip
    [ack] = parse_277ca(text)
    assert (ack.accepted, ack.status_code) == (False, "A7")


def test_a_service_line_status_does_not_decide_the_claim():
    text = (
        build(ACCEPTED)
        .replace(
            "DTP*472*D8*20240202~", "DTP*472*D8*20240202~\nSVC*HC:99213*150~\nSTC*A7:21*20240202~"
        )
        .replace("SE*25*", "SE*27*")
    )
    [ack] = parse_277ca(text)
    assert (ack.accepted, ack.status_code) == (True, "A2")


def test_imsweb_277ca_accepted_reads_claim_5781_accepted():
    text = corpus("imsweb/277_5010/x12_277CA_accepted.txt")
    assert parse_277ca(text) == [
        ClaimAcknowledgment(
            claim_control_number="5781", accepted=True, payer_claim_number="1107000000014420"
        )
    ]
    assert summarize_277ca(transactions_of(text)[0]) == {
        "claims": [{"claim_control_number": "5781", "category": "A2", "status_code": "20",
                    "accepted": True}],
        "levels": [{"level": "2200B", "category": "A1", "status_code": "20"}],
    }  # fmt: skip


def test_imsweb_277ca_rejected_splits_stc_on_its_declared_pipe():
    text = corpus("imsweb/277_5010/x12_277CA_rejected.txt")  # ISA16 '|': STC*A7|562|85
    assert parse_277ca(text) == [
        ClaimAcknowledgment(claim_control_number="3920394930203", accepted=False,
                            payer_claim_number="1107000000001120", status_code="A7")
    ]  # fmt: skip
    claim = summarize_277ca(transactions_of(text)[0])["claims"][0]
    assert (claim["category"], claim["status_code"], claim["accepted"]) == ("A7", "562", False)


def test_a_277_claim_status_answer_is_not_a_277ca():
    text = corpus("linuxforhealth/277_005010X212/claim-level-status.277")
    with pytest.raises(X12Error, match=r"segment ST at position 3: ST03/GS08 is '005010X212'"):
        parse_277ca(text)
