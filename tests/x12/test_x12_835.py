"""835 ERA: pyx12-valid builds, balancing, build/parse round trips (ASC X12 005010X221A1)."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from decimal import Decimal as D

import pytest
import pyx12.params
import pyx12.x12n_document

from cob.model import Adjustment, LineAdjudication, Remittance
from payers.x12.remittance_835 import ProviderAdjustment, build_835, check_835_balance, parse_835
from payers.x12.segments import X12Error

WHEN = datetime(2024, 2, 2, 12, 0)
# A secondary payer's 835 (sec_835.txt): OA-23 80 for the prior payer, PLB L6 interest 2.50.
SEC_835 = """ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *240201*1200*^*00501*000000005*0*T*:~
GS*HP*SUBMITTERID*RECEIVERID*20240201*1200*3*X*005010X221A1~
ST*835*0001~
BPR*I*22.5*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20240120~
TRN*1*12345*1512345678~
DTM*405*20240119~
N1*PR*SECONDARY HEALTH PLAN~
N3*1 PAYER WAY~
N4*CHICAGO*IL*60601~
PER*BL*EDI DEPT*TE*8005551212~
N1*PE*BEN KILDARE SERVICE*XX*1234567893~
LX*1~
CLP*26463774*2*100*20*0*12*EH123456789*11*1~
NM1*QC*1*SMITH*JANE****MI*JS00111223333~
DTM*232*20240102~
SVC*HC:99213*100*20**1~
DTM*472*20240102~
CAS*OA*23*80~
PLB*1234567893*20241231*L6*-2.5~
SE*18*0001~
GE*1*3~
IEA*1*000000005~
"""


def pyx12_valid(text: str) -> bool:
    with tempfile.NamedTemporaryFile("w", suffix=".835", delete=False) as f:
        f.write(text)
    return pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(),
        src_file=f.name,
        fd_997=None,
        fd_html=None,  # no 999
    )


def line(number, code, charge, allowed, paid, adjustments, remarks=()):
    return LineAdjudication(
        line_number=number, procedure_code=code, charge=D(charge), allowed=D(allowed), paid=D(paid),
        adjustments=[Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in adjustments],
        remarks=list(remarks),
    )  # fmt: skip


def remit(ccn, status, sequence, lines, payer="11111", icn="ICN1", when=date(2024, 2, 1)):
    return Remittance(
        claim_control_number=ccn, payer_id=payer, member_id="M123", payer_claim_number=icn,
        payer_sequence=sequence, status=status, adjudication_date=when, lines=lines,
    )  # fmt: skip


PRIMARY = remit("ENC1-P1", "1", 1, [
    line(1, "99213", "150", "100", "64", [("CO", "45", "50"), ("PR", "1", "20"), ("PR", "2", "16")],
         ["N130"]),
    line(2, "85025", "40", "30", "30", [("CO", "45", "10")]),
])  # fmt: skip
SECONDARY = remit("ENC1-P2", "2", 2, [line(1, "99213", "150", "100", "36", [("OA", "23", "114")])],
                  payer="22222", icn="ICN2")  # fmt: skip


def as_read(r: Remittance) -> Remittance:
    """What the 835 says of a remittance built from lines: its CLP03, CLP04, CLP05, CLP06."""
    return r.model_copy(update={
        "claim_charge": sum((ln.charge for ln in r.lines), D("0.00")),
        "claim_paid": sum((ln.paid for ln in r.lines), D("0.00")),
        "claim_patient_responsibility": sum(
            (a.amount for ln in r.lines for a in ln.adjustments if a.group == "PR"), D("0.00")),
        "filing_indicator": "12",
    })  # fmt: skip


def build(remits, payer="11111", **kw):
    return build_835(remits, "A PLAN", payer, "CLINIC", "1234567893", WHEN, 7, **kw)


def test_primary_835_is_valid_balanced_and_round_trips():
    text = build([PRIMARY], patients={"ENC1-P1": ("DOE", "JANE")},
                 service_dates={"ENC1-P1": date(2024, 1, 10)})  # fmt: skip
    assert pyx12_valid(text)
    check_835_balance(text)
    assert "CLP*ENC1-P1*1*190*94*36*12*ICN1~" in text
    assert "CAS*PR*1*20**2*16~" in text and "LQ*HE*N130~" in text and "AMT*B6*100~" in text
    assert "ST*835*0001~" in text  # ST03 is Not Used in X221A1
    assert parse_835(text) == [as_read(PRIMARY)]


def test_secondary_835_with_plb_interest():
    text = build(
        [SECONDARY], payer="22222", provider_adjustments=[ProviderAdjustment("L6", D("-2.50"))]
    )
    assert pyx12_valid(text)
    check_835_balance(text)
    assert "BPR*I*38.5*" in text and "PLB*1234567893*20241231*L6*-2.5~" in text
    assert parse_835(text) == [as_read(SECONDARY)]


def test_domain_x6_appendix_a3_is_valid_and_balances():
    assert pyx12_valid(SEC_835)
    check_835_balance(SEC_835)
    [parsed] = parse_835(SEC_835)
    assert parsed.status == "2" and parsed.payer_sequence == 2 and parsed.paid == D("20")
    assert parsed.adjudication_date == date(2024, 1, 19)
    assert parsed.lines[0].adjustments == [Adjustment(group="OA", reason="23", amount=D("80"))]
    assert parsed.member_id == "JS00111223333" and parsed.payer_claim_number == "EH123456789"


def test_round_trip_is_byte_stable_and_splits_by_date():
    later = remit("ENC9-P1", "1", 1, [line(1, "99214", "200", "120", "120", [("CO", "45", "80")])],
                  icn="ICN9", when=date(2024, 2, 5))  # fmt: skip
    text = build(
        [PRIMARY, later], provider_adjustments=[ProviderAdjustment("WO", D("10"), "OLDICN")]
    )
    assert pyx12_valid(text)
    check_835_balance(text)
    assert text.count("ST*835*") == 2 and "PLB*1234567893*20241231*WO:OLDICN*10~" in text
    parsed = parse_835(text)
    assert parsed == [as_read(PRIMARY), as_read(later)]
    assert build(parsed, provider_adjustments=[ProviderAdjustment("WO", D("10"), "OLDICN")]) == text


def test_many_adjustments_split_into_cas_of_six():
    many = [("PR", str(r), "1") for r in (1, 2, 3, 4, 5, 6, 7)]
    r = remit("ENC2-P1", "1", 1, [line(1, "99213", "100", "100", "93", many)])
    text = build([r])
    assert pyx12_valid(text)
    check_835_balance(text)
    assert "CAS*PR*1*1**2*1**3*1**4*1**5*1**6*1~\nCAS*PR*7*1~" in text
    assert parse_835(text) == [as_read(r)]


def test_tampered_svc_is_rejected_naming_svc():
    text = build([PRIMARY]).replace("SVC*HC:99213*150*64~", "SVC*HC:99213*150*70~")
    with pytest.raises(
        X12Error, match=r"segment SVC at position 16: SVC02 150.00 - CAS 86.00 = 64.00"
    ):
        check_835_balance(text)


def test_tampered_clp_and_bpr_are_rejected():
    text = build([PRIMARY])
    with pytest.raises(X12Error, match="segment CLP at position 14: .*but CLP04 is 95.00"):
        check_835_balance(text.replace("*190*94*", "*190*95*"))
    with pytest.raises(X12Error, match="segment BPR .*BPR02 999.00"):
        check_835_balance(text.replace("BPR*I*94*", "BPR*I*999*"))


def test_reversal_with_negative_amounts_balances():
    reversal = remit("ENC1-P1", "22", 0, [
        line(1, "99213", "-150", "-100", "-64", [("CO", "45", "-50"), ("PR", "1", "-20"), ("PR", "2", "-16")]),
        line(2, "85025", "-40", "-30", "-30", [("CO", "45", "-10")]),
    ])  # fmt: skip
    corrected = remit("ENC1-P1", "1", 1, [
        line(1, "99213", "150", "100", "80", [("CO", "45", "50"), ("PR", "1", "20")]),
        PRIMARY.lines[1],
    ], icn="ICN1A")  # fmt: skip
    text = build([reversal, corrected])
    assert pyx12_valid(text)
    check_835_balance(text)
    assert "CLP*ENC1-P1*22*-190*-94*-36*12*ICN1~" in text and "BPR*I*16*C*CHK" in text
    assert parse_835(text) == [as_read(reversal), as_read(corrected)]


def test_zero_payment_uses_bpr_h_and_negative_total_is_refused():
    denied = remit("ENC3-P1", "4", 0, [line(1, "99213", "100", "0", "0", [("CO", "197", "100")])])
    text = build([denied])
    assert "BPR*H*0*C*NON" in text and pyx12_valid(text)
    check_835_balance(text)
    with pytest.raises(ValueError, match="negative"):
        build([denied], provider_adjustments=[ProviderAdjustment("WO", D("5"))])
