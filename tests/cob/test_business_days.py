"""A deadline whose last day is a Saturday, Sunday or federal holiday (5 USC 6103) rolls to the
next business day where the payer's rule says so (Medicare timely filing: CMS IOM 100-04
ch. 1 §70); off by default, so every other deadline stays on its calendar day."""

from __future__ import annotations

from datetime import date

from cob.deadlines import (
    AppealLevel,
    DeadlineRules,
    FilingLimit,
    appeal_deadline,
    next_business_day,
    timely_filing_deadline,
)
from payers.directory import payer_deadlines

ROLLS = DeadlineRules(
    timely_filing=FilingLimit(months=12), roll_to_business_day=True, roll_source="IOM 100-04"
)


def test_thanksgiving_thursday_2026_11_26_rolls_to_friday_11_27() -> None:
    assert next_business_day(date(2026, 11, 26)) == date(2026, 11, 27)


def test_christmas_friday_2026_12_25_rolls_over_the_weekend_to_monday_12_28() -> None:
    assert next_business_day(date(2026, 12, 25)) == date(2026, 12, 28)


def test_independence_day_observed_friday_2026_07_03_and_the_weekend_roll_to_monday_07_06():
    # July 4 2026 is a Saturday: the holiday is observed Friday July 3
    for day in (date(2026, 7, 3), date(2026, 7, 4), date(2026, 7, 5)):
        assert next_business_day(day) == date(2026, 7, 6)


def test_a_business_day_stays() -> None:
    assert next_business_day(date(2026, 11, 25)) == date(2026, 11, 25)  # a Wednesday


def test_medicare_timely_filing_for_dos_2025_12_25_ends_monday_2026_12_28_not_christmas() -> None:
    deadline = timely_filing_deadline(ROLLS, date(2025, 12, 25))
    assert deadline.due == date(2026, 12, 28)
    assert "Friday 2026-12-25 is no business day: rolls to 2026-12-28" in deadline.rule
    assert deadline.citation.endswith("IOM 100-04")


def test_without_the_rule_dos_2025_12_25_ends_on_christmas_2026_12_25() -> None:
    off = ROLLS.model_copy(update={"roll_to_business_day": False})
    assert timely_filing_deadline(off, date(2025, 12, 25)).due == date(2026, 12, 25)


def test_d_1_dos_2025_03_17_still_ends_tuesday_2026_03_17() -> None:
    assert timely_filing_deadline(ROLLS, date(2025, 3, 17)).due == date(2026, 3, 17)


def test_an_appeal_level_rolls_only_when_its_own_rule_says_so() -> None:
    # notice 2026-07-31, received 08-05, + 113 days = Thanksgiving, Thursday 2026-11-26
    level = AppealLevel(name="redetermination", filing_days=113)
    rules = DeadlineRules(appeal_levels=[level], notice_receipt_days=5)
    assert appeal_deadline(rules, 1, date(2026, 7, 31)).due == date(2026, 11, 26)
    rolling = rules.model_copy(
        update={"appeal_levels": [level.model_copy(update={"roll_to_business_day": True})]}
    )
    assert appeal_deadline(rolling, 1, date(2026, 7, 31)).due == date(2026, 11, 27)


def test_the_directory_turns_it_on_for_medicare_timely_filing_only() -> None:
    medicare = payer_deadlines("MCARE")
    assert medicare.roll_to_business_day and "100-04" in medicare.roll_source
    assert not any(level.roll_to_business_day for level in medicare.appeal_levels)
    assert not payer_deadlines("ACME01").roll_to_business_day
