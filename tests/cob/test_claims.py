"""Claim-building rules (cob.claims): the claim control number, which services need prior
authorization, the frequency of a corrected claim, the 277CA wait, and what the payer's
answer makes of the claim."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cob.claims import (
    MAX_SUBMISSIONS,
    acknowledgment_resend_date,
    amount_at_stake,
    answer_result,
    claim_control_number,
    corrected_submission,
    correction_escalation,
    correction_lost,
    correction_needed,
    denial_needs_team,
    front_end_rejection,
    prior_auth_procedures,
    prior_auth_refusal,
)
from cob.deadlines import Deadline, DeadlineRules, FilingLimit, correction_deadline
from cob.denials import DenialDecision, Route
from cob.model import (
    Benefits,
    ClaimAcknowledgment,
    ClaimSubmission,
    Coverage,
    Encounter,
    LineAdjudication,
    PlanType,
    PriorAuthDecision,
    Remittance,
)


def encounter(*codes: str) -> Encounter:
    return Encounter.model_validate({
        "encounter_id": "E1006",
        "patient": {"first_name": "Marcus", "last_name": "Hale", "birth_date": "1981-02-17"},
        "service_date": "2026-10-20",
        "billing_provider": {"name": "Riverside", "npi": "1234567893", "tax_id": "123456789"},
        "diagnoses": ["M17.11"],
        "lines": [{"line_number": n, "procedure_code": code, "charge": "150.00"}
                  for n, code in enumerate(codes, start=1)],
    })  # fmt: skip


def benefits(*prior_auth: str) -> Benefits:
    return Benefits(
        payer_id="ACME01", member_id="ACM300400500", active=True,
        plan_type=PlanType.COMMERCIAL, prior_auth_procedures=list(prior_auth),
    )  # fmt: skip


def remittance(status: str = "1", payer_claim_number: str = "ICN-77") -> Remittance:
    return Remittance(
        claim_control_number="E1006-1-1", payer_id="ACME01", member_id="ACM300400500",
        payer_claim_number=payer_claim_number, payer_sequence=1, status=status,
        adjudication_date=date(2026, 11, 2),
        lines=[LineAdjudication(line_number=1, procedure_code="99213", charge=Decimal("150"),
                                allowed=Decimal("100"), paid=Decimal("80"))],
    )  # fmt: skip


def submission() -> ClaimSubmission:
    return ClaimSubmission(
        claim_control_number="E1006-1-1",
        payer_sequence=1,
        encounter=encounter("99213"),
        coverage=Coverage(payer_id="ACME01", member_id="ACM300400500",
                          plan_type=PlanType.COMMERCIAL, effective_date=date(2022, 5, 1)),
    )  # fmt: skip


POSTED = DenialDecision(route=Route.POST, explanation="no denial to work")
FIXABLE = DenialDecision(route=Route.FIX_RESUBMIT, reason_code="16", explanation="CARC 16")
APPEALABLE = DenialDecision(route=Route.APPEAL, reason_code="50", explanation="CARC 50")


def test_claim_control_number_counts_claim_and_attempt():
    assert claim_control_number("E1006", 2, 1, 3) == "E1006-2-3"


def test_claim_control_number_without_a_claim_number_uses_the_payer_position():
    # claim_number 0: the claims of encounters started before COB reviews (payer 2, attempt 1)
    assert claim_control_number("E1006", 0, 2, 1) == "E1006-2-1"


def test_only_the_procedures_the_payer_lists_need_prior_authorization():
    assert prior_auth_procedures(encounter("99213", "73721"), benefits("73721")) == ["73721"]
    assert prior_auth_procedures(encounter("99213"), benefits("73721")) == []


def test_an_approved_authorization_with_its_number_lets_the_claim_go():
    approved = PriorAuthDecision(payer_id="ACME01", status="approved", authorization_number="A1")
    assert prior_auth_refusal(approved) is None


def test_an_approval_without_a_number_holds_the_claim():
    approved = PriorAuthDecision(payer_id="ACME01", status="approved")
    assert prior_auth_refusal(approved) == "prior authorization approved:"


def test_a_denied_authorization_says_why_the_claim_is_not_sent():
    denied = PriorAuthDecision(payer_id="ACME01", status="denied", reason="HCR A3")
    assert prior_auth_refusal(denied) == "prior authorization denied: HCR A3"


def test_a_claim_with_no_277ca_is_resent_five_days_later():
    assert acknowledgment_resend_date(date(2026, 10, 28)) == date(2026, 11, 2)


def test_a_claim_is_sent_at_most_three_times():
    assert MAX_SUBMISSIONS == 3  # the original and two corrections


def test_a_277ca_rejection_is_fixed_and_resubmitted_with_its_code():
    ack = ClaimAcknowledgment(claim_control_number="E1006-1-1", accepted=False,
                              status_code="A7", reason="invalid subscriber id")  # fmt: skip
    decision = front_end_rejection(ack)
    assert (decision.route, decision.reason_code, decision.explanation) == (
        Route.FIX_RESUBMIT, "A7", "invalid subscriber id"
    )  # fmt: skip


def test_no_835_means_the_claim_was_rejected():
    assert answer_result(None, FIXABLE) == "rejected"


def test_a_clp02_4_is_denied_whatever_the_route():
    assert answer_result(remittance(status="4"), APPEALABLE) == "denied"


def test_a_fixable_denial_on_a_paid_835_is_denied():
    assert answer_result(remittance(status="1"), FIXABLE) == "denied"


def test_a_processed_835_with_nothing_to_fix_is_adjudicated():
    assert answer_result(remittance(status="1"), POSTED) == "adjudicated"
    assert answer_result(remittance(status="2"), APPEALABLE) == "adjudicated"


def test_only_a_cob_review_is_a_task_for_the_team():
    assert denial_needs_team(DenialDecision(route=Route.COB_REVIEW, reason_code="22"))
    assert not denial_needs_team(APPEALABLE)


def test_a_correction_after_adjudication_replaces_the_claim_as_frequency_7():
    corrected = corrected_submission(
        submission(), encounter("99214"), "E1006-1-2", remittance(payer_claim_number="ICN-77")
    )
    assert corrected.claim_control_number == "E1006-1-2"
    assert (corrected.frequency, corrected.original_payer_claim_number) == ("7", "ICN-77")
    assert corrected.encounter.lines[0].procedure_code == "99214"


def test_a_correction_after_a_277ca_rejection_is_a_new_original():
    corrected = corrected_submission(submission(), encounter("99214"), "E1006-1-2", None)
    assert (corrected.frequency, corrected.original_payer_claim_number) == ("1", None)


N290 = DenialDecision(route=Route.FIX_RESUBMIT, reason_code="16", remarks=["N290"],
                      explanation="CARC 16 N290 -> fix_resubmit")  # fmt: skip
# BLUE02: 365 days from the date of service 2026-10-21
FILING = Deadline(kind="correction", due=date(2027, 10, 21), rule="365 days from the date of "
                  "service", citation="payer contract")  # fmt: skip


def test_the_amount_at_stake_is_the_charge_the_835_left_unpaid():
    # 150.00 charged, 80.00 paid
    assert amount_at_stake(encounter("99213"), remittance()) == Decimal("70.00")


def test_a_claim_rejected_before_adjudication_has_its_whole_charge_at_stake():
    assert amount_at_stake(encounter("99213", "73721"), None) == Decimal("300.00")


def test_the_correction_task_says_what_to_fix_the_amount_and_the_deadline():
    text = correction_needed(N290, "E1007-1-1", Decimal("310.00"), FILING)
    assert text.startswith("claim E1007-1-1 denied, 310.00 at stake: CARC 16 (")
    assert "give the rendering provider's NPI (rendering_provider_npi)" in text
    assert text.endswith("by 2027-10-21 (365 days from the date of service, payer contract)")


def test_the_escalation_counts_the_days_left():
    text = correction_escalation(N290, "E1007-1-1", Decimal("310.00"), FILING, date(2027, 9, 21))
    assert text.startswith("claim E1007-1-1 still not corrected, 310.00 at stake: 30 days left")


def test_a_claim_never_corrected_is_lost_and_never_the_patients():
    text = correction_lost(N290, "E1007-1-1", Decimal("310.00"), FILING)
    assert "no correction for CARC 16 N290 -> fix_resubmit by the deadline 2027-10-21" in text
    assert "CO-29" in text and "never the patient's" in text


def test_a_correction_must_be_filed_within_the_claims_timely_filing():
    # ACME01-like terms: 180 days from the date of service 2026-10-20
    rules = DeadlineRules(timely_filing=FilingLimit(days=180))
    deadline = correction_deadline(rules, submission())
    assert (deadline.kind, deadline.due) == ("correction", date(2027, 4, 18))
    assert (
        deadline.rule
        == "a corrected claim is filed within timely filing: 180 days from the date of service"
    )
