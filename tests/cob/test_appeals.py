"""An appeal's own rules (cob.appeals): the escalation of an unfiled level, the close of its
window, what the payer's new 835 and the reviewer's decision mean."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cob.appeals import (
    AppealDecision,
    appeal_escalation_date,
    filing_window_closed,
    next_level_notice,
    payer_reprocessed,
    reprocessed_payment_due,
)
from cob.deadlines import AppealLevel, DeadlineRules, appeal_deadline
from cob.model import LineAdjudication, Remittance

MEDICARE = DeadlineRules(
    appeal_levels=[AppealLevel(name="redetermination", filing_days=120, decision_days=60)],
    notice_receipt_days=5,
    prompt_pay_days=30,
)
COMMERCIAL = DeadlineRules()  # one internal appeal, 180 days from the notice


def remittance(payer_claim_number: str) -> Remittance:
    return Remittance(
        claim_control_number="E1003-1-1", payer_id="MCARE", member_id="1EG4TE5MK72",
        payer_claim_number=payer_claim_number, payer_sequence=1, status="4",
        adjudication_date=date(2026, 11, 2),
        lines=[LineAdjudication(line_number=1, procedure_code="99213", charge=Decimal("150"),
                                allowed=Decimal("0"), paid=Decimal("0"))],
    )  # fmt: skip


def test_appeal_escalates_at_three_quarters_of_the_window():
    # notice 2026-11-02, received 11-07, due 2027-03-07 (120 days): 0.75 x 120 = day 90
    notice = date(2026, 11, 2)
    filing = appeal_deadline(MEDICARE, 1, notice)
    assert filing.due == date(2027, 3, 7)
    assert appeal_escalation_date(MEDICARE, notice, filing) == date(2027, 2, 5)


def test_appeal_escalation_rounds_up_to_a_whole_day():
    # 180 days from the notice 2026-11-02 (no receipt days): 0.75 x 180 = 135
    notice = date(2026, 11, 2)
    filing = appeal_deadline(COMMERCIAL, 1, notice)
    assert appeal_escalation_date(COMMERCIAL, notice, filing) == date(2027, 3, 17)
    # a 10-day window: 7.5 -> day 8
    short = filing.model_copy(update={"due": date(2026, 11, 12)})
    assert appeal_escalation_date(COMMERCIAL, notice, short) == date(2026, 11, 10)


def test_the_filing_window_is_open_through_its_last_day():
    filing = appeal_deadline(MEDICARE, 1, date(2026, 11, 2))
    assert not filing_window_closed(filing, date(2027, 3, 7))
    assert filing_window_closed(filing, date(2027, 3, 8))


def test_a_new_payer_claim_number_is_the_payers_reprocessing():
    assert payer_reprocessed(remittance("ICN-1"), remittance("ICN-2"))
    assert not payer_reprocessed(remittance("ICN-1"), remittance("ICN-1"))


def test_an_upheld_decision_opens_the_next_level_from_its_date():
    upheld = AppealDecision(level=1, outcome="upheld")
    assert reprocessed_payment_due(upheld, MEDICARE, date(2027, 1, 10)) is None
    assert next_level_notice(date(2027, 1, 10)) == date(2027, 1, 10)


def test_an_overturned_decision_is_paid_by_the_prompt_pay_day():
    overturned = AppealDecision(level=1, outcome="overturned")
    due = reprocessed_payment_due(overturned, MEDICARE, date(2027, 1, 10))
    assert due is not None and (due.kind, due.due) == ("prompt_pay", date(2027, 2, 9))
