"""Which of our claims a claim of an 835 file answers (cob.era_matching)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cob.era_matching import ClaimOnFile, EraMatch, match_era_claim
from cob.model import LineAdjudication, Remittance

ERA_CLAIM = Remittance(
    claim_control_number="E1001-1-1", payer_id="ACME01", member_id="ACM100000001",
    payer_claim_number="ICN-9", payer_sequence=1, status="1",
    adjudication_date=date(2026, 11, 2), claim_paid=Decimal("80.00"),
    lines=[LineAdjudication(line_number=1, procedure_code="99213", charge=Decimal("150"),
                            allowed=Decimal("100"), paid=Decimal("80"))],
)  # fmt: skip


def test_an_835_from_a_payer_not_in_the_directory_matches_nothing():
    waiting = ClaimOnFile("ACME01", None, None, None)
    assert match_era_claim(ERA_CLAIM, None, waiting) == EraMatch.UNKNOWN_PAYER


def test_a_claim_billed_to_another_payer_is_not_on_file():
    assert match_era_claim(ERA_CLAIM, "ACME01", None) == EraMatch.NOT_ON_FILE
    billed_to_blue = ClaimOnFile("BLUE02", None, None, None)
    assert match_era_claim(ERA_CLAIM, "ACME01", billed_to_blue) == EraMatch.NOT_ON_FILE


def test_a_claim_still_waiting_for_its_835_is_linked():
    waiting = ClaimOnFile("ACME01", None, None, None)
    assert match_era_claim(ERA_CLAIM, "ACME01", waiting) == EraMatch.AWAITED


def test_the_same_adjudication_posted_again_is_a_duplicate():
    settled = ClaimOnFile("ACME01", "1", Decimal("80.00"), "ICN-9")
    assert match_era_claim(ERA_CLAIM, "ACME01", settled) == EraMatch.DUPLICATE


def test_a_different_answer_for_a_settled_claim_is_after_settlement():
    # settled as denied (CLP02 4, paid 0) under ICN-8; this 835 pays 80 under ICN-9
    denied = ClaimOnFile("ACME01", "4", Decimal("0.00"), "ICN-8")
    assert match_era_claim(ERA_CLAIM, "ACME01", denied) == EraMatch.AFTER_SETTLEMENT
