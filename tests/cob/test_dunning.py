"""The collection cycle, payment plans, 501(r) and PPDR, day-exact (industry practice for the
cycle; 26 CFR 1.501(r)-6 and 1.501(r)-1(b); 45 CFR 149.620; 45 CFR 149.410/149.420)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cob.dunning import (
    DunningStep,
    PaymentPlan,
    PlanTermsError,
    PracticePolicy,
    check_plan,
    days_paused,
    eca_earliest,
    fap_application_deadline,
    next_step,
    plan_schedule,
    plan_standing,
    ppdr,
    prompt_pay_discount,
    schedule,
    small_balance_write_off,
    statement_due_date,
)

S = DunningStep
DEFAULTS = PracticePolicy()
NONPROFIT = PracticePolicy(nonprofit_hospital=True)


# --- the cycle ---------------------------------------------------------------------------------


def test_p1_cycle_from_a_first_statement_on_2026_01_05():
    assert schedule(DEFAULTS, date(2026, 1, 5)) == [
        (S.STATEMENT, date(2026, 1, 5)),
        (S.PAST_DUE, date(2026, 2, 4)),
        (S.SECOND_NOTICE, date(2026, 3, 6)),
        (S.FINAL_NOTICE, date(2026, 4, 5)),
        (S.COLLECTIONS, date(2026, 5, 5)),
    ]


def test_p1_first_statement_is_due_30_days_after_it_is_dated():
    assert statement_due_date(DEFAULTS, date(2026, 1, 5)) == date(2026, 2, 4)


def test_a_practice_that_writes_off_to_bad_debt_ends_the_cycle_with_bad_debt():
    policy = PracticePolicy(final_action="bad_debt")
    assert schedule(policy, date(2026, 1, 5))[-1] == (S.BAD_DEBT, date(2026, 5, 5))


def test_a_practice_sets_its_own_cycle():
    policy = PracticePolicy(cycle_days=[0, 21, 45, 75], collections_after_final_days=45)
    assert [day for _, day in schedule(policy, date(2026, 1, 5))] == [
        date(2026, 1, 5),
        date(2026, 1, 26),
        date(2026, 2, 19),
        date(2026, 3, 21),
        date(2026, 5, 5),
    ]


@pytest.mark.parametrize("days", [[0, 30, 60], [5, 30, 60, 90], [0, 30, 30, 90], [0, 60, 30, 90]])
def test_a_cycle_is_four_increasing_days_from_the_first_statement(days):
    with pytest.raises(ValidationError, match="cycle_days"):
        PracticePolicy(cycle_days=days)


def test_next_step_is_the_first_not_taken_and_none_after_the_last():
    assert next_step(DEFAULTS, date(2026, 1, 5), steps_taken=2) == (
        S.SECOND_NOTICE,
        date(2026, 3, 6),
    )
    assert next_step(DEFAULTS, date(2026, 1, 5), steps_taken=5) is None


# --- pauses ------------------------------------------------------------------------------------


def test_a_dispute_resumes_the_cycle_where_it_paused():
    # Past due sent 2026-02-04; a dispute from 2026-02-20 to 2026-03-12 (20 days). The second
    # notice was due 14 days after the pause began (2026-03-06); it comes 14 days after the
    # dispute is resolved, and every later step moves by the same 20 days.
    paused = days_paused(
        [(date(2026, 2, 20), date(2026, 3, 12))], date(2026, 1, 5), date(2026, 3, 12)
    )
    assert paused == 20
    assert schedule(DEFAULTS, date(2026, 1, 5), paused_days=paused)[2:] == [
        (S.SECOND_NOTICE, date(2026, 3, 26)),
        (S.FINAL_NOTICE, date(2026, 4, 25)),
        (S.COLLECTIONS, date(2026, 5, 25)),
    ]
    assert date(2026, 3, 12) + (date(2026, 3, 6) - date(2026, 2, 20)) == date(2026, 3, 26)


def test_overlapping_pauses_count_each_day_once():
    dispute = (date(2026, 2, 20), date(2026, 3, 12))
    application = (date(2026, 3, 1), date(2026, 3, 20))
    assert days_paused([application, dispute], date(2026, 1, 5), date(2026, 4, 1)) == 28


def test_a_pause_still_running_counts_to_the_day_asked():
    plan = (date(2026, 3, 1), None)
    assert days_paused([plan], date(2026, 1, 5), date(2026, 3, 11)) == 10


def test_days_before_the_first_statement_do_not_pause_the_cycle():
    application = (date(2025, 12, 20), date(2026, 1, 15))
    assert days_paused([application], date(2026, 1, 5), date(2026, 2, 1)) == 10


def test_a_defaulted_plan_resumes_the_cycle_where_it_paused():
    # The second notice went out on 2026-03-06; a plan agreed 2026-03-10 pauses the cycle.
    # Its second installment (2026-04-10) is missed: reminder 2026-04-11, default 2026-04-26.
    # The final notice was due 26 days after the pause began (2026-04-05); it comes 26 days
    # after the default.
    plan = PaymentPlan(
        plan_id="PL-1",
        total=Decimal("300.00"),
        installments=3,
        day_of_month=10,
        start=date(2026, 3, 10),
    )
    standing = plan_standing(plan, DEFAULTS, Decimal("100.00"), date(2026, 4, 26))
    assert standing.status == "defaulted"
    assert standing.defaults_on == date(2026, 4, 26)
    paused = days_paused([(plan.start, standing.defaults_on)], date(2026, 1, 5), date(2026, 4, 26))
    assert paused == 47
    assert next_step(DEFAULTS, date(2026, 1, 5), steps_taken=3, paused_days=paused) == (
        S.FINAL_NOTICE,
        date(2026, 5, 22),
    )


def test_a_negative_pause_is_refused():
    with pytest.raises(ValueError, match="paused_days -1"):
        schedule(DEFAULTS, date(2026, 1, 5), paused_days=-1)


@given(
    pauses=st.lists(st.tuples(st.integers(-30, 200), st.integers(0, 90) | st.none()), max_size=5),
    as_of=st.integers(0, 300),
)
def test_days_paused_counts_the_days_under_some_pause(pauses, as_of):
    first = date(2026, 1, 5)
    spans = [
        (first + timedelta(start), None if length is None else first + timedelta(start + length))
        for start, length in pauses
    ]
    today = first + timedelta(as_of)
    paused_days = {
        day
        for start, end in spans
        for day in (start + timedelta(n) for n in range(((end or today) - start).days))
        if first <= day < today
    }
    assert days_paused(spans, first, today) == len(paused_days)


# --- 501(r) ------------------------------------------------------------------------------------


def test_501r_no_eca_before_the_120th_day_after_the_first_statement():
    assert eca_earliest(date(2026, 1, 5), final_notice=date(2026, 2, 4)) == date(2026, 5, 5)


def test_501r_eca_at_least_30_days_after_the_written_notice():
    assert eca_earliest(date(2026, 1, 5), final_notice=date(2026, 4, 20)) == date(2026, 5, 20)


def test_501r_applications_accepted_until_the_240th_day():
    assert fap_application_deadline(date(2026, 1, 5)) == date(2026, 9, 2)


def test_501r_p1_referral_on_the_120th_day():
    assert schedule(NONPROFIT, date(2026, 1, 5))[-1] == (S.COLLECTIONS, date(2026, 5, 5))


def test_501r_holds_a_short_cycle_until_the_120th_day():
    policy = PracticePolicy(
        nonprofit_hospital=True, cycle_days=[0, 20, 40, 60], collections_after_final_days=10
    )
    assert schedule(policy, date(2026, 1, 5))[-2:] == [
        (S.FINAL_NOTICE, date(2026, 3, 6)),
        (S.COLLECTIONS, date(2026, 5, 5)),
    ]
    practice = policy.model_copy(update={"nonprofit_hospital": False})
    assert schedule(practice, date(2026, 1, 5))[-1] == (S.COLLECTIONS, date(2026, 3, 16))


def test_501r_final_notice_precedes_the_referral_by_30_days():
    policy = PracticePolicy(
        nonprofit_hospital=True, cycle_days=[0, 30, 60, 100], collections_after_final_days=10
    )
    assert schedule(policy, date(2026, 1, 5))[-2:] == [
        (S.FINAL_NOTICE, date(2026, 4, 15)),
        (S.COLLECTIONS, date(2026, 5, 15)),
    ]


def test_501r_clock_does_not_stop_for_a_pause_but_the_notice_moves_with_it():
    # 10 days paused: final notice 2026-04-15; 120th day still 2026-05-05; referral 30 days
    # after the notice.
    assert schedule(NONPROFIT, date(2026, 1, 5), paused_days=10)[-2:] == [
        (S.FINAL_NOTICE, date(2026, 4, 15)),
        (S.COLLECTIONS, date(2026, 5, 15)),
    ]


# --- PPDR --------------------------------------------------------------------------------------


def test_ppdr_bill_400_over_the_estimate_is_eligible_for_120_calendar_days():
    status = ppdr(Decimal("1000.00"), Decimal("1400.00"), date(2026, 1, 15))
    assert status is not None
    assert status.excess == Decimal("400.00")
    assert status.deadline == date(2026, 5, 15)
    assert status.collections_not_before == date(2026, 5, 16)


def test_ppdr_bill_less_than_400_over_the_estimate_is_not_eligible():
    assert ppdr(Decimal("1000.00"), Decimal("1399.99"), date(2026, 1, 15)) is None


def test_ppdr_holds_collections_until_the_window_closes():
    status = ppdr(Decimal("600.00"), Decimal("1250.00"), date(2026, 1, 15))
    assert status is not None
    held = schedule(
        DEFAULTS, date(2026, 1, 15), collections_not_before=status.collections_not_before
    )
    assert held[-1] == (S.COLLECTIONS, date(2026, 5, 16))
    assert schedule(DEFAULTS, date(2026, 1, 15))[-1] == (S.COLLECTIONS, date(2026, 5, 15))


# --- payment plans -----------------------------------------------------------------------------


def test_plan_installments_last_takes_the_remainder_on_the_month_end():
    plan = PaymentPlan(
        plan_id="PL-1",
        total=Decimal("1000.00"),
        installments=3,
        day_of_month=31,
        start=date(2026, 1, 15),
    )
    assert plan_schedule(plan) == [
        (date(2026, 1, 31), Decimal("333.33")),
        (date(2026, 2, 28), Decimal("333.33")),
        (date(2026, 3, 31), Decimal("333.34")),
    ]


def test_plan_on_day_31_falls_on_february_29_in_a_leap_year():
    plan = PaymentPlan(
        plan_id="PL-2",
        total=Decimal("90.00"),
        installments=4,
        day_of_month=31,
        start=date(2028, 1, 31),
    )
    assert [day for day, _ in plan_schedule(plan)] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
    ]


def test_plan_by_monthly_amount_ends_with_what_is_left():
    plan = PaymentPlan(
        plan_id="PL-3",
        total=Decimal("100.00"),
        monthly_amount=Decimal("30.00"),
        day_of_month=15,
        start=date(2026, 11, 20),
    )
    assert plan_schedule(plan) == [
        (date(2026, 12, 15), Decimal("30.00")),
        (date(2027, 1, 15), Decimal("30.00")),
        (date(2027, 2, 15), Decimal("30.00")),
        (date(2027, 3, 15), Decimal("10.00")),
    ]


def test_plan_starting_on_its_day_pays_the_first_installment_that_day():
    plan = PaymentPlan(
        plan_id="PL-4",
        total=Decimal("75.00"),
        monthly_amount=Decimal("25.00"),
        day_of_month=10,
        start=date(2026, 3, 10),
    )
    assert plan_schedule(plan)[0] == (date(2026, 3, 10), Decimal("25.00"))


def test_plan_takes_installments_or_a_monthly_amount_not_both():
    with pytest.raises(ValidationError, match="not both"):
        PaymentPlan(
            plan_id="PL-5",
            total=Decimal("100.00"),
            installments=4,
            monthly_amount=Decimal("25.00"),
            day_of_month=1,
            start=date(2026, 1, 1),
        )
    with pytest.raises(ValidationError, match="not both"):
        PaymentPlan(plan_id="PL-5", total=Decimal("100.00"), day_of_month=1, start=date(2026, 1, 1))


def test_plan_of_less_than_a_cent_an_installment_is_refused():
    with pytest.raises(ValidationError, match="less than a cent"):
        PaymentPlan(
            plan_id="PL-6",
            total=Decimal("0.05"),
            installments=10,
            day_of_month=1,
            start=date(2026, 1, 1),
        )


def test_plan_below_the_practice_minimum_installment_is_refused():
    plan = PaymentPlan(
        plan_id="PL-7",
        total=Decimal("200.00"),
        installments=10,
        day_of_month=1,
        start=date(2026, 1, 1),
    )
    with pytest.raises(PlanTermsError, match="installments of 20.00, below .* 25.00"):
        check_plan(plan, DEFAULTS)
    check_plan(plan.model_copy(update={"installments": 8}), DEFAULTS)


def test_plan_whose_last_installment_is_small_is_allowed():
    plan = PaymentPlan(
        plan_id="PL-8",
        total=Decimal("110.00"),
        monthly_amount=Decimal("25.00"),
        day_of_month=1,
        start=date(2026, 1, 1),
    )
    check_plan(plan, DEFAULTS)
    assert plan_schedule(plan)[-1][1] == Decimal("10.00")


PLAN = PaymentPlan(
    plan_id="PL-9",
    total=Decimal("300.00"),
    installments=3,
    day_of_month=10,
    start=date(2026, 3, 1),
)


def test_plan_kept_is_current_through_each_due_date():
    standing = plan_standing(PLAN, DEFAULTS, Decimal("100.00"), date(2026, 4, 10))
    assert standing.status == "current"
    assert (standing.installment, standing.due) == (2, date(2026, 4, 10))
    assert standing.past_due == Decimal("0.00")
    assert standing.next_check == date(2026, 4, 11)


def test_plan_missed_installment_gets_a_reminder_the_next_day_then_grace():
    standing = plan_standing(PLAN, DEFAULTS, Decimal("100.00"), date(2026, 4, 11))
    assert standing.status == "reminder"
    assert standing.reminder_on == date(2026, 4, 11)
    assert standing.defaults_on == date(2026, 4, 26)
    assert standing.next_check == date(2026, 4, 26)
    assert standing.past_due == Decimal("100.00")


def test_plan_partly_caught_up_in_grace_is_still_behind():
    standing = plan_standing(PLAN, DEFAULTS, Decimal("150.00"), date(2026, 4, 25))
    assert (standing.status, standing.installment) == ("reminder", 2)
    assert standing.past_due == Decimal("50.00")


def test_plan_defaults_the_day_after_the_grace_period():
    assert plan_standing(PLAN, DEFAULTS, Decimal("100.00"), date(2026, 4, 25)).status == "reminder"
    standing = plan_standing(PLAN, DEFAULTS, Decimal("100.00"), date(2026, 4, 26))
    assert standing.status == "defaulted"
    assert standing.next_check is None


def test_plan_paid_in_full_is_completed():
    standing = plan_standing(PLAN, DEFAULTS, Decimal("300.00"), date(2026, 5, 10))
    assert standing.status == "completed"
    assert standing.past_due == Decimal("0.00")


@given(
    total=st.decimals(min_value=Decimal("1.00"), max_value=Decimal("99999.99"), places=2),
    count=st.integers(1, 36),
    day=st.integers(1, 31),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31)),
)
def test_plan_installments_sum_to_the_total_one_a_month(total, count, day, start):
    plan = PaymentPlan(plan_id="PL", total=total, installments=count, day_of_month=day, start=start)
    installments = plan_schedule(plan)
    assert sum(amount for _, amount in installments) == total
    assert all(
        amount > 0 and amount == amount.quantize(Decimal("0.01")) for _, amount in installments
    )
    assert installments[0][0] >= start
    assert (installments[0][0] - start).days <= 31
    for day_due, _ in installments:
        assert day_due.day == min(day, calendar.monthrange(day_due.year, day_due.month)[1])
    months = [d.year * 12 + d.month for d, _ in installments]
    assert months == list(range(months[0], months[0] + count))


# --- write-offs the policy sets ----------------------------------------------------------------


def test_small_balance_at_or_under_the_threshold_is_written_off():
    assert small_balance_write_off(DEFAULTS, Decimal("5.00")) == Decimal("5.00")
    assert small_balance_write_off(DEFAULTS, Decimal("5.01")) == Decimal("0.00")
    assert small_balance_write_off(DEFAULTS, Decimal("0.00")) == Decimal("0.00")


def test_prompt_pay_discount_when_paid_in_full_by_the_first_due_date():
    policy = PracticePolicy(prompt_pay_discount_percent=Decimal("5"))
    due, late = date(2026, 2, 4), date(2026, 2, 5)
    balance = Decimal("200.00")
    assert prompt_pay_discount(policy, balance, Decimal("190.00"), due, due) == Decimal("10.00")
    assert prompt_pay_discount(policy, balance, Decimal("190.00"), due, late) == 0
    assert prompt_pay_discount(policy, balance, Decimal("189.99"), due, due) == 0
    assert prompt_pay_discount(DEFAULTS, balance, balance, due, due) == 0


def test_prompt_pay_discount_rounds_half_up_to_the_cent():
    policy = PracticePolicy(prompt_pay_discount_percent=Decimal("2.5"))
    due = date(2026, 2, 4)
    discount = prompt_pay_discount(policy, Decimal("30.10"), Decimal("29.35"), due, due)
    assert discount == Decimal("0.75")  # 2.5% of 30.10 = 0.7525

