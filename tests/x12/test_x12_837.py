"""837P build/parse/balance, validated by pyx12 (an independent X12 validator)."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal as D

import pytest
import pyx12.params as pyx12_params  # the independent validator (a dev dependency)
import pyx12.x12n_document as pyx12_document

from cob.model import (
    Adjustment,
    ClaimSubmission,
    Coverage,
    Encounter,
    LineAdjudication,
    Person,
    PlanType,
    Provider,  # fmt: skip
    Relationship,
    Remittance,
    ServiceLine,
)
from payers.x12.claim_837p import build_837p, check_837p_balance
from payers.x12.claim_837p_parse import parse_837p
from payers.x12.segments import X12Error
from tests.x12.pyx12_check import pyx12_valid

WHEN = datetime(2024, 2, 1, 12, 0)

X1 = """ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *240201*1200*^*00501*000000001*0*T*:~
GS*HC*SUBMITTERID*RECEIVERID*20240201*1200*1*X*005010X222A1~
ST*837*0001*005010X222A1~
BHT*0019*00*0123*20240201*1200*CH~
NM1*41*2*ACME BILLING SERVICE*****46*TGJ23~
PER*IC*JERRY*TE*3055552222~
NM1*40*2*SECONDARY HEALTH PLAN*****46*66783JJT~
HL*1**20*1~
NM1*85*2*BEN KILDARE SERVICE*****XX*1234567893~
N3*234 SEAWAY ST~
N4*MIAMI*FL*331111234~
REF*EI*587654321~
HL*2*1*22*0~
SBR*S*18*******CI~
NM1*IL*1*SMITH*JANE****MI*JS00111223333~
N3*236 N MAIN ST~
N4*MIAMI*FL*33413~
DMG*D8*19430501*F~
NM1*PR*2*SECONDARY HEALTH PLAN*****PI*999996666~
CLM*26463774*100***11:B:1*Y*A*Y*Y~
HI*ABK:J020~
SBR*P*18*GRP123******CI~
AMT*D*60~
OI***Y*P**Y~
NM1*IL*1*SMITH*JANE****MI*PRIM12345~
N3*236 N MAIN ST~
N4*MIAMI*FL*33413~
NM1*PR*2*PRIMARY HEALTH PLAN*****PI*111112222~
LX*1~
SV1*HC:99213*100*UN*1***1~
DTP*472*D8*20240102~
SVD*111112222*60*HC:99213**1~
CAS*CO*45*20~
CAS*PR*2*20~
DTP*573*D8*20240115~
AMT*EAF*20~
SE*35*0001~
GE*1*1~
IEA*1*000000001~
"""


def validate(text: str, tmp_path) -> tuple[bool, str]:
    path = tmp_path / "claim.837"
    path.write_text(text)
    ack = io.StringIO()
    ok = pyx12_document.x12n_document(param=pyx12_params.params(), src_file=str(path), fd_997=ack, fd_html=None,
                                      fd_xmldoc=None, map_path=None)  # fmt: skip
    return ok, ack.getvalue()


PATIENT = Person(first_name="Jane", last_name="Smith", birth_date=date(1955, 5, 1), sex="F")
CLINIC = Provider(name="Ben Kildare Service", npi="1234567893", tax_id="587654321",
                  address="234 Seaway St, Miami, FL 33111-1234", phone="(305) 555-2222")  # fmt: skip
PRIMARY = Coverage(payer_id="111112222", member_id="PRIM12345", plan_type=PlanType.COMMERCIAL,
                   group_number="GRP123", effective_date=date(2020, 1, 1))  # fmt: skip
SECONDARY = Coverage(payer_id="999996666", member_id="SEC777", plan_type=PlanType.COMMERCIAL,
                     effective_date=date(2020, 1, 1))  # fmt: skip
TERTIARY = Coverage(
    payer_id="77027",
    member_id="MCD0001",
    plan_type=PlanType.MEDICAID,
    effective_date=date(2020, 1, 1),
)
ENCOUNTER = Encounter(
    encounter_id="ENC-1", patient=PATIENT, service_date=date(2024, 1, 2), billing_provider=CLINIC,
    rendering_provider_npi="1497758544", diagnoses=["J020", "R509"],
    lines=[ServiceLine(line_number=1, procedure_code="99213", modifiers=["25"], charge=D("100.00"),
                       diagnosis_pointers=[1, 2]),
           ServiceLine(line_number=2, procedure_code="87880", charge=D("40.50"), units=2)],
    coverages=[PRIMARY, SECONDARY, TERTIARY])  # fmt: skip
PRIMARY_REMIT = Remittance(
    claim_control_number="CLM1", payer_id="111112222", member_id="PRIM12345", payer_claim_number="PCN-1",
    payer_sequence=1, status="1", adjudication_date=date(2024, 1, 15),
    lines=[LineAdjudication(line_number=1, procedure_code="99213", charge=D("100"), allowed=D("80"), paid=D("50"),
                            adjustments=[Adjustment(group="CO", reason="45", amount=D("20")),
                                         Adjustment(group="PR", reason="1", amount=D("10")),
                                         Adjustment(group="PR", reason="2", amount=D("20"))]),
           LineAdjudication(line_number=2, procedure_code="87880", charge=D("40.50"), allowed=D("30"), paid=D("24"),
                            adjustments=[Adjustment(group="CO", reason="45", amount=D("10.50")),
                                         Adjustment(group="PR", reason="2", amount=D("6"))])])  # fmt: skip
SECONDARY_REMIT = Remittance(
    claim_control_number="CLM1", payer_id="999996666", member_id="SEC777", payer_claim_number="SCN-9",
    payer_sequence=2, status="2", adjudication_date=date(2024, 1, 29),
    lines=[LineAdjudication(line_number=1, procedure_code="99213", charge=D("100"), allowed=D("80"), paid=D("25"),
                            adjustments=[Adjustment(group="CO", reason="45", amount=D("20")),
                                         Adjustment(group="OA", reason="23", amount=D("50")),
                                         Adjustment(group="PR", reason="2", amount=D("5"))]),
           LineAdjudication(line_number=2, procedure_code="87880", charge=D("40.50"), allowed=D("30"), paid=D("6"),
                            adjustments=[Adjustment(group="CO", reason="45", amount=D("10.50")),
                                         Adjustment(group="OA", reason="23", amount=D("24"))])])  # fmt: skip


def submission(
    sequence: int, coverage: Coverage, remits: list[Remittance], **kw
) -> ClaimSubmission:
    return ClaimSubmission(claim_control_number="CLM1", payer_sequence=sequence, encounter=ENCOUNTER,
                           coverage=coverage, prior_remittances=remits, **kw)  # fmt: skip


CASES = {
    "primary": submission(1, PRIMARY, [], prior_authorization_number="AUTH55"),
    "secondary": submission(2, SECONDARY, [PRIMARY_REMIT]),
    "tertiary": submission(
        3,
        TERTIARY,
        [PRIMARY_REMIT, SECONDARY_REMIT],
        frequency="7",
        original_payer_claim_number="TCN123",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_built_837p_is_valid_balanced_and_round_trips(name, tmp_path):
    text = build_837p(CASES[name], WHEN, 42)
    ok, ack = validate(text, tmp_path)
    assert ok, ack
    assert "IK5*A~" in ack and "AK9*A*1*1*1~" in ack
    check_837p_balance(text)
    [parsed] = parse_837p(text)
    assert build_837p(parsed.to_submission(), WHEN, 42) == text


def test_secondary_carries_primary_adjudication():
    text = build_837p(CASES["secondary"], WHEN, 42)
    assert "SBR*S*18*******CI~" in text and "SBR*P*18*GRP123******CI~" in text
    assert "AMT*D*74~" in text and "CAS*CO*45*20~" in text and "CAS*PR*1*10**2*20~" in text
    assert "SV1*HC:99213:25*100*UN*1***1:2~" in text and "CAS*CO*45*10.5~" in text
    [parsed] = parse_837p(text)
    assert (
        parsed.frequency == "1"
        and parsed.diagnoses == ["J020", "R509"]
        and parsed.member_id == "SEC777"
    )
    [remit] = parsed.remittances()
    assert remit.paid == D("74") and remit.payer_claim_number == "PCN-1"
    assert remit.lines[0].adjustments == PRIMARY_REMIT.lines[0].adjustments
    assert [line.modifiers for line in parsed.lines] == [["25"], []]


def test_tertiary_has_two_prior_payers_and_replacement_ref():
    [parsed] = parse_837p(build_837p(CASES["tertiary"], WHEN, 42))
    assert [o.sequence for o in parsed.other_payers] == [1, 2] and parsed.filing_indicator == "MC"
    assert parsed.frequency == "7" and parsed.original_claim_number == "TCN123"
    assert [a.payer_id for a in parsed.lines[1].adjudications] == ["111112222", "999996666"]


def test_dependent_patient_gets_2000c(tmp_path):
    spouse = Person(first_name="John", last_name="Smith", birth_date=date(1950, 3, 3), sex="M")
    coverage = PRIMARY.model_copy(
        update={"relationship": Relationship.SPOUSE, "subscriber": spouse}
    )
    text = build_837p(
        submission(1, coverage, []), WHEN, 7, patient_address="236 N Main St, Miami, FL 33413"
    )
    ok, ack = validate(text, tmp_path)
    assert ok, ack
    assert "PAT*01~" in text and "NM1*QC*1*SMITH*JANE~" in text
    [parsed] = parse_837p(text)
    assert parsed.relationship == Relationship.SPOUSE and parsed.subscriber.first_name == "JOHN"


def test_domain_x1_valid_and_balanced(tmp_path):
    ok, ack = validate(X1, tmp_path)
    assert ok and "IK5*A~" in ack and "AK9*A*1*1*1~" in ack
    check_837p_balance(X1)
    [parsed] = parse_837p(X1)
    assert parsed.claim_control_number == "26463774" and parsed.payer_sequence == 2
    assert parsed.other_payers[0].payer_id == "111112222" and parsed.other_payers[0].paid == D("60")
    assert parsed.lines[0].adjudications[0].adjudication_date == date(2024, 1, 15)


def test_domain_x4_unbalanced_svd_rejected(tmp_path):
    x4 = X1.replace("SVD*111112222*60*", "SVD*111112222*70*")
    ok, _ = validate(x4, tmp_path)
    assert ok  # pyx12 does not balance
    with pytest.raises(X12Error, match=r"segment SVD at position 32.*70"):
        check_837p_balance(x4)


def test_domain_x2_missing_line_adjudication_date_is_invalid(tmp_path):
    x2 = X1.replace("DTP*573*D8*20240115~\n", "").replace("SE*35*0001~", "SE*34*0001~")
    ok, ack = validate(x2, tmp_path)
    assert not ok and "IK3*DTP*33**3~" in ack and "IK5*R*5~" in ack


def test_domain_x3_unknown_adjustment_group_is_invalid(tmp_path):
    x3 = X1.replace("CAS*CO*45*20~", "CAS*XX*45*20~")
    ok, ack = validate(x3, tmp_path)
    assert not ok and "IK3*CAS*31**1~" in ack


def test_claim_level_imbalance_names_amt():
    bad = X1.replace("AMT*D*60~", "AMT*D*65~")
    with pytest.raises(X12Error, match=r"segment AMT at position 23.*65"):
        check_837p_balance(bad)


def test_truncated_file_names_segment():
    with pytest.raises(X12Error, match="segment GE.*no IEA"):
        parse_837p(X1.replace("IEA*1*000000001~\n", ""))


def test_wrong_se_count_names_se():
    with pytest.raises(X12Error, match="segment SE at position 37"):
        parse_837p(X1.replace("SE*35*", "SE*34*"))


def test_missing_address_is_refused():
    bare = CLINIC.model_copy(update={"address": ""})
    encounter = ENCOUNTER.model_copy(update={"billing_provider": bare})
    with pytest.raises(ValueError, match="address"):
        build_837p(CASES["primary"].model_copy(update={"encounter": encounter}), WHEN, 1)


# A pyx12-valid 005010X222A1 file: the MSP working-aged replacement claim (SBR05 12, frequency 7).
A2_MSP_FREQ7 = """\
ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *240201*1200*^*00501*000000004*0*T*:~
GS*HC*SUBMITTERID*RECEIVERID*20240201*1200*3*X*005010X222A1~
ST*837*0001*005010X222A1~
BHT*0019*00*0124*20240201*1200*CH~
NM1*41*2*ACME BILLING SERVICE*****46*TGJ23~
PER*IC*JERRY*TE*3055552222~
NM1*40*2*MEDICARE MAC*****46*12345~
HL*1**20*1~
NM1*85*2*BEN KILDARE SERVICE*****XX*1234567893~
N3*234 SEAWAY ST~
N4*MIAMI*FL*331111234~
REF*EI*587654321~
HL*2*1*22*0~
SBR*S*18***12****MB~
NM1*IL*1*SMITH*JOHN****MI*1EG4TE5MK73~
N3*236 N MAIN ST~
N4*MIAMI*FL*33413~
DMG*D8*19500501*M~
NM1*PR*2*MEDICARE MAC*****PI*12345~
CLM*26463775*175***11:B:7*Y*A*Y*Y~
REF*F8*22024001234567~
HI*ABK:I10~
SBR*P*18*GRP999******CI~
AMT*D*120~
OI***Y*P**Y~
NM1*IL*1*SMITH*JOHN****MI*GHP55555~
NM1*PR*2*EMPLOYER GHP*****PI*111112222~
LX*1~
SV1*HC:99214*175*UN*1***1~
DTP*472*D8*20240102~
SVD*111112222*120*HC:99214**1~
CAS*CO*45*25~
CAS*PR*2*30~
DTP*573*D8*20240115~
SE*33*0001~
GE*1*3~
IEA*1*000000004~
"""


def test_domain_x5_msp_replacement_is_valid_balanced_and_reads_back():
    assert pyx12_valid(A2_MSP_FREQ7)  # IK5*A
    check_837p_balance(A2_MSP_FREQ7)  # 175 = 120 + CO-45 25 + PR-2 30
    (claim,) = parse_837p(A2_MSP_FREQ7)
    assert (claim.frequency, claim.original_claim_number) == ("7", "22024001234567")
    assert (claim.payer_sequence, claim.medicare_basis, claim.filing_indicator) == (2, "12", "MB")
    (prior,) = claim.remittances()
    assert (prior.paid, prior.lines[0].allowed) == (D("120"), D("150"))  # OTAF 150, MSP-1


# 2320 claim-level CAS (005010X222A1): the prior payer took 10 of deductible at claim level.
# AMT*D 50 = SVD02 60 - 2320 CAS 10; CLM02 100 = AMT*D 50 + 2320 CAS 10 + 2430 CAS 40.
X1_CLAIM_CAS = X1.replace(
    "SBR*P*18*GRP123******CI~\nAMT*D*60~", "SBR*P*18*GRP123******CI~\nCAS*PR*1*10~\nAMT*D*50~"
).replace("SE*35*0001~", "SE*36*0001~")


def test_claim_level_cas_of_the_prior_payer_balances(tmp_path):
    ok, ack = validate(X1_CLAIM_CAS, tmp_path)
    assert ok, ack
    check_837p_balance(X1_CLAIM_CAS)  # the old check said AMT*D 50 != SVD02 60 (rule 3)
    [parsed] = parse_837p(X1_CLAIM_CAS)
    [other] = parsed.other_payers
    assert (other.paid, other.claim_adjustments) == (
        D("50"),
        [Adjustment(group="PR", reason="1", amount=D("10"))],
    )


def test_claim_level_cas_left_out_of_clm02_is_refused_naming_amt():
    bad = X1_CLAIM_CAS.replace("AMT*D*50~", "AMT*D*60~")  # 60 + 10 + 40 = 110, CLM02 is 100
    with pytest.raises(
        X12Error,
        match=r"segment AMT at position 24: CLM02 100 != AMT\*D 60 \+ 2320 CAS 10 \+ 2430 CAS 40",
    ):
        check_837p_balance(bad)


def test_a_later_payer_listed_for_information_is_not_balanced():
    # A third payer's 2320/2330 with no AMT*D and no 2430 line: it has not paid yet.
    later = "SBR*T*18*******MC~\nOI***Y*P**Y~\nNM1*IL*1*SMITH*JANE****MI*MCD1~\nNM1*PR*2*MEDICAID*****PI*77027~\n"
    text = X1.replace("LX*1~", later + "LX*1~").replace("SE*35*0001~", "SE*39*0001~")
    assert pyx12_valid(text)
    check_837p_balance(text)  # the old check wanted CLM02 100 = 0 for payer 77027
    [parsed] = parse_837p(text)
    assert [o.payer_id for o in parsed.other_payers] == ["111112222", "77027"]
    assert [r.payer_id for r in parsed.remittances()] == ["111112222"]  # 77027 has not adjudicated


def test_line_adjudications_without_amt_d_are_refused_naming_the_sbr():
    with pytest.raises(
        X12Error,
        match=r"segment SBR at position 22: payer 111112222 has 2430 lines \(SVD\) but its 2320 has no AMT\*D",
    ):
        check_837p_balance(X1.replace("AMT*D*60~\n", "").replace("SE*35*", "SE*34*"))


def test_a_2320_without_its_2330b_payer_is_refused_by_reader_and_balance():
    text = X1.replace("NM1*PR*2*PRIMARY HEALTH PLAN*****PI*111112222~\n", "").replace(
        "SE*35*", "SE*34*"
    )
    with pytest.raises(
        X12Error, match=r"segment SBR at position 22: this 2320 \(other subscriber\) has no 2330B"
    ):
        parse_837p(text)
    with pytest.raises(
        X12Error, match=r"segment SBR at position 22: this 2320 .* has no 2330B payer"
    ):
        check_837p_balance(text)


def test_hi_and_composites_split_on_the_isa16_of_the_file():
    # ISA16 '>' instead of ':': every composite of the body is written with '>'.
    text = X1.replace("*T*:~", "*T*>~").replace("11:B:1", "11>B>1").replace("ABK:J020", "ABK>J020")
    text = text.replace("HC:99213", "HC>99213")
    [parsed] = parse_837p(text)
    assert (parsed.place_of_service, parsed.frequency, parsed.diagnoses) == ("11", "1", ["J020"])
    assert (
        parsed.lines[0].procedure_code == "99213"
        and parsed.lines[0].adjudications[0].procedure_code == "99213"
    )
    with pytest.raises(
        X12Error, match=r"segment CLM at position 20: CLM05 '11:B:1' is not facility code"
    ):
        parse_837p(X1.replace("*T*:~", "*T*>~"))  # the ISA says '>' and the body uses ':'


def test_a_prior_payer_written_zz_is_kept_for_its_payments_but_not_as_a_coverage():
    # build_837p writes SBR09 ZZ for a prior payer whose coverage the encounter does not hold.
    text = X1.replace("SBR*P*18*GRP123******CI~", "SBR*P*18*GRP123******ZZ~")
    [parsed] = parse_837p(text)
    submission = parsed.to_submission()
    assert [c.payer_id for c in submission.encounter.coverages] == ["999996666"]
    assert [r.paid for r in submission.prior_remittances] == [D("60")]
    with pytest.raises(
        X12Error,
        match=r"segment SBR at position 22: SBR09 'ZZ' \(mutually defined\) has no plan type",
    ):
        parsed.require_plan_types()


def test_what_the_engine_repeats_on_its_own_claims_is_required_of_an_imported_one():
    no_phone = X1.replace("PER*IC*JERRY*TE*3055552222~\n", "").replace("SE*35*", "SE*34*")
    with pytest.raises(
        X12Error, match=r"segment NM1 at position 8: no telephone number \(PER TE\)"
    ):
        parse_837p(no_phone)
    no_address = X1.replace("N3*234 SEAWAY ST~\nN4*MIAMI*FL*331111234~\n", "").replace(
        "SE*35*", "SE*33*"
    )
    with pytest.raises(
        X12Error, match=r"segment NM1 at position 9: the billing provider has no address"
    ):
        parse_837p(no_address)


def test_a_prior_payers_allowed_read_from_2430_counts_co_pi_and_oa_not_only_co():
    # X1's 2430: charge 100, CAS*CO*45*20 and CAS*PR*2*20. Split as CO-45 15 and OA-94 5, the
    # payer allowed 100 - 15 - 5 = 80 (not 85, charge - CO), as the 835 reader reads the same
    # CAS (005010X221A1 loop 2110).
    text = X1.replace("CAS*CO*45*20~", "CAS*CO*45*15~CAS*OA*94*5~").replace("SE*35*", "SE*36*")
    [parsed] = parse_837p(text)
    [remit] = parsed.remittances()
    assert remit.lines[0].allowed == D("80")
