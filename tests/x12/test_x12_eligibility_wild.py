"""270/271 (005010X279A1) as others write them: the public LinuxForHealth and imsweb samples in
tests/x12_corpus, EB codes the codec does not read, a payer that rejects the inquiry itself,
several subscribers and transactions in one file."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from cob.model import Benefits, Person, PlanType, Relationship
from payers.x12.eligibility import VERSION, EligibilityInquiry, build_270, build_271
from payers.x12.eligibility_parse import (
    InquiryRejected,
    parse_270,
    parse_271,
    read_271,
    summarize_270,
    summarize_271,
)
from payers.x12.segments import X12Error, build_interchange, decode_x12, seg, transactions_of

CORPUS = Path(__file__).parents[1] / "x12_corpus"
WHEN = datetime(2024, 3, 1, 9, 30)
JANE = Person(first_name="JANE", last_name="DOE", birth_date=date(1980, 4, 12), sex="F")
SELF = EligibilityInquiry(
    trace_number="ENC1-ACME01", payer_id="ACME01", provider_name="MAIN STREET CLINIC",
    provider_npi="1234567893", member_id="ACM123", subscriber=JANE, patient=JANE,
    relationship=Relationship.SELF, service_date=date(2024, 3, 15),
)  # fmt: skip
ACTIVE = Benefits(payer_id="ACME01", member_id="ACM123", active=True,
                  plan_type=PlanType.COMMERCIAL, copay=D("25.00"))  # fmt: skip


def corpus(name: str) -> str:
    return decode_x12((CORPUS / name).read_bytes())


def summary(text: str, summarize) -> list[dict]:
    return [summarize(txn) for txn in transactions_of(text)]


# --- 270 ---------------------------------------------------------------------------------


def test_linuxforhealth_270_for_a_subscriber():
    text = corpus("linuxforhealth/270_005010X279A1/subscriber-health-benefit-check.270")
    robert = Person(first_name="ROBERT", last_name="SMITH", birth_date=date(1943, 5, 19))
    assert parse_270(text) == EligibilityInquiry(
        trace_number="93175-012547", payer_id="842610001", provider_name="BONE AND JOINT CLINIC",
        provider_npi="2000035", member_id="11122333301", subscriber=robert, patient=robert,
        relationship=Relationship.SELF, service_date=date(2006, 5, 1),
    )  # fmt: skip
    assert summary(text, summarize_270) == [{"inquiries": [{"member_id": "11122333301"}]}]


def test_linuxforhealth_270_for_a_dependent_names_the_subscriber_by_member_id_alone():
    """NM1*IL*1******MI*11122333301 with no DMG; the dependent has no INS; the provider is a
    person (NM1*1P*1*JONES*MARCUS) with an SV id."""
    text = corpus("linuxforhealth/270_005010X279A1/dependent-health-benefit-check.270")
    assert parse_270(text) == EligibilityInquiry(
        trace_number="93175-012547", payer_id="842610001", provider_name="JONES",
        provider_npi="2000034", member_id="11122333301", subscriber=None,
        patient=Person(first_name="MARY", last_name="SMITH", birth_date=date(1978, 10, 14)),
        relationship=Relationship.OTHER, service_date=date(2006, 5, 1),
    )  # fmt: skip
    assert summary(text, summarize_270) == [
        {"inquiries": [{"member_id": "11122333301"}, {"member_id": ""}]}
    ]


def test_the_simulator_can_answer_a_dependent_270_without_the_subscriber_named():
    inquiry = parse_270(
        corpus("linuxforhealth/270_005010X279A1/dependent-health-benefit-check.270")
    )
    answer = Benefits(payer_id="842610001", member_id="11122333301", active=True,
                      plan_type=PlanType.COMMERCIAL)  # fmt: skip
    text = build_271(inquiry, answer, WHEN, 8)
    assert "HL*3*2*22*1~\nNM1*IL*1******MI*11122333301~\nHL*4*3*23*0~" in text
    assert parse_271(text) == ("93175-012547", answer)
    assert parse_270(build_270(inquiry, WHEN, 7)) == inquiry


def test_imsweb_4010_270_is_refused_for_its_se_count():
    with pytest.raises(X12Error, match=r"segment SE at position 16: SE01 says 15 segments"):
        parse_270(corpus("imsweb/x270_271/x270.txt"))


# --- 271 ---------------------------------------------------------------------------------


def test_linuxforhealth_271_for_a_subscriber_with_eb_l_and_in_and_out_of_network_copays():
    """EB*1**30 without EB04 (the coverage asked about gives the plan type), EB*L with its 2120
    LS/LE loop, EB*B 10.00 in network (EB12 Y) and 30.00 out of network (EB12 N)."""
    text = corpus("linuxforhealth/271_005010X279A1/subscriber-health-benefit-check.271")
    assert parse_271(text, default_plan_type=PlanType.MEDICARE) == (
        "93175-012547",
        Benefits(payer_id="841610001", member_id="123456789", active=True,
                 plan_type=PlanType.MEDICARE, copay=D("10.00")),
    )  # fmt: skip
    [patient] = read_271(transactions_of(text)[0]).patients
    assert patient.unread_codes == ["L"]
    assert summary(text, summarize_271) == [
        {"subscribers": [{"member_id": "123456789", "active": True,
                          "eligibility_codes": ["1", "B", "L"], "errors": []}],
         "errors": []}
    ]  # fmt: skip


def test_linuxforhealth_271_for_a_dependent_answers_in_the_dependent_loop():
    text = corpus("linuxforhealth/271_005010X279A1/dependent-health-benefit-check.271")
    trace, benefits = parse_271(text)
    assert (trace, benefits.member_id, benefits.active, benefits.copay) == (
        "93175-012547", "123456789", True, D("10.00")
    )  # fmt: skip
    assert summary(text, summarize_271) == [
        {"subscribers": [
            {"member_id": "123456789", "active": None, "eligibility_codes": [], "errors": []},
            {"member_id": "", "active": True, "eligibility_codes": ["1", "B", "L"], "errors": []},
        ], "errors": []}
    ]  # fmt: skip


def test_linuxforhealth_271_error_is_refused_for_its_se02():
    text = corpus("linuxforhealth/271_005010X279A1/subscriber-health-benefit-check-error.271")
    with pytest.raises(X12Error, match=r"segment SE at position 10: SE02 4323 does not match"):
        parse_271(text)


def test_the_same_271_error_with_its_se02_right_is_the_receivers_rejection_aaa_50():
    """AAA*Y**50*N under HL 21, no HL 22: the payer will not answer this provider."""
    text = corpus("linuxforhealth/271_005010X279A1/subscriber-health-benefit-check-error.271")
    text = text.replace("SE*8*4323~", "SE*8*4321~")
    with pytest.raises(InquiryRejected, match=r"segment AAA at position 9: the payer rejected "
                                              r"the inquiry at 2100B: AAA03 50") as raised:  # fmt: skip
        parse_271(text)
    assert (raised.value.code, raised.value.follow_up, raised.value.loop) == ("50", "N", "2100B")
    assert summary(text, summarize_271) == [{"subscribers": [], "errors": ["50"]}]


def test_a_271_with_only_a_payer_level_aaa_is_the_payers_rejection():
    body = [
        seg("BHT", "0022", "11", "ENC1-ACME01", "20240301", "0930"),
        seg("HL", 1, "", "20", 0),
        seg("NM1", "PR", "2", "ACME", "", "", "", "", "PI", "ACME01"),
        seg("AAA", "Y", "", "42", "R"),  # 2100A: unable to respond now, resubmit
    ]
    text = build_interchange("HB", VERSION, [("271", body)], "ACME01", "1234567893", 9, WHEN)
    with pytest.raises(InquiryRejected, match=r"segment AAA at position 7: .* at 2100A: AAA03 42"):
        parse_271(text)
    assert summary(text, summarize_271) == [{"subscribers": [], "errors": ["42"]}]


def test_a_271_with_eb_l_and_eb_r_keeps_them_and_reads_the_rest():
    text = (
        build_271(SELF, ACTIVE, WHEN, 8)
        .replace(
            "EB*B*IND*30***27*25~",
            "EB*B*IND*30***27*25~\nEB*L~\nLS*2120~\nNM1*P3*1*WELBY*MARCUS****XX*1234567893~\nLE*2120~\n"
            "EB*R**30*MB~\nLS*2120~\nNM1*PRP*2*MEDICARE PART B~\nLE*2120~",
        )
        .replace("SE*18*", "SE*26*")
    )
    assert parse_271(text) == ("ENC1-ACME01", ACTIVE)
    [patient] = read_271(transactions_of(text)[0]).patients
    assert patient.unread_codes == ["L", "R"]
    subscriber = summary(text, summarize_271)[0]["subscribers"][0]
    assert subscriber["eligibility_codes"] == ["1", "A", "B", "C", "L", "R"]


@pytest.mark.parametrize("code, active", [("2", True), ("5", True), ("7", False), ("8", False)])
def test_eb01_2_to_5_are_active_and_7_and_8_inactive(code, active):
    text = build_271(SELF, ACTIVE, WHEN, 8).replace("EB*1*IND*30*C1~", f"EB*{code}*IND*30*C1~")
    assert parse_271(text)[1].active is active


def two_subscribers() -> str:
    """A batch 271: Jane (trace T-JANE) and John (T-JOHN) under one provider, then a second
    transaction for Ann (T-ANN)."""

    def subscriber(hl: int, trace: str, last: str, member: str, eb: str) -> list:
        return [seg("HL", hl, 2, "22", 0), seg("TRN", "2", trace, "9COBENGINE"),
                seg("NM1", "IL", "1", last, "J", "", "", "", "MI", member),
                seg("EB", eb, "IND", "30", "C1")]  # fmt: skip

    head = [seg("BHT", "0022", "11", "BATCH1", "20240301", "0930"), seg("HL", 1, "", "20", 1),
            seg("NM1", "PR", "2", "ACME", "", "", "", "", "PI", "ACME01"),
            seg("HL", 2, 1, "21", 1), seg("NM1", "1P", "2", "CLINIC", "", "", "", "", "XX", "1")]  # fmt: skip
    first = [*head, *subscriber(3, "T-JANE", "DOE", "M1", "1"),
             *subscriber(4, "T-JOHN", "ROE", "M2", "6")]  # fmt: skip
    second = [*head, *subscriber(3, "T-ANN", "POE", "M3", "1")]
    return build_interchange("HB", VERSION, [("271", first), ("271", second)], "A", "B", 9, WHEN)


def test_a_batch_271_with_several_subscribers_and_transactions_is_read_by_trace():
    text = two_subscribers()
    assert parse_271(text, trace="T-JOHN")[1].model_dump(include={"member_id", "active"}) == {
        "member_id": "M2", "active": False
    }  # fmt: skip
    assert parse_271(text, trace="T-ANN")[1].member_id == "M3"
    with pytest.raises(X12Error, match=r"segment HL: 3 patients are answered \(traces T-JANE, "
                                       r"T-JOHN, T-ANN\); one was asked about"):  # fmt: skip
        parse_271(text)
    assert [s["subscribers"] for s in summary(text, summarize_271)] == [
        [{"member_id": "M1", "active": True, "eligibility_codes": ["1"], "errors": []},
         {"member_id": "M2", "active": False, "eligibility_codes": ["6"], "errors": []}],
        [{"member_id": "M3", "active": True, "eligibility_codes": ["1"], "errors": []}],
    ]  # fmt: skip


def test_imsweb_271_is_refused_for_its_se_count():
    with pytest.raises(X12Error, match=r"segment SE at position 20: SE01 says 22 segments"):
        parse_271(corpus("imsweb/x270_271/x271.txt"))
