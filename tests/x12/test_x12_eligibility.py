"""270/271 eligibility (005010X279A1). pyx12 4.0.0 has no 5010
270/271 map, so the codec's structural checks are what these tests exercise."""

from __future__ import annotations

import re
import string
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cob.model import Benefits, CobMethod, Coverage, Person, PlanType, Provider, Relationship
from payers.x12.eligibility import (
    VERSION,
    EligibilityInquiry,
    build_270,
    build_271,
    inquiry_for,
)
from payers.x12.eligibility_parse import parse_270, parse_271, read_271
from payers.x12.segments import X12Error, build_interchange, parse_interchange, seg

WHEN = datetime(2024, 3, 1, 9, 30)
JANE = Person(first_name="JANE", last_name="DOE", birth_date=date(1980, 4, 12), sex="F")
TIMMY = Person(first_name="TIMMY", last_name="DOE", birth_date=date(2015, 6, 2), sex="M")
SELF = EligibilityInquiry(
    trace_number="ENC1-ACME01", payer_id="ACME01", provider_name="MAIN STREET CLINIC",
    provider_npi="1234567893", member_id="ACM123", subscriber=JANE, patient=JANE,
    relationship=Relationship.SELF, group_number="GRP77", service_date=date(2024, 3, 15),
)  # fmt: skip
CHILD = SELF.model_copy(
    update={"trace_number": "ENC2-ACME01", "patient": TIMMY, "relationship": Relationship.CHILD}
)
ACTIVE = Benefits(
    payer_id="ACME01", member_id="ACM123", active=True, plan_type=PlanType.COMMERCIAL,
    deductible=D("1500.00"), deductible_remaining=D("250.50"), coinsurance=D("0.20"),
    copay=D("25.00"), copay_procedures=["99213", "99214"],
    prior_auth_procedures=["70553", "72148"], cob_method=CobMethod.CARVE_OUT,
)  # fmt: skip

# a minimal 005010X279A1 270
APPENDIX_A4 = """\
ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *240201*1200*^*00501*000000002*0*T*:~
GS*HS*SUBMITTERID*RECEIVERID*20240201*1200*2*X*005010X279A1~
ST*270*0001*005010X279A1~
BHT*0022*13*10001234*20240201*1200~
HL*1**20*1~
NM1*PR*2*ABC HEALTH PLAN*****PI*12345~
HL*2*1*21*1~
NM1*1P*2*BEN KILDARE SERVICE*****XX*1234567893~
HL*3*2*22*0~
TRN*1*93175-012547*9877281234~
NM1*IL*1*SMITH*JANE****MI*JS00111223333~
DMG*D8*19430501~
DTP*291*D8*20240201~
EQ*30~
SE*13*0001~
GE*1*2~
IEA*1*000000002~
"""


def drop(text: str, segment: str) -> str:
    """Remove one segment and fix SE01, so only the content check can fail."""
    assert segment + "~\n" in text
    text = text.replace(segment + "~\n", "", 1)
    return re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m[1]) - 1}*", text)


def swap(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


# --- 270 ---------------------------------------------------------------------------------


def test_parse_270_reads_the_appendix_a4_sample():
    assert parse_270(APPENDIX_A4) == EligibilityInquiry(
        trace_number="93175-012547", payer_id="12345", provider_name="BEN KILDARE SERVICE",
        provider_npi="1234567893", member_id="JS00111223333",
        subscriber=Person(first_name="JANE", last_name="SMITH", birth_date=date(1943, 5, 1)),
        patient=Person(first_name="JANE", last_name="SMITH", birth_date=date(1943, 5, 1)),
        relationship=Relationship.SELF, service_date=date(2024, 2, 1),
    )  # fmt: skip


def test_our_270_has_appendix_a4_segment_order_and_codes():
    ours = parse_interchange(build_270(parse_270(APPENDIX_A4), datetime(2024, 2, 1, 12), 2))
    sample = parse_interchange(APPENDIX_A4)
    assert (ours.groups[0].gs[1], ours.groups[0].gs[8]) == ("HS", "005010X279A1")
    [mine], [theirs] = ours.transactions, sample.transactions
    assert (mine.code, mine.version, mine.se[1]) == ("270", "005010X279A1", "13")
    assert [s.id for s in mine.body] == [s.id for s in theirs.body]
    differing = {
        (a.id, n)
        for a, b in zip(mine.body, theirs.body, strict=True)
        for n in range(1, max(len(a.elements), len(b.elements)) + 1)
        if a[n] != b[n]
    }
    # BHT03 is our trace; NM103 the payer id (no payer names); TRN03 our originator; DMG03 U
    assert differing == {("BHT", 3), ("NM1", 3), ("TRN", 3), ("DMG", 3)}


def test_self_270_round_trips_byte_stable():
    text = build_270(SELF, WHEN, 7)
    assert "HL*3*2*22*0~\nTRN*1*ENC1-ACME01*9COBENGINE~\nNM1*IL*1*DOE*JANE****MI*ACM123~\n" in text
    assert "REF*6P*GRP77~\nDMG*D8*19800412*F~\nDTP*291*D8*20240315~\nEQ*30~\nSE*14*0001~" in text
    assert parse_270(text) == SELF
    assert build_270(parse_270(text), WHEN, 7) == text


def test_child_270_has_a_dependent_loop_with_the_trace_round_trips_byte_stable():
    text = build_270(CHILD, WHEN, 7)
    assert (
        "HL*3*2*22*1~\nNM1*IL*1*DOE*JANE****MI*ACM123~\nREF*6P*GRP77~\nDMG*D8*19800412*F~\n" in text
    )
    assert ("HL*4*3*23*0~\nTRN*1*ENC2-ACME01*9COBENGINE~\nNM1*03*1*DOE*TIMMY~\n"
            "DMG*D8*20150602*M~\nINS*N*19~\nDTP*291*D8*20240315~\nEQ*30~\nSE*18*0001~") in text  # fmt: skip
    assert parse_270(text) == CHILD
    assert build_270(parse_270(text), WHEN, 7) == text


@pytest.mark.parametrize(
    ("relationship", "code"), [(Relationship.SPOUSE, "01"), (Relationship.OTHER, "G8")]
)
def test_spouse_and_other_dependents_carry_their_ins02(relationship, code):
    inquiry = CHILD.model_copy(update={"relationship": relationship})
    text = build_270(inquiry, WHEN, 7)
    assert f"INS*N*{code}~" in text
    assert parse_270(text).relationship == relationship


def test_inquiry_for_a_child_takes_the_subscriber_from_the_coverage_and_upper_cases_names():
    mom = Person(first_name="Jane", last_name="Doe", birth_date=date(1980, 4, 12), sex="F")
    kid = Person(first_name="Timmy", last_name="Doe", birth_date=date(2015, 6, 2), sex="M")
    coverage = Coverage(payer_id="ACME01", member_id="ACM123", plan_type=PlanType.COMMERCIAL,
                        group_number="GRP77", relationship=Relationship.CHILD, subscriber=mom,
                        effective_date=date(2020, 1, 1))  # fmt: skip
    clinic = Provider(name="Main Street Clinic", npi="1234567893", tax_id="123456789")
    inquiry = inquiry_for(coverage, kid, date(2024, 3, 15), clinic, "ENC2-ACME01")
    assert inquiry == CHILD
    alone = coverage.model_copy(update={"relationship": Relationship.SELF, "subscriber": None})
    assert inquiry_for(alone, mom, date(2024, 3, 15), clinic, "ENC1-ACME01") == SELF
    with pytest.raises(ValueError, match="ACME01:ACM123: a child patient needs the coverage's"):
        inquiry_for(coverage.model_copy(update={"subscriber": None}), kid, date(2024, 3, 15),
                    clinic, "T")  # fmt: skip


def test_self_inquiry_must_have_the_subscriber_as_patient():
    with pytest.raises(ValidationError, match="the patient must be the subscriber"):
        EligibilityInquiry(**{**SELF.model_dump(), "patient": TIMMY.model_dump()})


# --- 271 ---------------------------------------------------------------------------------


def test_active_271_answers_every_term_in_the_patient_loop():
    text = build_271(SELF, ACTIVE, WHEN, 8)
    assert (
        "GS*HB*ACME01*1234567893*20240301*0930*8*X*005010X279A1~\nST*271*0001*005010X279A1~\n"
        in text
    )
    assert "HL*3*2*22*0~\nTRN*2*ENC1-ACME01*9COBENGINE~\nNM1*IL*1*DOE*JANE****MI*ACM123~\n" in text
    assert (
        "DTP*291*D8*20240315~\n"
        "EB*1*IND*30*C1~\n"
        "MSG*COB METHOD carve_out~\n"
        "EB*C*IND*30***23*1500~\n"
        "EB*C*IND*30***29*250.5~\n"
        "EB*A*IND*30*****.2~\n"
        "EB*B*IND*30***27*25******HC:99213~\n"
        "EB*B*IND*30***27*25******HC:99214~\n"
        "EB*1*IND*30*C1*******Y**HC:70553~\n"
        "EB*1*IND*30*C1*******Y**HC:72148~\n"
        "SE*22*0001~"
    ) in text
    assert parse_271(text) == ("ENC1-ACME01", ACTIVE)
    assert build_271(SELF, parse_271(text)[1], WHEN, 8) == text


def test_271_carries_the_remaining_deductible():
    benefits = ACTIVE.model_copy(update={"deductible": D("500"), "deductible_remaining": D("0")})
    text = build_271(SELF, benefits, WHEN, 8)
    assert "EB*C*IND*30***23*500~\nEB*C*IND*30***29*0~" in text
    parsed = parse_271(text)[1]
    assert (str(parsed.deductible), str(parsed.deductible_remaining)) == ("500.00", "0.00")


def test_271_coinsurance_is_an_x12_decimal_read_back_to_two_places():
    text = build_271(SELF, ACTIVE.model_copy(update={"coinsurance": D("0.25")}), WHEN, 8)
    assert "EB*A*IND*30*****.25~" in text
    assert str(parse_271(text)[1].coinsurance) == "0.25"
    assert str(parse_271(swap(text, "*****.25~", "*****.2~"))[1].coinsurance) == "0.20"


def test_271_copay_without_procedures_is_one_eb_b_without_eb13():
    benefits = ACTIVE.model_copy(update={"copay": D("30"), "copay_procedures": []})
    text = build_271(SELF, benefits, WHEN, 8)
    assert "EB*B*IND*30***27*30~\n" in text and text.count("EB*B") == 1
    parsed = parse_271(text)[1]
    assert (str(parsed.copay), parsed.copay_procedures) == ("30.00", [])
    no_copay = ACTIVE.model_copy(update={"copay": D("0.00"), "copay_procedures": []})
    assert "EB*B" not in build_271(SELF, no_copay, WHEN, 8)


def test_child_271_answers_in_the_dependent_loop():
    text = build_271(CHILD, ACTIVE, WHEN, 8)
    assert ("HL*4*3*23*0~\nTRN*2*ENC2-ACME01*9COBENGINE~\nNM1*03*1*DOE*TIMMY~\n"
            "DMG*D8*20150602*M~\nINS*N*19~\nDTP*291*D8*20240315~\nEB*1*IND*30*C1~") in text  # fmt: skip
    assert parse_271(text) == ("ENC2-ACME01", ACTIVE)


def test_inactive_271_is_eb6_with_the_reason_in_msg():
    benefits = Benefits(payer_id="MCARE", member_id="1EG4TE5MK73", active=False,
                        plan_type=PlanType.MEDICARE, reason="coverage terminated 2023-12-31")  # fmt: skip
    text = build_271(SELF, benefits, WHEN, 8)
    assert "DTP*291*D8*20240315~\nEB*6*IND*30*MB~\nMSG*coverage terminated 2023-12-31~\nSE*" in text
    assert parse_271(text) == ("ENC1-ACME01", benefits)
    silent = benefits.model_copy(update={"reason": ""})
    assert parse_271(build_271(SELF, silent, WHEN, 8))[1] == silent


def test_unknown_member_is_aaa_72_in_the_subscriber_loop_without_eb():
    simulator = Benefits(payer_id="MCARE", member_id="ZZZ9", active=False,
                         plan_type=PlanType.MEDICARE, reason="member id ZZZ9 not found")  # fmt: skip
    text = build_271(CHILD, simulator, WHEN, 8)
    assert "NM1*IL*1*DOE*JANE****MI*ZZZ9~\nREF*6P*GRP77~\nAAA*N**72*C~\nDMG*D8*19800412*F~" in text
    assert "HL*4*3*23*0~\nTRN*2*ENC2-ACME01*9COBENGINE~" in text and "EB*" not in text
    trace, parsed = parse_271(text, default_plan_type=PlanType.MEDICARE)
    expected = simulator.model_copy(update={"reason": "member id ZZZ9 not found (AAA 72)"})
    assert (trace, parsed) == ("ENC2-ACME01", expected)
    assert parse_271(text)[1].plan_type == PlanType.COMMERCIAL  # no EB04 to say otherwise
    assert build_271(CHILD, parsed, WHEN, 8) == text


@pytest.mark.parametrize("plan_type", list(PlanType))
@pytest.mark.parametrize("cob_method", list(CobMethod))
def test_every_plan_type_and_cob_method_round_trips(plan_type, cob_method):
    benefits = ACTIVE.model_copy(update={"plan_type": plan_type, "cob_method": cob_method})
    text = build_271(SELF, benefits, WHEN, 8)
    assert f"MSG*COB METHOD {cob_method.value}~" in text
    assert parse_271(text)[1] == benefits
    inactive = Benefits(payer_id="ACME01", member_id="ACM123", active=False, plan_type=plan_type)
    assert parse_271(build_271(SELF, inactive, WHEN, 8))[1] == inactive


money = st.decimals(min_value=0, max_value=99999, places=2)
procedures = st.lists(st.from_regex(r"[0-9]{4}[0-9A-Z]", fullmatch=True), max_size=3)
ids = {"payer_id": st.just("ACME01"), "member_id": st.just("ACM123")}
active_benefits = st.builds(
    Benefits, **ids, active=st.just(True), plan_type=st.sampled_from(PlanType),
    deductible=money, deductible_remaining=money,
    coinsurance=st.decimals(min_value=0, max_value=1, places=2), copay=money,
    prior_auth_procedures=procedures, copay_procedures=procedures,
    cob_method=st.sampled_from(CobMethod),
)  # fmt: skip
inactive_benefits = st.builds(
    Benefits, **ids, active=st.just(False), plan_type=st.sampled_from(PlanType),
    # a segment's trailing blanks are whitespace between segments to a reader (segments.py),
    # so MSG01 cannot end in one
    reason=st.text(string.ascii_uppercase + string.digits + " .,-()/", max_size=80).map(
        str.rstrip
    ),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    benefits=st.one_of(active_benefits, inactive_benefits), inquiry=st.sampled_from([SELF, CHILD])
)
def test_any_benefits_round_trip_byte_stable(benefits, inquiry):
    text = build_271(inquiry, benefits, WHEN, 8)
    trace, parsed = parse_271(text)
    assert (trace, parsed) == (inquiry.trace_number, benefits)
    assert build_271(inquiry, parsed, WHEN, 8) == text


def test_text_with_an_x12_delimiter_is_refused():
    with pytest.raises(ValueError, match="reason 'TERMED~EARLY' holds an X12 delimiter"):
        build_271(SELF, Benefits(payer_id="A", member_id="B", active=False,
                                 plan_type=PlanType.COMMERCIAL, reason="TERMED~EARLY"), WHEN, 8)  # fmt: skip
    with pytest.raises(ValueError, match="element 'O\\*BRIEN' holds an X12 delimiter"):
        build_270(SELF.model_copy(update={"provider_name": "O*BRIEN"}), WHEN, 7)


# --- malformed input -----------------------------------------------------------------------


def test_270_without_a_service_date_names_dtp():
    text = drop(build_270(SELF, WHEN, 7), "DTP*291*D8*20240315")
    with pytest.raises(X12Error, match=r"^segment DTP: no DTP\*291 \(service date\) in the HL 22 "
                                       r"loop at position 9$"):  # fmt: skip
        parse_270(text)


def test_270_without_the_subscriber_names_nm1():
    text = drop(build_270(SELF, WHEN, 7), "NM1*IL*1*DOE*JANE****MI*ACM123")
    with pytest.raises(X12Error, match=r"^segment NM1: no NM1\*IL \(subscriber\)"):
        parse_270(text)


def test_270_with_a_bad_birth_date_names_dmg_and_its_position():
    text = swap(build_270(SELF, WHEN, 7), "DMG*D8*19800412", "DMG*D8*19801312")
    with pytest.raises(X12Error, match=r"^segment DMG at position 13: DMG02 '19801312' is not"):
        parse_270(text)


def test_an_837_fed_to_parse_270_names_st01():
    body = [seg("BHT", "0019", "00", "ENC1", "20240301", "0930", "CH")]
    claim = build_interchange("HC", "005010X222A1", [("837", body)], "S", "R", 3, WHEN)
    with pytest.raises(X12Error, match=r"^segment ST at position 3: ST01 837 is not a 270$"):
        parse_270(claim)
    with pytest.raises(X12Error, match=r"^segment ST at position 3: ST01 270 is not a 271$"):
        parse_271(build_270(SELF, WHEN, 7))


def test_two_inquiries_in_one_interchange_are_refused():
    body = parse_interchange(build_270(SELF, WHEN, 7)).transactions[0].body
    two = build_interchange("HS", VERSION, [("270", body), ("270", body)], "S", "R", 4, WHEN)
    with pytest.raises(X12Error, match=r"^segment ST at position 17: one 270 per interchange"):
        parse_270(two)
    second = [seg("HL", 4, 2, "22", 0), *body[6:]]  # another subscriber under the same provider
    with pytest.raises(X12Error, match=r"segment HL at position 16: a second HL level 22: one "
                                       r"inquiry per transaction"):  # fmt: skip
        parse_270(build_interchange("HS", VERSION, [("270", [*body, *second])], "S", "R", 4, WHEN))


def test_truncated_and_miscounted_files_surface_the_envelope_error():
    text = build_270(SELF, WHEN, 7)
    with pytest.raises(X12Error, match=r"^segment SE at position 16: the interchange is truncated"):
        parse_270(text.split("GE*")[0])
    with pytest.raises(X12Error, match=r"^segment SE at position \d+: SE01 says 14 segments"):
        parse_270(text.replace("EQ*30~\n", ""))


def test_271_without_trn2_takes_the_trace_from_bht03():
    """TRN is situational in the 271; BHT03 echoes the 270's, which carries our trace."""
    text = drop(build_271(SELF, ACTIVE, WHEN, 8), "TRN*2*ENC1-ACME01*9COBENGINE")
    assert "BHT*0022*11*ENC1-ACME01*" in text
    assert parse_271(text) == ("ENC1-ACME01", ACTIVE)


def test_271_eb07_that_is_not_an_amount_names_eb_and_position():
    text = swap(build_271(SELF, ACTIVE, WHEN, 8), "***29*250.5~", "***29*abc~")
    with pytest.raises(X12Error, match=r"^segment EB at position 18: EB07 'abc' is not an amount$"):
        parse_271(text)
    nan = swap(build_271(SELF, ACTIVE, WHEN, 8), "***29*250.5~", "***29*NaN~")
    with pytest.raises(X12Error, match=r"EB07 'NaN' is not an amount"):
        parse_271(nan)


def test_271_eb01_this_codec_does_not_read_is_kept_not_refused():
    text = swap(build_271(SELF, ACTIVE, WHEN, 8), "EB*A*IND*30*****.2~", "EB*G*IND*30***23*6000~")
    assert parse_271(text) == ("ENC1-ACME01", ACTIVE.model_copy(update={"coinsurance": D("0")}))
    [patient] = read_271(parse_interchange(text).transactions[0]).patients
    assert patient.unread_codes == ["G"]
    assert patient.eligibility_codes == ["1", "B", "C", "G"]


def test_271_unknown_insurance_type_and_cob_method_are_named():
    text = build_271(SELF, ACTIVE, WHEN, 8)
    with pytest.raises(X12Error, match=r"^segment EB at position 15: EB04 'ZZ' is not an insur"):
        parse_271(swap(text, "EB*1*IND*30*C1~", "EB*1*IND*30*ZZ~"))
    with pytest.raises(X12Error, match=r"^segment MSG at position 16: MSG01 COB method 'pay_all'"):
        parse_271(swap(text, "COB METHOD carve_out", "COB METHOD pay_all"))


def test_271_copays_that_differ_are_refused():
    text = swap(
        build_271(SELF, ACTIVE, WHEN, 8), "***27*25******HC:99214", "***27*40******HC:99214"
    )
    with pytest.raises(X12Error, match=r"^segment EB at position 21: EB07 copay 40.00 differs"):
        parse_271(text)
