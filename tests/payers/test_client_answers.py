"""The payer client reading answers the simulator never gives, from a payer over real HTTP: a
271 that refuses the inquiry with an AAA (transient or final), a 277 answered only at the
information receiver level (005010X279A1, 005010X212)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from cob.model import Coverage, Person, PlanType, Provider
from payers.client import PayerClient, PayerRejected, PayerUnavailable
from payers.x12.claim_status import StatusInquiry
from payers.x12.segments import build_interchange, seg
from tests.payer_stub import payer_stub

CORPUS = Path(__file__).parents[1] / "x12_corpus" / "linuxforhealth"
JANE = Person(first_name="JANE", last_name="DOE", birth_date=date(1980, 4, 12), sex="F")
CLINIC = Provider(name="CLINIC", npi="1234567893", tax_id="123456789")
COVERAGE = Coverage(payer_id="ACME01", member_id="ACM123", plan_type=PlanType.COMMERCIAL,
                    effective_date=date(2024, 1, 1))  # fmt: skip


def canned(x12: str):
    """A payer that answers every request with one X12 document."""
    return payer_stub(lambda method, path: ("application/edi-x12", x12.encode()))


def aaa_271(code: str, follow_up: str) -> str:
    body = [
        seg("BHT", "0022", "11", "T1", "20240301", "0930"),
        seg("HL", 1, "", "20", 0),
        seg("NM1", "PR", "2", "ACME", "", "", "", "", "PI", "ACME01"),
        seg("AAA", "Y", "", code, follow_up),  # 2100A: the payer answers for itself
    ]
    return build_interchange("HB", "005010X279A1", [("271", body)], "ACME01", "CLINIC", 9,
                             datetime(2024, 3, 1, 9, 30))  # fmt: skip


@pytest.mark.parametrize("code, follow_up", [("42", "R"), ("79", "P")])
async def test_a_271_saying_resubmit_later_is_transient_not_a_decision(code, follow_up):
    with canned(aaa_271(code, follow_up)) as url:
        async with PayerClient(url, retry_budget=0.5) as client:
            with pytest.raises(PayerUnavailable, match=f"AAA03 {code}"):
                await client.eligibility(COVERAGE, JANE, date(2024, 3, 1), CLINIC)


async def test_a_271_refusing_the_provider_for_good_keeps_its_aaa_code():
    with canned(aaa_271("43", "N")) as url:  # 43: invalid/missing provider identification
        async with PayerClient(url, retry_budget=0.5) as client:
            with pytest.raises(PayerRejected) as raised:
                await client.eligibility(COVERAGE, JANE, date(2024, 3, 1), CLINIC)
    assert raised.value.code == "AAA" and "AAA03 43" in raised.value.message


async def test_a_277_answered_only_at_the_receiver_level_answers_the_one_claim_asked():
    answer = (CORPUS / "277_005010X212/information-receiver-level-status.277").read_text()
    inquiry = StatusInquiry(
        trace_number="T-C1", claim_control_number="C1", payer_id="ACME01",
        provider_name="CLINIC", provider_npi="1234567893", member_id="ACM123", subscriber=JANE,
        patient=JANE, relationship="self", charge=D("100"), service_date=date(2024, 3, 1),
    )  # fmt: skip
    with canned(answer) as url:
        async with PayerClient(url, retry_budget=0.5) as client:
            status = await client.claim_status(inquiry)
    assert (status.trace_number, status.category, status.level) == ("T-C1", "E0", "2200B")
    assert not status.finalized and not status.not_found
