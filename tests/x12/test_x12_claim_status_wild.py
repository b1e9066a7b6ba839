"""276/277 (005010X212) as others write them: the public LinuxForHealth and imsweb samples in
tests/x12_corpus, statuses at the information receiver (2200B) and provider (2200C) levels, and
the segments X212 makes situational."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from cob.model import Person, Relationship
from payers.x12.claim_status import (
    ClaimStatusReport,
    LevelStatus,
    StatusInquiry,
    build_276,
    build_277,
    parse_276,
    parse_277,
    summarize_276,
    summarize_277,
)
from payers.x12.segments import X12Error, decode_x12, transactions_of

CORPUS = Path(__file__).parents[1] / "x12_corpus" / "linuxforhealth"
FRED = Person(first_name="FRED", last_name="SMITH", birth_date=date(1930, 12, 10), sex="M")
JOSEPH = Person(first_name="JOSEPH", last_name="MANN", birth_date=date(1995, 11, 1), sex="M")


def corpus(name: str) -> str:
    return decode_x12((CORPUS / name).read_bytes())


def fred(trace: str = "ABCXYZ1", **changes) -> StatusInquiry:
    fields = dict(
        trace_number=trace, claim_control_number="SM123456", payer_id="12345",
        provider_name="HOME HOSPITAL", provider_npi="1666666661", member_id="123456789A",
        subscriber=FRED, patient=FRED, relationship=Relationship.SELF, charge=D("8513.88"),
        service_date=date(2005, 8, 31),
    )  # fmt: skip
    return StatusInquiry(**(fields | changes))


# --- 276 ---------------------------------------------------------------------------------


def test_276_for_a_dependent_without_the_subscriber_dmg_amt_or_claim_dtp():
    """HL 7 (MANN JOHN) has no DMG; claim ABCXYZ3 has no AMT*T3, and its date is on its SVC."""
    first, second, third = parse_276(corpus("276_005010X212/claim-level-status.276"))
    assert first == fred()
    assert (second.trace_number, second.claim_control_number, second.member_id) == (
        "ABCXYZ2", "J0234567", "234567890A"
    )  # fmt: skip
    assert (second.charge, second.service_date) == (D("7599.00"), date(2005, 7, 31))
    assert third == StatusInquiry(
        trace_number="ABCXYZ3", claim_control_number="MA345678", payer_id="12345",
        provider_name="HOME HOSPITAL PHYSICANS", provider_npi="166666666",
        member_id="345678901", subscriber=None, patient=JOSEPH,
        relationship=Relationship.OTHER, charge=None, service_date=date(2005, 5, 1),
    )  # fmt: skip


def test_276_for_a_pharmacy_claim_without_ref_ej():
    [inquiry] = parse_276(corpus("276_005010X212/claim-level-status-ncpdp.276"))
    assert inquiry == fred(
        claim_control_number="", provider_name="HOME HOSPITAL PHARMACY",
        provider_npi="1666666662", charge=D("85.00"), service_date=date(2006, 3, 1),
    )  # fmt: skip


def test_276_information_receiver_and_provider_level_samples():
    assert parse_276(corpus("276_005010X212/information-receiver-level-status.276")) == [fred()]
    mine, joseph = parse_276(corpus("276_005010X212/provider-level-status.276"))
    assert mine == fred()
    assert (joseph.trace_number, joseph.provider_name, joseph.subscriber, joseph.patient) == (
        "ABCXYZ3", "HOME HOSPITAL PHYSICIANS", None, JOSEPH
    )  # fmt: skip


def test_summarize_276_names_each_trace_and_claim_control_number():
    text = corpus("276_005010X212/claim-level-status.276")
    assert summarize_276(transactions_of(text)[0]) == {
        "inquiries": [
            {"trace_number": "ABCXYZ1", "claim_control_number": "SM123456"},
            {"trace_number": "ABCXYZ2", "claim_control_number": "J0234567"},
            {"trace_number": "ABCXYZ3", "claim_control_number": "MA345678"},
        ]
    }


def test_a_276_without_the_provider_level_reads_no_provider():
    text = corpus("276_005010X212/information-receiver-level-status.276")
    text = text.replace("HL*3*2*19*1~\nNM1*1P*2*HOME HOSPITAL*****XX*1666666661~\n", "")
    text = text.replace("HL*4*3*22*0~", "HL*4*2*22*0~").replace("SE*17*", "SE*15*")
    [inquiry] = parse_276(text)
    assert (inquiry.provider_name, inquiry.provider_npi) == ("", "")


def test_a_dependent_276_rebuilds_without_a_subscriber_dmg():
    """What the simulator does with a received 276: answer the inquiries it read."""
    [*_, joseph] = parse_276(corpus("276_005010X212/claim-level-status.276"))
    text = build_276([joseph], datetime(2024, 2, 2, 12), 7)
    assert "HL*4*3*22*1~\nNM1*IL*1******MI*345678901~\nHL*5*4*23~\nDMG*D8*19951101*M~" in text
    assert "AMT*T3" not in text
    assert parse_276(text) == [joseph]


# --- 277 ---------------------------------------------------------------------------------


def test_277_with_three_claim_statuses_and_a_service_line_stc():
    p3, f0, f2 = parse_277(corpus("277_005010X212/claim-level-status.277"))
    assert p3 == ClaimStatusReport(
        trace_number="ABCXYZ1", claim_control_number="SM123456", payer_claim_number="05347006051",
        category="P3", status_code="317", effective_date=date(2005, 9, 13), charge=D("8513.88"),
    )  # fmt: skip
    assert (f0.category, f0.status_code, f0.paid) == ("F0", "3", D("7599.00"))
    # ABCXYC3 answers the 276's ABCXYZ3 (a typo in the sample): read as written
    assert (f2.trace_number, f2.category, f2.status_code, f2.paid) == (
        "ABCXYC3", "F2", "88", D("0.00")
    )  # fmt: skip


def test_277_for_a_pharmacy_claim_without_ref_ej():
    [status] = parse_277(corpus("277_005010X212/claim-level-status-ncpdp.277"))
    assert (status.trace_number, status.claim_control_number, status.category) == (
        "ABCXYZ1", "", "F2"
    )  # fmt: skip
    assert (status.status_code, status.charge) == ("80", D("85.00"))


def test_277_with_only_an_information_receiver_status_answers_at_2200b():
    """STC*E0:0 under HL 21 with no claim below: the payer could not answer the request."""
    text = corpus("277_005010X212/information-receiver-level-status.277")
    assert parse_277(text) == [
        ClaimStatusReport(trace_number="ABC276XXX", category="E0", status_code="0",
                    effective_date=date(2005, 9, 16), level="2200B")
    ]  # fmt: skip
    assert summarize_277(transactions_of(text)[0]) == {"claims": []}  # a status, not a claim


def test_277_provider_level_status_comes_back_beside_the_claim():
    text = corpus("277_005010X212/provider-level-status.277")
    claim, provider = parse_277(text)
    assert (claim.trace_number, claim.category, claim.level, claim.above) == (
        "ABCXYZ1", "P3", "claim", []
    )  # fmt: skip
    assert (provider.trace_number, provider.category, provider.status_code, provider.level) == (
        "0", "E0", "24", "2200C"
    )  # fmt: skip
    assert summarize_277(transactions_of(text)[0]) == {
        "claims": [{"trace_number": "ABCXYZ1", "claim_control_number": "SM123456",
                    "category": "P3", "status_code": "317"}]
    }  # fmt: skip


def test_a_2200b_status_above_claims_is_attached_to_each_of_them():
    inquiries = [fred(), fred("ABCXYZ2", claim_control_number="J0234567")]
    statuses = [ClaimStatusReport(trace_number=i.trace_number, claim_control_number=i.claim_control_number,
                            category="P1", status_code="20", effective_date=date(2005, 9, 16),
                            charge=i.charge) for i in inquiries]  # fmt: skip
    text = build_277(inquiries, statuses, datetime(2005, 9, 16, 8), 8)
    text = text.replace("NM1*41*2*HOME HOSPITAL*****46*1666666661~",
                        "NM1*41*2*HOME HOSPITAL*****46*1666666661~\nTRN*2*ABC276XXX~\n"
                        "STC*E1:0*20050916~").replace("SE*21*", "SE*23*")  # fmt: skip
    receiver = LevelStatus(level="2200B", trace_number="ABC276XXX", category="E1",
                           status_code="0", effective_date=date(2005, 9, 16))  # fmt: skip
    assert [(s.trace_number, s.category, s.above) for s in parse_277(text)] == [
        ("ABCXYZ1", "P1", [receiver]), ("ABCXYZ2", "P1", [receiver])
    ]  # fmt: skip


def test_a_level_status_with_an_unknown_category_names_the_stc():
    text = corpus("277_005010X212/information-receiver-level-status.277").replace("E0:0", "Z9:0")
    with pytest.raises(X12Error, match=r"segment STC at position 10: STC01-1 'Z9' is not a claim"):
        parse_277(text)


def test_imsweb_277_is_refused_for_its_iea_control_number():
    text = decode_x12((CORPUS.parent / "imsweb/277_5010/x12_277_x212.txt").read_bytes())
    with pytest.raises(X12Error, match=r"segment IEA at position 111: IEA says 1 groups / control "
                                       r"842928883; the interchange has 1 / 000000001"):  # fmt: skip
        parse_277(text)
