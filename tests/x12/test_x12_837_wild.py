"""The 837P reader on files nobody here wrote (tests/x12_corpus): the LinuxForHealth 837Ps,
837Is and 4010 files, and imsweb's file with other separators. Each case asserts what a
plain reading of the file says."""

from __future__ import annotations

import re
from decimal import Decimal as D
from pathlib import Path

import pytest

from cob.model import Adjustment, PlanType, Relationship
from payers.x12.claim_837p import check_837p_balance
from payers.x12.claim_837p_parse import (
    ParsedClaim,
    UnreadClaim,
    encounter_id_of,
    parse_837p,
    read_837p,
    refusal_of_837,
    summarize_837p,
)
from payers.x12.segments import X12Error, transactions_of

CORPUS = Path(__file__).resolve().parents[1] / "x12_corpus"
LFH = CORPUS / "linuxforhealth"
P_FILES = sorted((LFH / "837_005010X222A2").glob("*.837"))


def claims_of(path: Path) -> list[ParsedClaim | UnreadClaim]:
    [transaction] = transactions_of(path.read_text())
    return read_837p(transaction)


def summary_of(path: Path) -> list[dict]:
    [transaction] = transactions_of(path.read_text())
    return summarize_837p(transaction)["claims"]


@pytest.mark.parametrize("path", P_FILES, ids=lambda p: p.name)
def test_every_linuxforhealth_837p_is_read_or_its_claims_skipped_naming_a_segment(
    path: Path,
) -> None:
    for claim in claims_of(path):
        if isinstance(claim, UnreadClaim):
            assert re.match(r"segment \w+ at position \d+: ", claim.reason), claim.reason
        else:
            assert claim.lines and all(line.service_date for line in claim.lines)


def test_summaries_of_linuxforhealth_837ps() -> None:
    example1 = LFH / "837_005010X222A2" / "demo.example1.837"  # patient is a dependent (HL 23)
    assert summary_of(example1) == [{
        "claim_control_number": "26463774", "charge": "100.00", "lines": 4,
        "payer_id": "999996666", "member_id": "JS00111223333", "other_payers": [],
    }]  # fmt: skip
    cob = LFH / "837_005010X222A2" / "demo.cob.example3.B.837"
    assert summary_of(cob) == [{
        "claim_control_number": "26407789", "charge": "79.04", "lines": 3,
        "payer_id": "567890", "member_id": "222334444", "other_payers": ["999996666"],
    }]  # fmt: skip
    drug = LFH / "837_005010X222A2" / "demo.drug.example10.2.837"  # six LX, one a 2410 drug each
    assert [(c["charge"], c["lines"]) for c in summary_of(drug)] == [("2232.93", 6)]


def test_a_dependent_claim_reads_the_patient_from_2000c() -> None:
    [claim] = claims_of(LFH / "837_005010X222A2" / "demo.example1.837")
    assert isinstance(claim, ParsedClaim)
    assert (claim.patient.first_name, claim.patient.last_name) == ("TED", "SMITH")
    assert (claim.subscriber.first_name, claim.relationship) == ("JANE", Relationship.CHILD)
    assert claim.patient_address == "236 N MAIN ST, MIAMI, FL 33413"
    assert [(ln.procedure_code, ln.charge) for ln in claim.lines] == [
        ("99213", D("40.00")), ("87070", D("15.00")), ("99214", D("35.00")), ("86663", D("10.00"))]  # fmt: skip
    assert claim.billing_provider.phone == "3055552222"  # 1000A PER: 2010AA has none


def test_sbr09_hm_reads_as_a_commercial_plan() -> None:
    [claim] = claims_of(LFH / "837_005010X222A2" / "demo.example2.837")  # SBR*P*18*12312-A******HM
    assert isinstance(claim, ParsedClaim) and claim.filing_indicator == "HM"
    assert claim.to_submission().coverage.plan_type == PlanType.COMMERCIAL


def test_cob_example_with_claim_level_cas_balances() -> None:
    path = LFH / "837_005010X222A2" / "demo.cob.example3.B.837"
    check_837p_balance(
        path.read_text()
    )  # AMT*D 39.15 = SVD 76.04 - CAS 36.89; 79.04 = 39.15 + 36.89 + 3
    [claim] = claims_of(path)
    assert isinstance(claim, ParsedClaim)
    [other] = claim.other_payers
    assert (other.payer_id, other.paid, other.filing_indicator) == ("999996666", D("39.15"), "12")
    assert other.claim_adjustments == [
        Adjustment(group="PR", reason="1", amount=D("21.89")),
        Adjustment(group="PR", reason="2", amount=D("15.00")),
    ]


def test_a_payer_listed_for_information_only_is_not_balanced() -> None:
    # SBR*S 2320 for SECONDARY INSURANCE COMPANY (95645): no AMT*D, no SVD.
    check_837p_balance((LFH / "837_005010X222A2" / "demo.example12.837").read_text())


def test_a_2320_without_2330b_is_refused_naming_the_sbr() -> None:
    [claim] = claims_of(LFH / "837_005010X222A2" / "demo.cob.example3.A.837")
    assert isinstance(claim, UnreadClaim) and claim.claim_control_number == "26407789"
    assert claim.reason.startswith(
        "segment SBR at position 39: this 2320 (other subscriber) has no 2330B"
    )


def test_composites_written_with_another_separator_than_isa16_are_refused_naming_clm05() -> None:
    # The ISA16 is ':' but the body writes CLM05 as 11>B>1.
    [claim] = claims_of(LFH / "837_005010X222A2" / "demo.example6.837")
    assert isinstance(claim, UnreadClaim)
    assert claim.reason == (
        "segment CLM at position 21: CLM05 '11>B>1' is not facility code:qualifier:frequency, "
        "split on ':' (the component separator ISA16 declares)"
    )


def test_a_tax_id_with_a_hyphen_is_refused_naming_the_ref() -> None:
    [claim] = claims_of(LFH / "837_005010X222A2" / "demo.drug.example10.2.837")
    assert isinstance(claim, UnreadClaim)
    assert (
        claim.reason
        == "segment REF at position 12: REF02 '10-1234567': the billing provider's tax id must be 9 digits"
    )


def test_clm01_with_a_space_and_a_hash_gets_a_derived_encounter_id() -> None:
    [claim] = claims_of(LFH / "837_005010X222A2" / "demo.example7.837")
    assert isinstance(claim, ParsedClaim) and claim.claim_control_number == "R03996273 #01"
    encounter_id = claim.to_submission().encounter.encounter_id
    assert re.fullmatch(r"R03996273-01-[0-9a-f]{6}", encounter_id)
    assert encounter_id == encounter_id_of("R03996273 #01") != encounter_id_of("R03996273 01")
    assert encounter_id_of("26463774") == "26463774"
    assert len(encounter_id_of("A" * 38)) == 30


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (LFH / "837_005010X223A3" / "two-claims-single-provider.837i",
         "ST 987654 is an 837I (005010X223A3, institutional); only the 837P (005010X222A1) is read"),
        (LFH / "837_004010X096A1" / "automobile-accident.837",
         "ST 987185 is a 4010 837I (004010X096A1, institutional); only the 837P (005010X222A1) is read"),
        (LFH / "837_004010X098A1" / "coordination-of-benefits.837",
         "ST 0002 is a 4010 837P (004010X098A1, professional); only the 837P (005010X222A1) is read"),
        (CORPUS / "pyx12" / "multiple_st_loops.txt",
         "ST 0001 is transaction set 834, not an 837; only the 837P (005010X222A1) is read"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else "",
)  # fmt: skip
def test_transactions_that_are_not_837p_are_refused_in_one_line(path: Path, reason: str) -> None:
    transaction = transactions_of(path.read_text())[0]
    assert refusal_of_837(transaction) == reason
    with pytest.raises(X12Error, match=re.escape(reason)):
        parse_837p(path.read_text())


def test_837d_and_unknown_guides_are_refused_and_x222a1_a2_read() -> None:
    text = (LFH / "837_005010X222A2" / "demo.example1.837").read_text()
    for guide, reason in [
        ("005010X224A2", "ST 0021 is an 837D (005010X224A2, dental); only the 837P (005010X222A1) is read"),
        ("005010X999", "ST 0021 names guide '005010X999', not an 837 guide this reader knows; only the 837P (005010X222A1) is read"),
        ("005010X222A1", None),
        ("005010X222A2", None),
    ]:  # fmt: skip
        [transaction] = transactions_of(text.replace("005010X222A2", guide))
        assert refusal_of_837(transaction) == reason


def test_imsweb_file_with_other_separators_splits_on_its_isa16() -> None:
    # element '~', component '^', segment '_'; SE01 says 25 for 34 segments, so it is made 34.
    text = (CORPUS / "imsweb" / "837_5010" / "x12_valid_different_separators.txt").read_text()
    with pytest.raises(X12Error, match="segment SE at position 36: SE01 says 25 segments"):
        transactions_of(text)
    [transaction] = transactions_of(text.replace("SE~25~", "SE~34~"))
    assert summarize_837p(transaction)["claims"] == [
        {"claim_control_number": "A37YH556", "charge": "500.00", "lines": 1, "payer_id": "11122333",
         "member_id": "123456", "other_payers": []},
        {"claim_control_number": "A37YH667", "charge": "500.00", "lines": 1, "payer_id": "11122333",
         "member_id": "123456", "other_payers": []},
    ]  # fmt: skip
    first, second = read_837p(transaction)
    assert isinstance(first, UnreadClaim) and isinstance(second, UnreadClaim)
    assert "the subscriber has no DMG" in first.reason
    assert second.reason == "segment HL at position 27: HL01 2 is used twice (also at position 18)"
