"""The patient account's collection cycle: which notice goes out on which day, how a pause
moves the steps still to come, payment plans, the 501(r) limits on a nonprofit hospital's
collection actions, and the No Surprises Act's patient-provider dispute window.

Pure functions of dates and amounts (no clock, no I/O), so the patient-account workflow can
set durable timers on what they return. Days are calendar days, counted as the date plus n
days (a statement on 2026-01-05: its 120th day is 2026-05-05). The cycle's defaults are
industry practice, set per practice in `PracticePolicy`.

A pause (a dispute, an active payment plan, a pending financial-assistance application) stops
the cycle's clock: the cycle resumes where it paused, each step still to come arriving the same
number of days after the resumption as it was due after the pause began. So every step not yet
taken moves by the days paused, counted once when pauses overlap (`days_paused`). A regulation's
own clock (501(r), PPDR) counts calendar days and does not stop.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cob.model import Model
from cob.money import CENT, ZERO, cents


class DunningStep(StrEnum):
    """A step of the cycle, in order; the cycle ends with one of the last two."""

    STATEMENT = "statement"
    PAST_DUE = "past_due"
    SECOND_NOTICE = "second_notice"  # offers a payment plan
    FINAL_NOTICE = "final_notice"  # names the date of referral to collections
    COLLECTIONS = "collections"
    BAD_DEBT = "bad_debt"


NOTICES = (
    DunningStep.STATEMENT,
    DunningStep.PAST_DUE,
    DunningStep.SECOND_NOTICE,
    DunningStep.FINAL_NOTICE,
)


class PracticePolicy(Model):
    """One practice's collection terms. The defaults are industry practice: a statement due in
    30 days, a notice every 30 days, collections 30 days after the final notice."""

    statement_due_days: int = Field(default=30, gt=0)
    # days from the first statement: statement 1, past due, second notice, final notice
    cycle_days: list[int] = Field(default_factory=lambda: [0, 30, 60, 90])
    collections_after_final_days: int = Field(default=30, gt=0)
    final_action: Literal["collections", "bad_debt"] = "collections"
    nonprofit_hospital: bool = False  # 26 CFR 1.501(r)-6 applies to its collection actions
    credit_reporting_allowed: bool = False
    small_balance_write_off: Decimal = Field(default=Decimal("5.00"), ge=0)  # at or under
    prompt_pay_discount_percent: Decimal = Field(default=Decimal("0"), ge=0, le=100)
    plan_grace_days: int = Field(default=15, ge=0)
    plan_min_installment: Decimal = Field(default=Decimal("25.00"), gt=0)
    financial_assistance_phone: str = ""
    financial_assistance_url: str = ""
    payment_phone: str = ""
    payment_url: str = ""
    payment_mail_address: str = ""

    @field_validator("cycle_days")
    @classmethod
    def _four_steps_in_order(cls, days: list[int]) -> list[int]:
        if len(days) != 4 or days[0] != 0 or days != sorted(set(days)):
            raise ValueError(
                f"cycle_days {days}: four increasing days from the first statement, starting "
                "at 0 (statement, past due, second notice, final notice)"
            )
        return days


# --- the cycle -----------------------------------------------------------------------------

# 26 CFR 1.501(r)-6(c): no extraordinary collection action until 120 days after the first
# post-discharge billing statement, and a written notice at least 30 days before the first one.
ECA_NOTIFICATION_DAYS = 120
ECA_WRITTEN_NOTICE_DAYS = 30
# 26 CFR 1.501(r)-1(b) "application period": FAP applications taken until the 240th day.
FAP_APPLICATION_DAYS = 240


def statement_due_date(policy: PracticePolicy, statement_date: date) -> date:
    """The day a statement's amount is due: `statement_due_days` after it is dated."""
    return statement_date + timedelta(days=policy.statement_due_days)


def eca_earliest(first_statement: date, final_notice: date) -> date:
    """The first day a nonprofit hospital may take an extraordinary collection action (sell
    the debt, report it to a credit bureau, sue): the 120th day after the first post-discharge
    statement, and 30 days after the written notice naming the action, whichever is later
    (26 CFR 1.501(r)-6(c)). The final notice is that written notice. A referral to collections
    waits for it too: the hospital answers for the actions of the agency it refers a debt to
    (26 CFR 1.501(r)-6(a)(2))."""
    return max(
        first_statement + timedelta(days=ECA_NOTIFICATION_DAYS),
        final_notice + timedelta(days=ECA_WRITTEN_NOTICE_DAYS),
    )


def fap_application_deadline(first_statement: date) -> date:
    """The last day a nonprofit hospital must take a financial-assistance application: the
    240th day after the first post-discharge statement (26 CFR 1.501(r)-1(b), application
    period). A complete application in time suspends collection actions (a pause)."""
    return first_statement + timedelta(days=FAP_APPLICATION_DAYS)


def final_step(policy: PracticePolicy) -> DunningStep:
    return DunningStep.COLLECTIONS if policy.final_action == "collections" else DunningStep.BAD_DEBT


def schedule(
    policy: PracticePolicy,
    first_statement: date,
    paused_days: int = 0,
    collections_not_before: date | None = None,
) -> list[tuple[DunningStep, date]]:
    """Every step of the cycle with its day: the four notices on `cycle_days` from the first
    statement, then the final action `collections_after_final_days` after the final notice.

    `paused_days` (from `days_paused`) moves every step after the first statement; the caller
    keeps the days of the steps it has already taken. The final action waits for
    `collections_not_before` (a PPDR window still open: `PpdrStatus.collections_not_before`)
    and, for a nonprofit hospital, for `eca_earliest`. A bad-debt write-off waits as long as a
    referral would: until then the patient may still pay, dispute or be found eligible for
    assistance, which is charity care, not bad debt."""
    if paused_days < 0:
        raise ValueError(f"paused_days {paused_days}: a pause cannot be negative")
    steps = [(DunningStep.STATEMENT, first_statement)] + [
        (step, first_statement + timedelta(days=offset + paused_days))
        for step, offset in zip(NOTICES[1:], policy.cycle_days[1:], strict=True)
    ]
    final_notice = steps[-1][1]
    final_action = final_notice + timedelta(days=policy.collections_after_final_days)
    if policy.nonprofit_hospital:
        final_action = max(final_action, eca_earliest(first_statement, final_notice))
    if collections_not_before is not None:
        final_action = max(final_action, collections_not_before)
    return [*steps, (final_step(policy), final_action)]


def next_step(
    policy: PracticePolicy,
    first_statement: date,
    steps_taken: int,
    paused_days: int = 0,
    collections_not_before: date | None = None,
) -> tuple[DunningStep, date] | None:
    """The step after the `steps_taken` already taken, with its day; None once the cycle has
    ended. The workflow sets its timer on this day and asks again after a pause."""
    steps = schedule(policy, first_statement, paused_days, collections_not_before)
    return steps[steps_taken] if steps_taken < len(steps) else None


def days_paused(
    pauses: Sequence[tuple[date, date | None]], first_statement: date, as_of: date
) -> int:
    """How many days the cycle's clock has stood still: the days covered by any pause, each
    (first day paused, day resumed) or (first day paused, None) while it lasts (to `as_of`),
    counted once where a dispute, a plan and an application overlap. The clock starts with
    the first statement, so days before it do not count."""
    spans = sorted((max(start, first_statement), min(end or as_of, as_of)) for start, end in pauses)
    total, covered_to = 0, first_statement
    for start, end in spans:
        start = max(start, covered_to)
        if end > start:
            total += (end - start).days
            covered_to = end
    return total


# --- payment plans -------------------------------------------------------------------------

MAX_INSTALLMENTS = 120  # ten years of months: a plan's schedule stays small in the workflow


class PlanTermsError(ValueError):
    """Plan terms a practice's policy does not allow; the message names the term."""


class PaymentPlan(Model):
    """A balance paid by the month, on one day of the month: a number of installments (the
    last takes the remainder) or an amount per month (the last is what is left)."""

    plan_id: str = Field(min_length=1)
    total: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    installments: int | None = Field(default=None, ge=1, le=MAX_INSTALLMENTS)
    monthly_amount: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    day_of_month: int = Field(ge=1, le=31)  # 29 to 31: the month's last day when it is shorter
    start: date  # the agreement's day: the first installment falls on or after it
    by: str = ""  # who agreed it with the guarantor, for the audit trail

    @model_validator(mode="after")
    def _one_way_to_pay(self) -> PaymentPlan:
        if (self.installments is None) == (self.monthly_amount is None):
            raise ValueError("give the plan's installments or its monthly_amount, not both")
        if self.installments is not None and self.total < self.installments * CENT:
            raise ValueError(
                f"installments {self.installments}: {self.total} gives less than a cent each"
            )
        if self.monthly_amount is not None and self.installment_count > MAX_INSTALLMENTS:
            raise ValueError(
                f"monthly_amount {self.monthly_amount} pays {self.total} in "
                f"{self.installment_count} months; at most {MAX_INSTALLMENTS}"
            )
        return self

    @property
    def installment_count(self) -> int:
        if self.installments is not None:
            return self.installments
        assert self.monthly_amount is not None
        whole, rest = divmod(self.total, self.monthly_amount)
        return int(whole) + (rest > 0)


def _on_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def plan_due_dates(plan: PaymentPlan) -> list[date]:
    """The installments' days: `day_of_month` each month (the last day of a shorter month),
    from the first such day on or after the plan's start."""
    year, month = plan.start.year, plan.start.month
    if _on_day(year, month, plan.day_of_month) < plan.start:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    dates = []
    for _ in range(plan.installment_count):
        dates.append(_on_day(year, month, plan.day_of_month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dates


def plan_schedule(plan: PaymentPlan) -> list[tuple[date, Decimal]]:
    """Each installment's day and amount, to the cent, summing to the plan's total. With a
    number of installments each is the total's share rounded down to the cent and the last
    takes the remainder, so no installment is below the others; with an amount per month the
    last is what is left."""
    count = plan.installment_count
    regular = plan.monthly_amount or (plan.total / count).quantize(CENT, rounding=ROUND_DOWN)
    amounts = [regular] * (count - 1) + [plan.total - regular * (count - 1)]
    return list(zip(plan_due_dates(plan), amounts, strict=True))


def check_plan(plan: PaymentPlan, policy: PracticePolicy) -> None:
    """Raise PlanTermsError when an installment before the last (which takes what is left) is
    below the practice's minimum installment."""
    regular = plan_schedule(plan)[0][1]
    if plan.installment_count > 1 and regular < policy.plan_min_installment:
        term = "monthly_amount" if plan.monthly_amount is not None else "installments"
        raise PlanTermsError(
            f"plan {plan.plan_id}: {term} gives installments of {regular}, below the "
            f"practice's minimum of {policy.plan_min_installment}"
        )


class PlanStanding(Model):
    """Where a plan stands on a day, given what the patient has paid toward it.

    current: nothing overdue; reminder: an installment is missed and its grace period runs
    (the reminder goes out the day after its due date); defaulted: the grace period ended
    (the cycle resumes); completed: the plan's total is paid."""

    status: Literal["current", "reminder", "defaulted", "completed"]
    past_due: Decimal = ZERO  # installments due before the day, less what was paid
    installment: int | None = None  # 1-based: the first installment not fully paid
    due: date | None = None  # its due date
    reminder_on: date | None = None
    defaults_on: date | None = None
    next_check: date | None = None  # when the standing changes if nothing is paid


def plan_standing(
    plan: PaymentPlan, policy: PracticePolicy, paid: Decimal, as_of: date
) -> PlanStanding:
    """The plan's standing on `as_of` with `paid` applied to its installments in order. An
    installment's own due date is still in time; a reminder goes out the day after; the plan
    defaults the day after `plan_grace_days` more (industry practice; set per practice)."""
    installments = plan_schedule(plan)
    due_before = sum((amount for due, amount in installments if due < as_of), ZERO)
    owed = ZERO
    for number, (due, amount) in enumerate(installments, start=1):
        owed += amount
        if owed <= paid:
            continue
        reminder_on = due + timedelta(days=1)
        defaults_on = due + timedelta(days=policy.plan_grace_days + 1)
        if as_of < reminder_on:
            status: Literal["current", "reminder", "defaulted"] = "current"
            next_check: date | None = reminder_on
        elif as_of < defaults_on:
            status, next_check = "reminder", defaults_on
        else:
            status, next_check = "defaulted", None
        return PlanStanding(
            status=status,
            past_due=max(ZERO, due_before - paid),
            installment=number,
            due=due,
            reminder_on=reminder_on,
            defaults_on=defaults_on,
            next_check=next_check,
        )
    return PlanStanding(status="completed")


# --- write-offs the policy sets ------------------------------------------------------------


def small_balance_write_off(policy: PracticePolicy, balance: Decimal) -> Decimal:
    """What is written off as a small balance (reason "small_balance"): the whole balance
    when it is at or under the practice's threshold, and no statement is sent for it."""
    return balance if ZERO < balance <= policy.small_balance_write_off else ZERO


def prompt_pay_discount(
    policy: PracticePolicy, balance: Decimal, paid: Decimal, first_due: date, paid_on: date
) -> Decimal:
    """The prompt-pay discount (write-off reason "prompt_pay"): the policy's percent of the
    balance, rounded to the cent, when a payment on or before the first statement's due date
    covers the balance less that discount; otherwise nothing."""
    discount = cents(balance * policy.prompt_pay_discount_percent / 100)
    if discount <= ZERO or paid_on > first_due or paid < balance - discount:
        return ZERO
    return discount


# --- No Surprises Act: patient-provider dispute resolution -----------------------------------

# 45 CFR 149.620(a)(2): "substantially in excess" is at least $400 over the provider's or
# facility's total on the Good Faith Estimate; the patient starts a dispute within 120
# calendar days of the bill (45 CFR 149.620(b)).
PPDR_THRESHOLD = Decimal("400.00")
PPDR_WINDOW_DAYS = 120


class PpdrStatus(Model):
    """A self-pay bill that may be disputed: the notice goes on the statement, and collections
    wait until the window closes."""

    gfe_total: Decimal
    billed_total: Decimal
    excess: Decimal  # billed − GFE, at least PPDR_THRESHOLD
    bill_date: date
    deadline: date  # the last day the patient can start the dispute

    @property
    def collections_not_before(self) -> date:
        """A dispute started in time stops collection while it is pending (45 CFR 149.620(c));
        holding until the window closes never sends a bill to collections that the patient
        could still dispute."""
        return self.deadline + timedelta(days=1)


def ppdr(gfe_total: Decimal, billed_total: Decimal, bill_date: date) -> PpdrStatus | None:
    """The PPDR status of one provider's (or facility's) bill to a self-pay patient against
    its Good Faith Estimate; None when the bill is under $400 above the estimate. Compare per
    provider: a GFE covering several providers is split by provider first."""
    excess = billed_total - gfe_total
    if excess < PPDR_THRESHOLD:
        return None
    return PpdrStatus(
        gfe_total=gfe_total,
        billed_total=billed_total,
        excess=excess,
        bill_date=bill_date,
        deadline=bill_date + timedelta(days=PPDR_WINDOW_DAYS),
    )
