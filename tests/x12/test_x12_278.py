"""278 prior authorization (005010X217): builds, round trips, decisions, malformed input.

pyx12 4.0.0 has no 5010 278 map, so these structural checks are the validation.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from cob.model import Coverage, Person, PlanType, PriorAuthDecision, PriorAuthRequest, Relationship
from payers.x12.prior_auth_278 import (
    PriorAuthInquiry,
    build_278_request,
    build_278_response,
    inquiry_for,
    parse_278_request,
    parse_278_response,
)
from payers.x12.segments import X12Error

WHEN = datetime(2026, 2, 2, 9, 30)
JANE = Person(first_name="Jane", last_name="Smith", birth_date=date(1980, 5, 1), sex="F")
TOMMY = Person(first_name="Tommy", last_name="Smith", birth_date=date(2015, 7, 4), sex="M")


def inquiry(patient: Person = JANE, relationship: Relationship = Relationship.SELF, **kw):
    fields = dict(
        trace_number="ENC-1001", payer_id="60054", provider_name="Ben Kildare Service",
        provider_npi="1234567893", member_id="W123456789", subscriber=JANE, patient=patient,
        relationship=relationship, service_date=date(2026, 2, 9),
        procedure_codes=["72148", "97110"],
    )  # fmt: skip
    return PriorAuthInquiry(**(fields | kw))


SELF = inquiry()
CHILD = inquiry(TOMMY, Relationship.CHILD)


def lines(text: str) -> list[str]:
    return [line.rstrip("~") for line in text.splitlines()]


def drop(text: str, segment: str) -> str:
    """Remove one segment line and keep SE01 right, so only the content is wrong."""
    assert segment + "~\n" in text
    text = text.replace(segment + "~\n", "", 1)
    return re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m[1]) - 1}*", text)


def test_self_request_is_laid_out_as_x217_with_one_2000f_per_procedure():
    text = build_278_request(SELF, WHEN, 41)
    assert lines(text)[1:] == [
        "GS*HI*1234567893*60054*20260202*0930*41*X*005010X217",
        "ST*278*0001*005010X217",
        "BHT*0007*13*ENC-1001*20260202*0930",
        "HL*1**20*1",
        "NM1*X3*2*60054*****PI*60054",
        "HL*2*1*21*1",
        "NM1*1P*2*Ben Kildare Service*****XX*1234567893",
        "HL*3*2*22*1",
        "NM1*IL*1*Smith*Jane****MI*W123456789",
        "DMG*D8*19800501*F",
        "HL*4*3*EV*1",
        "TRN*1*ENC-1001*1234567893",
        "UM*HS*I",
        "DTP*AAH*D8*20260209",
        "HL*5*4*SS*0",
        "SV1*HC:72148",
        "HL*6*4*SS*0",
        "SV1*HC:97110",
        "SE*18*0001",
        "GE*1*41",
        "IEA*1*000000041",
    ]


def test_self_request_round_trips_byte_stable():
    text = build_278_request(SELF, WHEN, 41)
    assert parse_278_request(text) == SELF
    assert build_278_request(parse_278_request(text), WHEN, 41) == text


def test_dependent_request_adds_2000d_with_ins_19_and_round_trips():
    text = build_278_request(CHILD, WHEN, 42)
    assert "\n".join(lines(text)[8:18]) == "\n".join([
        "HL*3*2*22*1", "NM1*IL*1*Smith*Jane****MI*W123456789", "DMG*D8*19800501*F",
        "HL*4*3*23*1", "NM1*QC*1*Smith*Tommy", "DMG*D8*20150704*M", "INS*N*19",
        "HL*5*4*EV*1", "TRN*1*ENC-1001*1234567893", "UM*HS*I",
    ])  # fmt: skip
    assert "HL*6*5*SS*0~\nSV1*HC:72148~\nHL*7*5*SS*0~\nSV1*HC:97110~" in text
    assert parse_278_request(text) == CHILD
    assert build_278_request(parse_278_request(text), WHEN, 42) == text


@pytest.mark.parametrize(
    "relationship, code", [(Relationship.SPOUSE, "01"), (Relationship.OTHER, "G8")]
)
def test_spouse_and_other_dependents_carry_their_ins02(relationship, code):
    text = build_278_request(inquiry(TOMMY, relationship), WHEN, 43)
    assert f"INS*N*{code}~" in text
    assert parse_278_request(text).relationship == relationship


def test_self_inquiry_must_name_the_subscriber_as_patient():
    with pytest.raises(ValueError, match="relationship self: the patient must be the subscriber"):
        inquiry(TOMMY, Relationship.SELF)


def test_names_with_a_delimiter_are_refused():
    with pytest.raises(ValueError, match=r"NM103 'Ben\*Kildare' contains an X12 delimiter"):
        build_278_request(inquiry(provider_name="Ben*Kildare"), WHEN, 44)


def test_parse_reads_an_rd8_service_range_by_its_first_day():
    text = build_278_request(SELF, WHEN, 45).replace(
        "DTP*AAH*D8*20260209", "DTP*AAH*RD8*20260209-20260309"
    )
    assert parse_278_request(text).service_date == date(2026, 2, 9)


# --- inquiry_for ---------------------------------------------------------------------------


def auth_request(coverage: Coverage, patient: Person) -> PriorAuthRequest:
    return PriorAuthRequest(
        encounter_id="ENC-2002", coverage=coverage, patient=patient,
        service_date=date(2026, 3, 1), procedure_codes=["72148"], provider_npi="1234567893",
    )  # fmt: skip


def test_inquiry_for_a_self_coverage_makes_the_patient_the_subscriber():
    coverage = Coverage(payer_id="60054", member_id="W1", plan_type=PlanType.COMMERCIAL,
                        effective_date=date(2025, 1, 1))  # fmt: skip
    inq = inquiry_for(auth_request(coverage, JANE), "Ben Kildare Service")
    assert (inq.trace_number, inq.payer_id, inq.member_id) == ("ENC-2002", "60054", "W1")
    assert inq.subscriber == inq.patient == JANE and inq.relationship == Relationship.SELF
    assert inq.procedure_codes == ["72148"] and inq.service_date == date(2026, 3, 1)


def test_inquiry_for_a_child_takes_the_subscriber_from_the_coverage():
    coverage = Coverage(payer_id="87726", member_id="U77", plan_type=PlanType.COMMERCIAL,
                        relationship=Relationship.CHILD, subscriber=JANE,
                        effective_date=date(2025, 1, 1))  # fmt: skip
    inq = inquiry_for(auth_request(coverage, TOMMY), "Ben Kildare Service")
    assert (inq.subscriber, inq.patient, inq.relationship) == (JANE, TOMMY, Relationship.CHILD)
    assert "INS*N*19~" in build_278_request(inq, WHEN, 46)


def test_inquiry_for_without_a_provider_name_uses_the_npi():
    coverage = Coverage(payer_id="60054", member_id="W1", plan_type=PlanType.COMMERCIAL,
                        effective_date=date(2025, 1, 1))  # fmt: skip
    assert inquiry_for(auth_request(coverage, JANE), "").provider_name == "1234567893"


# --- responses -----------------------------------------------------------------------------

DECISIONS = {
    "A1": PriorAuthDecision(
        payer_id="60054",
        status="approved",
        authorization_number="PA7F3A9C21",
        reason="certified: 72148",
    ),  # fmt: skip
    "NA": PriorAuthDecision(payer_id="60054", status="approved", reason="not required"),
    "A4": PriorAuthDecision(payer_id="60054", status="pended", reason="clinical review"),
    "A3": PriorAuthDecision(payer_id="60054", status="denied", reason="conservative care first"),
}
EXPECTED_HCR = {"A1": "HCR*A1*PA7F3A9C21", "NA": "HCR*NA", "A4": "HCR*A4", "A3": "HCR*A3**82"}


@pytest.mark.parametrize("code", DECISIONS)
def test_each_decision_is_written_as_its_hcr_and_round_trips(code):
    decision = DECISIONS[code]
    text = build_278_response(SELF, decision, WHEN, 51)
    assert f"UM*HS*I~\n{EXPECTED_HCR[code]}~\nDTP*AAH*D8*20260209~\nMSG*{decision.reason}~" in text
    assert "BHT*0007*11*ENC-1001" in text and "TRN*2*ENC-1001*1234567893~" in text
    assert parse_278_response(text) == ("ENC-1001", decision)
    rebuilt = build_278_response(parse_278_request(build_278_request(SELF, WHEN, 50)),
                                 parse_278_response(text)[1], WHEN, 51)  # fmt: skip
    assert rebuilt == text


def test_response_envelope_goes_from_payer_to_provider():
    text = build_278_response(CHILD, DECISIONS["A1"], WHEN, 52)
    assert "GS*HI*60054*1234567893*20260202*0930*52*X*005010X217~\nST*278*0001*005010X217~" in text
    assert "HL*5*4*EV*1~\nTRN*2*ENC-1001" in text
    assert parse_278_response(text) == ("ENC-1001", DECISIONS["A1"])


def test_an_empty_reason_sends_no_msg():
    decision = PriorAuthDecision(payer_id="60054", status="denied")
    text = build_278_response(SELF, decision, WHEN, 53)
    assert "MSG" not in text and "HCR*A3**82~" in text
    assert parse_278_response(text) == ("ENC-1001", decision)


def test_an_unknown_member_is_an_aaa_72_in_2010c_with_no_hcr():
    decision = PriorAuthDecision(payer_id="60054", status="denied",
                                 reason="member id W123456789 not found")  # fmt: skip
    text = build_278_response(SELF, decision, WHEN, 54)
    assert "NM1*IL*1*Smith*Jane****MI*W123456789~\nAAA*N**72*C~\nDMG*D8*19800501*F~" in text
    assert "HCR" not in text and "MSG*member id W123456789 not found~" in text
    assert parse_278_response(text) == ("ENC-1001", decision)
    assert build_278_response(SELF, parse_278_response(text)[1], WHEN, 54) == text


def test_an_aaa_without_msg_is_denied_with_the_code_meaning():
    decision = PriorAuthDecision(payer_id="60054", status="denied", reason="invalid member id")
    text = drop(build_278_response(SELF, decision, WHEN, 55), "MSG*invalid member id")
    assert parse_278_response(text) == ("ENC-1001", decision)


@pytest.mark.parametrize(
    "hcr, status, reason",
    [
        ("HCR*A2*PA7F3A9C21", "approved", "certified in part: certified: 72148"),
        ("HCR*A6*PA7F3A9C21", "approved", "modified: certified: 72148"),
        ("HCR*CT", "pended", "contact payer: certified: 72148"),
        ("HCR*C", "denied", "cancelled: certified: 72148"),
    ],
)
def test_codes_we_never_write_parse_with_their_meaning(hcr, status, reason):
    text = build_278_response(SELF, DECISIONS["A1"], WHEN, 56).replace("HCR*A1*PA7F3A9C21", hcr)
    _, decision = parse_278_response(text)
    assert (decision.status, decision.reason) == (status, reason)
    assert decision.authorization_number == (hcr[7:] or None)


def test_a_cancelled_review_without_msg_says_cancelled():
    text = drop(build_278_response(SELF, DECISIONS["A1"], WHEN, 57), "MSG*certified: 72148")
    _, decision = parse_278_response(text.replace("HCR*A1*PA7F3A9C21", "HCR*C"))
    assert (decision.status, decision.reason) == ("denied", "cancelled")


def test_a_decision_from_another_payer_is_refused():
    other = PriorAuthDecision(payer_id="87726", status="approved", reason="not required")
    with pytest.raises(ValueError, match="payer 87726"):
        build_278_response(SELF, other, WHEN, 58)


# --- malformed input -----------------------------------------------------------------------


def test_unknown_hcr01_names_the_segment_and_position():
    text = build_278_response(SELF, DECISIONS["A1"], WHEN, 60).replace("HCR*A1*", "HCR*ZZ*")
    with pytest.raises(X12Error, match=r"segment HCR at position 15: HCR01 'ZZ' is not a cert"):
        parse_278_response(text)


def test_a_response_with_neither_hcr_nor_aaa_is_refused():
    text = drop(build_278_response(SELF, DECISIONS["A4"], WHEN, 61), "HCR*A4")
    with pytest.raises(X12Error, match="segment HCR: .* position 12 has neither"):
        parse_278_response(text)


def test_a_request_without_sv1_is_refused():
    text = drop(build_278_request(SELF, WHEN, 62), "SV1*HC:97110")
    with pytest.raises(X12Error, match=r"segment SV1: the HL\*SS loop at position 18 has no SV1"):
        parse_278_request(text)


def test_a_request_without_um_is_refused():
    text = drop(build_278_request(SELF, WHEN, 63), "UM*HS*I")
    with pytest.raises(X12Error, match=r"segment UM: the HL\*EV loop at position 12 has no UM"):
        parse_278_request(text)


def test_sv1_must_carry_an_hc_procedure():
    text = build_278_request(SELF, WHEN, 64).replace("SV1*HC:72148", "SV1*ZZ:72148")
    with pytest.raises(X12Error, match=r"segment SV1 at position 17: SV101 'ZZ:72148'"):
        parse_278_request(text)


def test_a_bad_service_date_names_dtp():
    text = build_278_request(SELF, WHEN, 65).replace("DTP*AAH*D8*20260209", "DTP*AAH*D8*20260230")
    with pytest.raises(X12Error, match=r"segment DTP at position 15: DTP03 '20260230'"):
        parse_278_request(text)


def test_a_270_is_not_a_278():
    text = (  # a minimal 005010X279A1 270
        "ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *240201*1200*^*00501"
        "*000000002*0*T*:~\nGS*HS*SUBMITTERID*RECEIVERID*20240201*1200*2*X*005010X279A1~\n"
        "ST*270*0001*005010X279A1~\nBHT*0022*13*10001234*20240201*1200~\nHL*1**20*1~\n"
        "NM1*PR*2*ABC HEALTH PLAN*****PI*12345~\nSE*5*0001~\nGE*1*2~\nIEA*1*000000002~\n"
    )
    with pytest.raises(X12Error, match="segment ST at position 3: ST01 is 270, not 278"):
        parse_278_request(text)


def test_a_response_is_not_a_request():
    text = build_278_response(SELF, DECISIONS["NA"], WHEN, 66)
    with pytest.raises(X12Error, match=r"segment BHT at position 4: a 278 request starts"):
        parse_278_request(text)


def test_a_truncated_file_is_refused():
    text = build_278_request(SELF, WHEN, 67)
    with pytest.raises(X12Error, match="truncated: no IEA"):
        parse_278_request(text[: text.index("HL*5")])


def test_a_wrong_segment_count_surfaces_from_the_envelope_layer():
    text = build_278_response(SELF, DECISIONS["A1"], WHEN, 68).replace("SE*20*", "SE*19*")
    with pytest.raises(X12Error, match="SE01 says 19 segments, the transaction has 20"):
        parse_278_response(text)
