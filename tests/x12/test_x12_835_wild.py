"""835s as real payers send them: claim-level CAS, claims without SVC lines, free-text
REF*6R, every CLP02, PLB, several interchanges; and where the engine's per-line money can
and cannot take a claim-level amount (005010X221A1)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from cob.model import Adjustment, ServiceLine
from cob.money import UnplaceableAmount, adjudication_to_post, place_claim_level
from payers.x12.remittance_835 import check_835_balance, parse_835, read_835
from payers.x12.segments import X12Error

CORPUS = Path(__file__).parents[1] / "x12_corpus"
PART_A = (CORPUS / "linuxforhealth/835_005010X221A1/medicare-part-a.835").read_text()

HEADER = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *261101*1200*^*00501*000000001*0*P*:~"
    "GS*HP*PAYER*CLINIC*20261101*1200*1*X*005010X221A1~ST*835*0001~"
)
TRAILER = "GE*1*1~IEA*1*000000001~"


def era(body: list[str], payment: str) -> str:
    """An 835 around claim segments, with BPR02 and the SE count written for them."""
    segments = [
        f"BPR*I*{payment}*C*CHK************20261101",
        "TRN*1*EFT778899*1987654321",
        "N1*PR*REAL HEALTH PLAN",
        "N1*PE*CLINIC*XX*1234567893",
        "LX*1",
        *body,
    ]
    return HEADER + "".join(s + "~" for s in segments) + f"SE*{len(segments) + 2}*0001~" + TRAILER


def test_medicare_part_a_claims_without_lines_keep_clp04_claim_cas_and_the_plb():
    check_835_balance(PART_A)
    [advice] = read_835(PART_A)
    assert advice.payer_ids == ["999", "1512345678"]  # REF*2U, then TRN03
    assert advice.payment == D("150000.00") and advice.trace_number == "12345"
    first, second = advice.remittances
    assert (first.claim_control_number, first.status, first.claim_charge, first.paid) == (
        "666123", "1", D("211366.97"), D("138018.40"))  # fmt: skip
    assert first.lines == [] and first.claim_adjustments == [
        Adjustment(group="CO", reason="45", amount=D("73348.57"))
    ]
    assert second.paid == D("11980.33") and second.claim_remarks == ["MA02"]
    # BPR02 150000.00 = CLP04 138018.40 + 11980.33 - PLB CV -1.27
    [plb] = advice.provider_adjustments
    assert (plb.reason, plb.reference, plb.amount, plb.provider_id) == (
        "CV", "CP", D("-1.27"), "6543210903")  # fmt: skip


def test_claim_level_cas_balances_with_the_lines_and_free_text_6r_is_kept():
    text = era([
        "CLP*A100*1*300*230*20*12*ICN55", "CAS*CO*45*30", "NM1*QC*1*DOE*JANE****MI*M1",
        "SVC*HC:99213:25*200*160", "CAS*CO*45*20", "CAS*PR*2*20", "REF*6R*LN-0001A",
        "SVC*HC:85025*100*100", "REF*6R*2",
    ], "230")  # fmt: skip
    check_835_balance(text)  # 300 - (30 + 20 + 20) = 230; BPR02 230
    [remittance] = parse_835(text)
    assert remittance.paid == D("230.00") and sum(ln.paid for ln in remittance.lines) == D("260")
    first, second = remittance.lines
    assert (first.line_number, first.procedure_code, first.control_number) == (1, "99213", "LN-0001A")
    assert (second.line_number, second.control_number) == (2, "")
    with pytest.raises(UnplaceableAmount, match=r"claim-level CAS CO-45 30.00 .* 2 service lines"):
        place_claim_level(remittance, [])


@pytest.mark.parametrize("status", ["19", "21", "23", "25"])
def test_every_5010_claim_status_is_read(status):
    [remittance] = parse_835(era([f"CLP*A1*{status}*100*0*0*12*ICN1", "CAS*CO*45*100"], "0"))
    assert remittance.status == status


def test_an_unknown_claim_status_and_a_fractional_cent_are_refused_naming_the_segment():
    with pytest.raises(X12Error, match=r"segment CLP at position 9: CLP02 '5' is not a 5010"):
        parse_835(era(["CLP*A1*5*100*0*0*12*ICN1", "CAS*CO*45*100"], "0"))
    with pytest.raises(X12Error, match=r"segment CLP at position 9: CLP04 '99.995' has more than 2 decimals"):
        parse_835(era(["CLP*A1*1*100*99.995*0*12*ICN1"], "99.99"))


def test_two_interchanges_in_one_file_are_both_read():
    one = era(["CLP*A1*1*100*80*0*12*ICN1", "CAS*CO*45*20"], "80")
    two = one.replace("000000001", "000000002").replace("CLP*A1", "CLP*A2")
    remittances = parse_835("\ufeff" + one.replace("~", "~\r\n") + "\n\n" + two)
    assert [r.claim_control_number for r in remittances] == ["A1", "A2"]


def line(number: int, charge: str) -> ServiceLine:
    return ServiceLine(line_number=number, procedure_code="99213", charge=D(charge))


def test_a_claim_without_lines_is_placed_on_its_only_billed_line():
    [remittance] = parse_835(era(["CLP*A1*1*150*90*20*12*ICN1", "CAS*CO*45*40", "CAS*PR*2*20"], "90"))
    placed = place_claim_level(remittance, [line(1, "150")])
    [only] = placed.lines
    assert (only.charge, only.allowed, only.paid) == (D("150"), D("110"), D("90"))
    assert only.paid + sum(a.amount for a in only.adjustments) == only.charge
    with pytest.raises(UnplaceableAmount, match=r"without service lines .* its 2 lines"):
        place_claim_level(remittance, [line(1, "100"), line(2, "50")])


def test_claim_level_cas_on_a_one_line_claim_joins_that_line():
    [remittance] = parse_835(era([
        "CLP*A1*1*100*60*10*12*ICN1", "CAS*OA*94*10", "SVC*HC:99213*100*70", "CAS*CO*45*20",
        "CAS*PR*1*10",
    ], "60"))  # fmt: skip
    [only] = place_claim_level(remittance, [line(1, "100")]).lines
    assert only.paid == D("60.00") and only.adjustments[-1] == Adjustment(
        group="OA", reason="94", amount=D("10"))  # fmt: skip
    assert only.paid + sum(a.amount for a in only.adjustments) == D("100")


@pytest.mark.parametrize(
    "status, why", [("22", "a reversal"), ("23", "not the payer's claim"), ("25", "predetermination")]
)
def test_a_reversal_a_forwarded_claim_or_an_estimate_is_not_posted_as_the_claims_answer(status, why):
    [remittance] = parse_835(era([f"CLP*A1*{status}*100*0*0*12*ICN1", "CAS*CO*45*100"], "0"))
    with pytest.raises(UnplaceableAmount, match=f"CLP02 {status} is {why}"):
        adjudication_to_post(remittance, [line(1, "100")])
