"""278 (005010X217) as other senders may write it: the situational parts read when present and
never demanded, decisions at the service level, rejections with AAA01 Y. The corpus holds no
5010 278; its 4010 ones are refused naming the ST."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from cob.model import Person, PriorAuthDecision, Relationship
from payers.x12.eligibility_parse import InquiryRejected
from payers.x12.prior_auth_278 import (
    PriorAuthInquiry,
    build_278_request,
    build_278_response,
    parse_278_request,
    parse_278_response,
    summarize_278,
)
from payers.x12.segments import X12Error, decode_x12, transactions_of

WHEN = datetime(2026, 2, 2, 9, 30)
JANE = Person(first_name="Jane", last_name="Smith", birth_date=date(1980, 5, 1), sex="F")
TOMMY = Person(first_name="Tommy", last_name="Smith", birth_date=date(2015, 7, 4), sex="M")
CHILD = PriorAuthInquiry(
    trace_number="ENC-1001", payer_id="60054", provider_name="Ben Kildare Service",
    provider_npi="1234567893", member_id="W123456789", subscriber=JANE, patient=TOMMY,
    relationship=Relationship.CHILD, service_date=date(2026, 2, 9),
    procedure_codes=["72148", "97110"],
)  # fmt: skip
SELF = CHILD.model_copy(update={"patient": JANE, "relationship": Relationship.SELF})
APPROVED = PriorAuthDecision(payer_id="60054", status="approved",
                             authorization_number="PA7F3A9C21", reason="certified: 72148")  # fmt: skip


def recount(text: str) -> str:
    """SE01 made right after segments were added or removed, so only the content is at issue."""
    body = text[text.index("ST*") : text.index("SE*")]
    return re.sub(r"SE\*\d+\*", f"SE*{body.count('~') + 1}*", text)


def test_a_dependent_request_without_the_subscriber_dmg_or_ins():
    text = build_278_request(CHILD, WHEN, 42)
    text = recount(text.replace("DMG*D8*19800501*F~\n", "").replace("INS*N*19~\n", ""))
    parsed = parse_278_request(text)
    assert (parsed.subscriber, parsed.patient, parsed.relationship) == (
        None, TOMMY, Relationship.OTHER
    )  # fmt: skip
    assert parsed.member_id == "W123456789"
    rebuilt = build_278_request(parsed, WHEN, 42)  # the simulator answers what it read
    assert "NM1*IL*1******MI*W123456789~\nHL*4*3*23*1~" in rebuilt  # no Person, no name
    assert "INS*N*G8~" in rebuilt


def test_a_requester_that_is_a_facility_is_read_as_the_provider():
    text = build_278_request(SELF, WHEN, 43).replace(
        "NM1*1P*2*Ben Kildare Service*****XX*", "NM1*FA*2*Kildare Hospital*****XX*"
    )
    parsed = parse_278_request(text)
    assert (parsed.provider_name, parsed.provider_npi) == ("Kildare Hospital", "1234567893")


def test_a_response_from_a_payer_coded_pr_without_trn_takes_bht03_as_trace():
    text = build_278_response(SELF, APPROVED, WHEN, 51).replace("NM1*X3*", "NM1*PR*")
    text = recount(text.replace("TRN*2*ENC-1001*1234567893~\n", ""))
    assert parse_278_response(text) == ("ENC-1001", APPROVED)


def test_service_level_decisions_that_agree_decide_the_request():
    text = build_278_response(SELF, APPROVED, WHEN, 52).replace("HCR*A1*PA7F3A9C21~\n", "")
    text = text.replace("SV1*HC:72148~", "SV1*HC:72148~\nHCR*A1*PA7F3A9C21~")
    text = recount(text.replace("SV1*HC:97110~", "SV1*HC:97110~\nHCR*A1*PA7F3A9C21~"))
    assert parse_278_response(text) == ("ENC-1001", APPROVED)
    assert summarize_278(transactions_of(text)[0]) == {
        "kind": "response",
        "decisions": [{"action": "A1", "authorization_number": "PA7F3A9C21"},
                      {"action": "A1", "authorization_number": "PA7F3A9C21"}],
    }  # fmt: skip


def test_service_level_decisions_that_differ_are_refused_naming_the_hcr():
    text = build_278_response(SELF, APPROVED, WHEN, 53).replace("HCR*A1*PA7F3A9C21~\n", "")
    text = text.replace("SV1*HC:72148~", "SV1*HC:72148~\nHCR*A1*PA7F3A9C21~")
    text = recount(text.replace("SV1*HC:97110~", "SV1*HC:97110~\nHCR*A3**82~"))
    with pytest.raises(X12Error, match=r"segment HCR at position 22: service-level HCR A3\* "
                                       r"differs from A1\*PA7F3A9C21"):  # fmt: skip
        parse_278_response(text)


def test_an_aaa_with_aaa01_y_is_a_rejection_too():
    """AAA01 says whether the request was valid; the AAA rejects it either way (72: the
    member id is invalid)."""
    text = build_278_response(SELF, APPROVED, WHEN, 54).replace("HCR*A1*PA7F3A9C21~\n", "")
    text = recount(text.replace("DMG*D8*19800501*F~", "AAA*Y**72*C~\nDMG*D8*19800501*F~"))
    trace, decision = parse_278_response(text)
    assert (trace, decision.status, decision.reason) == ("ENC-1001", "denied", "certified: 72148")


@pytest.mark.parametrize("aaa", ["AAA*Y**42*R", "AAA*N**79*P"])
def test_an_aaa_saying_the_payer_cannot_answer_now_is_no_decision(aaa):
    """AAA03 42 (unable to respond at current time) or AAA04 P (resubmit the original): the
    payer said nothing about the patient, so the 278 is asked again, never read as a denial."""
    text = build_278_response(SELF, APPROVED, WHEN, 54).replace("HCR*A1*PA7F3A9C21~\n", "")
    text = recount(text.replace("DMG*D8*19800501*F~", f"{aaa}~\nDMG*D8*19800501*F~"))
    with pytest.raises(InquiryRejected) as raised:
        parse_278_response(text)
    assert raised.value.payer_busy and raised.value.segment_id == "AAA"


def test_summarize_278_of_a_request_and_a_response():
    request = build_278_request(SELF, WHEN, 55)
    assert summarize_278(transactions_of(request)[0]) == {"kind": "request", "decisions": []}
    response = build_278_response(SELF, APPROVED, WHEN, 56)
    assert summarize_278(transactions_of(response)[0]) == {
        "kind": "response", "decisions": [{"action": "A1", "authorization_number": "PA7F3A9C21"}]
    }  # fmt: skip


def test_a_4010_278_from_the_corpus_is_refused_naming_its_st():
    path = Path(__file__).parents[1] / "x12_corpus/pyx12/x12testdata/mult_isa.source.txt"
    first = transactions_of(decode_x12(path.read_bytes()))[0]
    with pytest.raises(X12Error, match=r"segment ST at position 3: ST03 is '004010X094A1', not "
                                       r"005010X217"):  # fmt: skip
        summarize_278(first)
