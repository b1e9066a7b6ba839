"""Which coverages are billed and in what order (cob.coverages): a 271 that says inactive takes
a coverage out of the order, with its reason; a COB denial (X12 CARC 22, 109, 19-21) bills the
next payer first, then the denier again, once per coverage, and sets the denied claim aside."""

from __future__ import annotations

from datetime import date

import pytest

from cob.coverages import (
    billing_order,
    cob_review_due,
    ineligible_coverages,
    rejected_inquiry,
    reorder_after_cob_denial,
)
from cob.denials import DenialDecision, Route
from cob.model import Benefits, Coverage, Encounter, Person, PlanType, Provider, ServiceLine

PATIENT = Person(first_name="Ana", last_name="Doe", birth_date=date(1980, 3, 10))


def cov(payer_id: str) -> Coverage:
    return Coverage(
        payer_id=payer_id, member_id=f"{payer_id}-1", plan_type=PlanType.COMMERCIAL,
        effective_date=date(2020, 1, 1),
    )  # fmt: skip


ACME, BCBS, MCD = cov("ACME01"), cov("BCBS01"), cov("MCD01")


def answer(coverage: Coverage, active: bool, reason: str = "") -> Benefits:
    return Benefits(
        payer_id=coverage.payer_id, member_id=coverage.member_id,
        plan_type=coverage.plan_type, active=active, reason=reason,
    )  # fmt: skip


def encounter(*coverages: Coverage) -> Encounter:
    return Encounter(
        encounter_id="ENC-1", patient=PATIENT, service_date=date(2026, 3, 2),
        billing_provider=Provider(name="Clinic", npi="1234567893", tax_id="587654321"),
        diagnoses=["J020"], lines=[ServiceLine(line_number=1, procedure_code="99213",
                                                charge="100.00")],
        coverages=list(coverages),
    )  # fmt: skip


def cob_denial(carc: str = "22") -> DenialDecision:
    return DenialDecision(
        route=Route.COB_REVIEW, reason_code=carc, remarks=["MA04"],
        explanation=f"CARC {carc} MA04 -> cob_review",
    )  # fmt: skip


def test_a_coverage_the_271_says_is_inactive_is_not_billed_and_says_why():
    benefits = {
        ACME.key: answer(ACME, True),
        BCBS.key: answer(BCBS, False, "coverage terminated 2025-12-31"),
    }
    order = billing_order(encounter(ACME, BCBS), benefits)
    assert [c.key for c in order.coverages] == ["ACME01:ACME01-1"]
    assert order.excluded == {
        "BCBS01:BCBS01-1": "not eligible (271): coverage terminated 2025-12-31"
    }
    assert ineligible_coverages([ACME, BCBS], benefits) == order.excluded


def test_a_rejected_eligibility_inquiry_counts_as_inactive_with_the_payers_code():
    benefits = rejected_inquiry(BCBS, "AAA 72 invalid member id")
    assert (benefits.active, benefits.reason) == (
        False, "payer rejected the eligibility inquiry: AAA 72 invalid member id",
    )  # fmt: skip


@pytest.mark.parametrize("carc", ["22", "109", "19", "20", "21"])
def test_a_cob_denial_by_the_first_of_two_payers_reorders_them(carc):
    assert cob_review_due(cob_denial(carc), 0, [ACME, BCBS], reviewed=set())


def test_no_review_for_the_last_payer_in_the_order():
    assert not cob_review_due(cob_denial(), 1, [ACME, BCBS], reviewed=set())


def test_a_coverage_is_reviewed_once_so_two_payers_naming_each_other_cannot_loop():
    assert not cob_review_due(cob_denial(), 0, [ACME, BCBS], reviewed={ACME.key})


def test_other_denials_do_not_reorder_the_payers():
    appeal = DenialDecision(route=Route.APPEAL, reason_code="50")
    assert not cob_review_due(appeal, 0, [ACME, BCBS], reviewed=set())
    assert not cob_review_due(None, 0, [ACME, BCBS], reviewed=set())


def test_the_next_payer_is_billed_first_then_the_denier_again():
    review = reorder_after_cob_denial([ACME, BCBS, MCD], 0, cob_denial(), ["ENC-1-1-1"])
    assert [c.payer_id for c in review.coverages] == ["BCBS01", "ACME01", "MCD01"]
    assert (review.decision.higher, review.decision.lower) == (BCBS.key, ACME.key)
    assert review.reason == (
        "COB review: ACME01 denied CARC 22 MA04 -> cob_review as payer 1; BCBS01 is billed "
        "first, then ACME01 again"
    )
    assert review.decision.citation.startswith("X12 CARC 22")
    assert review.set_aside == ["ENC-1-1-1"]


def test_a_review_further_down_the_order_keeps_the_payers_before_it():
    review = reorder_after_cob_denial([ACME, BCBS, MCD], 1, cob_denial("109"), ["C2"])
    assert [c.payer_id for c in review.coverages] == ["ACME01", "MCD01", "BCBS01"]
