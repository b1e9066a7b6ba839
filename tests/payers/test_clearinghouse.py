"""The simulator as a clearinghouse speaking X12 over HTTP (ASC X12 005010): claim status
(276/277), 999 rejections, routing errors, the ERA mailbox and its cursor. Real HTTP, the
client the activities use, and the raw endpoints where another sender's document is the case."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal as D

import httpx
import pytest

from payers.client import PayerRefusedRequest
from payers.x12.acknowledgments import parse_999
from payers.x12.claim_837p import build_837p
from payers.x12.claim_status import StatusInquiry
from payers.x12.remittance_835 import check_835_balance, parse_835
from tests.payers.test_simulator import ACME, BLUE, CLINIC, DOS, EMPL, PATIENT, claim, coverage
from tests.x12.pyx12_check import pyx12_valid

WHEN = datetime(2026, 3, 3, 9, 0)


def inquiry(ccn: str, payer_id: str, member_id: str, charge: str) -> StatusInquiry:
    return StatusInquiry(
        trace_number=f"T-{ccn}", claim_control_number=ccn, payer_id=payer_id,
        provider_name=CLINIC.name, provider_npi=CLINIC.npi, member_id=member_id,
        subscriber=PATIENT, patient=PATIENT, relationship="self", charge=D(charge),
        service_date=DOS,
    )  # fmt: skip


async def test_276_answers_paid_denied_and_not_found(payers):
    met = coverage("ACME01", "ACM100200300")  # payers/simulator/members.json: 2026 deductible met
    paid = await payers.submit_claim(claim("S1", met, [("99213", "150.00")]))
    await payers.submit_claim(claim("S2", BLUE, [("73721", "400.00")], npi=None))  # CO-16

    f1 = await payers.claim_status(inquiry("S1", "ACME01", met.member_id, "150.00"))
    assert (f1.category, f1.payer_claim_number) == ("F1", paid.payer_claim_number)
    assert f1.paid == (await payers.remittance("S1")).paid > 0
    f2 = await payers.claim_status(inquiry("S2", "BLUE02", BLUE.member_id, "400.00"))
    assert (f2.category, f2.paid) == ("F2", D("0.00"))
    a4 = await payers.claim_status(inquiry("NOPE", "ACME01", ACME.member_id, "10.00"))
    assert a4.category == "A4" and a4.not_found
    kinds = [
        (e.transaction, e.direction) for e in payers.exchanges if e.transaction in ("276", "277")
    ]
    assert kinds == [("276", "sent"), ("277", "received")] * 3


async def test_unbalanced_cob_loops_get_a_999_rejection_naming_svd(payers, simulator):
    await payers.submit_claim(claim("U1", ACME, [("99213", "150.00")]))
    primary = await payers.remittance("U1")
    secondary = claim("U1", EMPL, [("99213", "150.00")], sequence=2, prior_remittances=[primary])
    text = build_837p(secondary, WHEN, 5)
    paid = f"SVD*ACME01*{str(primary.paid).rstrip('0').rstrip('.')}*"
    assert paid in text
    unbalanced = text.replace(paid, "SVD*ACME01*70*")  # pyx12 passes it; our 2430 balancing must refuse it
    answer = httpx.post(f"{simulator.url}/x12/837", content=unbalanced).json()
    accepted, errors = parse_999(answer["ack_999"])
    assert not accepted and answer["ack_277ca"] is None
    assert [e.segment_id for e in errors] == ["SVD"]
    assert pyx12_valid(answer["ack_999"])


async def test_an_837_to_an_unknown_payer_is_refused_404(payers):
    stranger = claim("N1", coverage("NOPE9", "X1"), [("99213", "150.00")])
    with pytest.raises(PayerRefusedRequest) as refused:
        await payers.submit_claim(stranger)
    # refused, not decided on: the message (for logs) names the call, the detail the reason
    assert refused.value.code == "404" and "POST /x12/837" in str(refused.value)
    assert "NOPE9" not in str(refused.value) and "unknown payer id NOPE9" in refused.value.detail


@pytest.mark.parametrize("path", ["/x12/270", "/x12/278", "/x12/276", "/x12/837"])
def test_a_body_that_is_not_an_interchange_is_refused_naming_isa(simulator, path):
    answer = httpx.post(f"{simulator.url}{path}", content="hello")
    assert answer.status_code == 400 and "segment ISA" in answer.text


async def test_era_mailbox_pages_by_cursor_and_a_resend_adds_nothing(payers):
    for n in (1, 2, 3):
        assert (await payers.submit_claim(claim(f"M{n}", ACME, [("99213", "150.00")]))).accepted
    again = await payers.submit_claim(claim("M1", ACME, [("99213", "150.00")]))  # a resend
    assert again.accepted
    first = await payers.era(None, limit=2)
    assert (len(first.documents), first.more) == (2, True)
    rest = await payers.era(first.documents[-1].cursor, limit=2)
    assert (len(rest.documents), rest.more) == (1, False)
    assert (await payers.era(rest.documents[-1].cursor)).documents == []
    mailbox, _, _ = first.documents[0].cursor.partition(".")
    other = await payers.era("000000000000.1")  # another mailbox's cursor starts from the top
    assert mailbox != "000000000000" and len(other.documents) == 3
    for era in other.documents:
        check_835_balance(era.x12)
        assert pyx12_valid(era.x12)
    assert [r.claim_control_number for d in other.documents for r in parse_835(d.x12)] == [
        "M1", "M2", "M3"
    ]  # fmt: skip


async def test_a_void_is_an_835_with_clp_22_a_zero_check_and_a_forward_balance(payers):
    ack = await payers.submit_claim(claim("V9", EMPL, [("99213", "200.00")]))
    void = claim("V9", EMPL, [("99213", "200.00")], frequency="8",
                 original_payer_claim_number=ack.payer_claim_number)  # fmt: skip
    assert (await payers.submit_claim(void)).accepted
    text = (await payers.era(None)).documents[-1].x12
    check_835_balance(text)
    assert pyx12_valid(text)
    assert re.search(r"^BPR\*H\*0\*", text, re.M) and re.search(r"^PLB\*.*\*FB:", text, re.M)
    (reversal,) = parse_835(text)
    assert reversal.status == "22" and reversal.paid < 0
