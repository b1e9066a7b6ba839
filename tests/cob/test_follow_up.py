"""When a claim's follow-up gives up or escalates (cob.follow_up) and what a 277 answer asks
of the team (cob.claim_status.task_for_status)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cob.claim_status import ClaimStatusReport, task_for_status
from cob.deadlines import (
    Deadline,
    DeadlineRules,
    overdue,
    posting_task_due,
    prior_auth_decision_deadline,
)
from cob.follow_up import (
    filed_late,
    last_day_to_wait,
    prior_auth_alert_at,
    prior_auth_next_ask,
)
from cob.payer_faults import fault_kind, retry_after

FILING = Deadline(kind="timely_filing", due=date(2027, 4, 18), rule="180 days", citation="x")
RULES = DeadlineRules(prompt_pay_days=30, status_recheck_days=14)


def status(category: str, code: str = "20", on: date = date(2026, 11, 20)) -> ClaimStatusReport:
    return ClaimStatusReport(trace_number="T1", category=category, status_code=code,
                             effective_date=on)  # fmt: skip


def test_a_claim_filed_in_time_is_waited_for_until_its_filing_deadline():
    assert not filed_late(FILING, date(2026, 10, 22))
    assert last_day_to_wait(RULES, FILING, date(2026, 10, 22)) == date(2027, 4, 18)


def test_a_claim_accepted_on_its_deadline_day_is_in_time():
    assert not filed_late(FILING, date(2027, 4, 18))


def test_a_late_claim_is_given_up_after_prompt_pay_and_one_recheck():
    # accepted 2027-05-01, after the 2027-04-18 deadline: 30 + 14 days -> 2027-06-14
    assert filed_late(FILING, date(2027, 5, 1))
    assert last_day_to_wait(RULES, FILING, date(2027, 5, 1)) == date(2027, 6, 14)


def test_not_found_on_the_payer_side_is_a_refile_before_the_deadline():
    task = task_for_status(status("A4"), FILING)
    assert task is not None
    assert (task.kind, task.due) == ("claim_not_on_file", date(2027, 4, 18))
    assert task.reason.startswith("277 A4:20: the payer has no record of the claim")
    assert task_for_status(status("D0"), FILING).kind == "claim_not_on_file"


def test_finalized_without_an_835_asks_for_the_era_ten_days_later():
    task = task_for_status(status("F1", "1", on=date(2026, 11, 20)), FILING)
    assert task is not None
    assert (task.kind, task.due) == ("era_missing", date(2026, 11, 30))


def test_a_request_for_records_is_due_before_the_filing_deadline():
    task = task_for_status(status("R4"), FILING)
    assert task is not None
    assert (task.kind, task.due) == ("records_requested", date(2027, 4, 18))


def test_a_pending_claim_asks_nothing_of_the_team():
    assert task_for_status(status("P1"), FILING) is None
    assert task_for_status(status("A2"), FILING) is None


def test_prior_auth_alerts_at_80_percent_of_a_7_day_window():
    requested = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    due = requested + timedelta(days=7)
    # 80% of 7 days = 5 days 14 h 24 min
    assert prior_auth_alert_at(requested, due) == datetime(2026, 2, 7, 23, 24, tzinfo=UTC)


def test_prior_auth_without_a_window_alerts_after_7_days():
    requested = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    assert prior_auth_alert_at(requested, None) == datetime(2026, 2, 9, 9, 0, tzinfo=UTC)


def test_a_pended_prior_auth_is_asked_again_daily_from_the_request():
    requested = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    assert prior_auth_next_ask(requested, 0) == datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
    assert prior_auth_next_ask(requested, 2) == datetime(2026, 2, 5, 9, 0, tzinfo=UTC)


def test_d5_a_standard_prior_auth_decision_is_due_on_its_seventh_day():
    deadline = prior_auth_decision_deadline(datetime(2026, 2, 9, 9, 0, tzinfo=UTC))
    assert (deadline.kind, deadline.due) == ("prior_auth_decision", date(2026, 2, 9))
    assert (
        deadline.rule == "decision by 2026-02-09 09:00 UTC: 7 calendar days after the "
        "standard request"
    )


def test_a_deadline_day_is_still_in_time():
    assert not overdue(FILING, date(2027, 4, 18))
    assert overdue(FILING, date(2027, 4, 19))


def test_an_835_the_engine_cannot_post_is_a_task_due_within_the_posting_week():
    assert posting_task_due(date(2026, 11, 2)) == date(2026, 11, 9)


def test_a_held_payer_call_is_asked_again_hourly_if_transient_else_daily():
    assert retry_after(fault_kind("PayerUnavailable")) == timedelta(hours=1)
    assert retry_after(fault_kind("PayerRefusedRequest")) == timedelta(days=1)
