"""Deadline rules, calendar-day exact (42 CFR 424.44, 42 CFR 405.942, 42 USC 1395ff, payer contracts)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from cob.deadlines import (
    AppealLevel,
    DeadlineRules,
    FilingLimit,
    add_months,
    appeal_deadline,
    appeal_decision_due,
    escalation_date,
    first_status_check,
    next_status_check,
    prior_auth_decision_due,
    prompt_pay_due,
    timely_filing_deadline,
)

MEDICARE = DeadlineRules(
    timely_filing=FilingLimit(months=12),
    timely_filing_source="42 CFR 424.44(a)(1)",
    statutory=True,
    secondary_from_prior_remit=FilingLimit(days=90),  # ignored: a statute is never lengthened
    appeal_levels=[
        AppealLevel(name="redetermination", filing_days=120, decision_days=60),
        AppealLevel(name="reconsideration", filing_days=180, decision_days=60),
        AppealLevel(name="ALJ hearing", filing_days=60, decision_days=90),
    ],
    appeal_source="42 USC 1395ff; 42 CFR 405.942",
    notice_receipt_days=5,
    prompt_pay_days=30,
    payment_floor_days=13,
)
COMMERCIAL = DeadlineRules(
    timely_filing=FilingLimit(days=180),
    secondary_from_prior_remit=FilingLimit(days=90),
)


def test_d1_medicare_files_within_one_calendar_year_of_service():
    deadline = timely_filing_deadline(MEDICARE, date(2025, 3, 17))
    assert deadline.due == date(2026, 3, 17)
    assert deadline.rule == "1 calendar year from the date of service"
    assert deadline.citation == "42 CFR 424.44(a)(1)"


def test_medicare_as_secondary_gets_no_extra_time_from_the_primary_remittance():
    deadline = timely_filing_deadline(
        MEDICARE, date(2025, 3, 17), prior_remit_date=date(2026, 3, 1)
    )
    assert deadline.due == date(2026, 3, 17)


def test_commercial_secondary_uses_the_later_of_service_and_remittance_clocks():
    assert timely_filing_deadline(COMMERCIAL, date(2026, 1, 10)).due == date(2026, 7, 9)
    late_remit = timely_filing_deadline(COMMERCIAL, date(2026, 1, 10), date(2026, 6, 20))
    assert (late_remit.due, late_remit.rule) == (
        date(2026, 9, 18), "90 days from the earlier payer's remittance"
    )  # fmt: skip
    early_remit = timely_filing_deadline(COMMERCIAL, date(2026, 1, 10), date(2026, 2, 1))
    assert early_remit.due == date(2026, 7, 9)


def test_calendar_months_end_on_the_shorter_months_last_day():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_medicare_redetermination_counts_120_days_from_the_presumed_receipt():
    deadline = appeal_deadline(MEDICARE, 1, notice_date=date(2026, 3, 2))
    assert deadline.due == date(2026, 7, 5)  # received 2026-03-07 (+5), then 120 days
    assert deadline.rule == "redetermination: 120 days from the received 2026-03-07"
    assert appeal_deadline(MEDICARE, 2, date(2026, 7, 1)).due == date(2027, 1, 2)  # 07-06 + 180
    assert appeal_decision_due(MEDICARE, 1, date(2026, 4, 1)).due == date(2026, 5, 31)


def test_commercial_appeal_is_180_days_from_the_notice():
    deadline = appeal_deadline(COMMERCIAL, 1, date(2026, 4, 1))
    assert deadline.due == date(2026, 9, 28) and deadline.citation == "29 CFR 2560.503-1(h)(3)(i)"
    assert appeal_decision_due(COMMERCIAL, 1, date(2026, 4, 1)) is None


def test_an_appeal_level_the_payer_does_not_have_is_an_error():
    with pytest.raises(ValueError, match="appeal level 4: the payer has levels 1..3"):
        appeal_deadline(MEDICARE, 4, date(2026, 1, 1))


def test_d5_prior_auth_standard_7_days_urgent_72_hours_for_covered_payers():
    covered = DeadlineRules(prior_auth_window="cms_0057_f")
    asked = datetime(2026, 2, 2, 9, 30)
    assert prior_auth_decision_due(covered, asked, urgent=False) == datetime(2026, 2, 9, 9, 30)
    assert prior_auth_decision_due(covered, asked, urgent=True) == datetime(2026, 2, 5, 9, 30)
    assert prior_auth_decision_due(COMMERCIAL, asked, urgent=False) is None


def test_d8_medicare_first_status_check_on_day_25_and_payment_due_on_day_30():
    first = first_status_check(MEDICARE, received=date(2026, 3, 2))
    assert first.due == date(2026, 3, 27)  # max(13 + 1, 30 - 5) = 25
    assert next_status_check(MEDICARE, first.due).due == date(2026, 4, 10)
    assert prompt_pay_due(MEDICARE, date(2026, 3, 2)).due == date(2026, 4, 1)


def test_a_deadline_escalates_30_days_before_it_by_default():
    deadline = timely_filing_deadline(MEDICARE, date(2025, 3, 17))
    assert escalation_date(MEDICARE, deadline) == date(2026, 2, 15)


def test_a_filing_limit_is_in_months_or_days_not_both():
    with pytest.raises(ValidationError, match="months or in days"):
        FilingLimit(months=12, days=365)


def test_the_payer_directory_carries_each_payers_deadline_rules():
    from payers.directory import load_directory

    profiles = load_directory()
    medicare = profiles["MCARE"].deadlines
    assert timely_filing_deadline(medicare, date(2025, 3, 17)).due == date(2026, 3, 17)
    assert [level.name for level in medicare.appeal_levels][:2] == [
        "redetermination", "reconsideration"
    ]  # fmt: skip
    assert appeal_deadline(medicare, 1, date(2026, 3, 2)).due == date(2026, 7, 5)
    # EMPL03: 90 days from service, or 60 from the primary's remittance when later
    employer = profiles["EMPL03"].deadlines
    assert timely_filing_deadline(employer, date(2026, 10, 20), date(2026, 12, 15)).due == date(
        2027, 2, 13
    )
