"""Deadlines, calendar-day exact: timely filing, appeal windows per level, prior-authorization
decision windows, prompt pay and the claim-status follow-up cadence.

Every function is pure: dates in, a `Deadline` (date, kind, rule, citation) out, so a workflow
can set a durable timer on it and an auditor can see why that day was chosen. The terms come
from each payer's profile (`DeadlineRules`); the defaults of the follow-up cadence are industry
practice, configurable per payer.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from holidays.countries.united_states import UnitedStates
from pydantic import Field, model_validator

from cob.model import ClaimSubmission, Model

DeadlineKind = Literal[
    "timely_filing", "appeal", "appeal_decision", "prior_auth_decision", "status_check",
    "prompt_pay", "correction",
]  # fmt: skip


class Deadline(Model):
    kind: DeadlineKind
    due: date
    rule: str
    citation: str


class AppealLevel(Model):
    name: str  # e.g. "redetermination"
    filing_days: int = Field(gt=0)  # from receipt of the decision being appealed
    decision_days: int | None = Field(default=None, gt=0)  # from receipt of the request
    # The minimum amount in controversy by calendar year of the request (42 USC
    # 1395ff(b)(1)(E): Medicare ALJ and judicial review); empty = no minimum.
    amount_in_controversy: dict[int, Decimal] = Field(default_factory=dict)
    # The last day moves off a weekend or federal holiday, where the level's rule says so.
    roll_to_business_day: bool = False


class FilingLimit(Model):
    """A limit counted from a start date: whole calendar months or days."""

    months: int | None = Field(default=None, gt=0)
    days: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_unit(self) -> FilingLimit:
        if (self.months is None) == (self.days is None):
            raise ValueError("give the limit in months or in days, not both")
        return self

    def after(self, start: date) -> date:
        return add_months(start, self.months) if self.months else start + timedelta(self.days or 0)


class DeadlineRules(Model):
    """One payer's deadline terms (its profile's `deadlines`)."""

    timely_filing: FilingLimit = FilingLimit(days=365)
    timely_filing_source: str = "payer contract"
    statutory: bool = False  # a regulation's limit: a contract term never lengthens it
    # Secondary claims: a clock from the earlier payer's remittance, when the contract allows
    # it; the later of the two dates counts (a contract term, industry practice; configurable).
    secondary_from_prior_remit: FilingLimit | None = None
    appeal_levels: list[AppealLevel] = [AppealLevel(name="internal appeal", filing_days=180)]
    appeal_source: str = "29 CFR 2560.503-1(h)(3)(i)"
    notice_receipt_days: int = Field(default=0, ge=0)  # presumed days from notice to receipt
    prior_auth_window: Literal["cms_0057_f", "none"] = "none"
    prompt_pay_days: int = Field(default=30, gt=0)
    payment_floor_days: int = Field(default=0, ge=0)  # no payment before this many days
    status_recheck_days: int = Field(default=14, gt=0)
    escalation_days: int = Field(default=30, ge=0)  # warn this many days before a deadline
    secondary_escalation_days: int = Field(default=60, ge=0)  # for a later payer's claim
    # Timely filing's last day on a Saturday, Sunday or federal holiday moves to the next
    # business day, where the payer's rule says so (`roll_source`); off by default.
    roll_to_business_day: bool = False
    roll_source: str = ""


# US federal holidays (5 USC 6103), observed days included, computed once at import so the
# rules stay pure inside a workflow; a year outside the span is computed when asked.
_HOLIDAY_YEARS = range(2000, 2071)
_FEDERAL_HOLIDAYS = UnitedStates(years=_HOLIDAY_YEARS)


def _federal_holiday(day: date) -> bool:
    if day.year in _HOLIDAY_YEARS:
        return day in _FEDERAL_HOLIDAYS
    return day in UnitedStates(years=day.year)


def next_business_day(day: date) -> date:
    """`day` itself when it is a business day, else the next weekday that is no federal
    holiday (5 USC 6103; a Saturday holiday is observed the Friday before)."""
    while day.weekday() >= 5 or _federal_holiday(day):
        day += timedelta(days=1)
    return day


def rolled(deadline: Deadline, roll: bool, source: str) -> Deadline:
    """The deadline moved to the next business day when `roll` and its day is not one; the
    rule says why, with the rolling rule's source."""
    due = next_business_day(deadline.due) if roll else deadline.due
    if due == deadline.due:
        return deadline
    day = f"{deadline.due:%A} {deadline.due.isoformat()}"
    why = f"{day} is no business day: rolls to {due.isoformat()}"
    return deadline.model_copy(
        update={
            "due": due,
            "rule": f"{deadline.rule}; {why}",
            "citation": f"{deadline.citation}; {source}",
        }
    )


# An 835 the engine cannot post (a claim it cannot match, an amount with no line to go to)
# is the team's within a posting week: the usual cash-posting cycle, well inside any appeal
# window the remittance opens (the shortest in the profiles is 60 days).
POSTING_DAYS = 7


def posting_task_due(opened_on: date) -> date:
    """When a task about an 835 the engine cannot post is due: within the posting week."""
    return opened_on + timedelta(days=POSTING_DAYS)


# The claim-status follow-up cadence is no regulation's: the 276/277 (ASC X12 005010X212) is
# sent on the industry's usual days, configurable per payer.
FOLLOW_UP_PRACTICE = "industry practice (configurable)"
# Clean claims paid within 30 days of receipt: 42 USC 1395h(c)(2), 1395u(c)(2) for Medicare;
# state prompt-pay statutes or the payer contract for the others (the profile's days).
PROMPT_PAY_SOURCE = "42 USC 1395u(c)(2); state prompt-pay law or payer contract"


def add_months(start: date, months: int) -> date:
    """The same day `months` later; the month's last day when it is shorter (Jan 31 + 1)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def timely_filing_deadline(
    rules: DeadlineRules, service_date: date, prior_remit_date: date | None = None
) -> Deadline:
    """The last day to file. From the date of service; for a later payer whose contract
    allows it, from the earlier payer's remittance when that is later. A statutory limit is
    never lengthened (42 CFR 424.44(a)(1) for Medicare; 42 CFR 447.45(d)(1) for Medicaid)."""
    from_service = rules.timely_filing.after(service_date)
    due, rule = from_service, f"{_span(rules.timely_filing)} from the date of service"
    allowed = rules.secondary_from_prior_remit
    if allowed is not None and prior_remit_date is not None and not rules.statutory:
        from_remit = allowed.after(prior_remit_date)
        if from_remit > from_service:
            due, rule = from_remit, f"{_span(allowed)} from the earlier payer's remittance"
    deadline = Deadline(
        kind="timely_filing", due=due, rule=rule, citation=rules.timely_filing_source
    )
    return rolled(deadline, rules.roll_to_business_day, rules.roll_source)


def claim_filing_deadline(rules: DeadlineRules, submission: ClaimSubmission) -> Deadline:
    """The timely filing deadline of one claim: from its date of service, or from the latest
    earlier payer's remittance it carries (see timely_filing_deadline)."""
    prior = [r.adjudication_date for r in submission.prior_remittances]
    return timely_filing_deadline(
        rules, submission.encounter.service_date, max(prior) if prior else None
    )


def appeal_deadline(rules: DeadlineRules, level: int, notice_date: date) -> Deadline:
    """The last day to request appeal `level` (1 = first) of a decision dated `notice_date`:
    the presumed receipt (Medicare: notice + 5 days, 42 CFR 405.942(a)(1)) plus the level's
    window (42 USC 1395ff(a)(3)(C)(i), (b)(1)(D)(i) for Medicare; 29 CFR 2560.503-1(h)(3)(i)
    for group health plans)."""
    step = _level(rules, level)
    received = notice_date + timedelta(days=rules.notice_receipt_days)
    presumed = f"received {received.isoformat()}" if rules.notice_receipt_days else "notice date"
    deadline = Deadline(
        kind="appeal",
        due=received + timedelta(days=step.filing_days),
        rule=f"{step.name}: {step.filing_days} days from the {presumed}",
        citation=rules.appeal_source,
    )
    return rolled(deadline, step.roll_to_business_day, rules.roll_source or rules.appeal_source)


def appeal_decision_due(rules: DeadlineRules, level: int, requested: date) -> Deadline | None:
    """When the reviewer owes a decision on a timely request (None when no window is set)."""
    step = _level(rules, level)
    if step.decision_days is None:
        return None
    return Deadline(
        kind="appeal_decision",
        due=requested + timedelta(days=step.decision_days),
        rule=f"{step.name}: decision within {step.decision_days} days of the request",
        citation=rules.appeal_source,
    )


def prior_auth_decision_due(
    rules: DeadlineRules, requested_at: datetime, urgent: bool
) -> datetime | None:
    """CMS-0057-F: 72 hours for an urgent request, 7 calendar days for a standard one, for
    the payers the rule covers; None for the others. A pended answer (278 A4) does not stop
    the clock (CMS-0057-F, RIN 0938-AU87)."""
    if rules.prior_auth_window != "cms_0057_f":
        return None
    return requested_at + (timedelta(hours=72) if urgent else timedelta(days=7))


def prior_auth_decision_deadline(decision_due: datetime) -> Deadline:
    """The prior authorization's decision deadline, as a workflow's next deadline: the day
    of `decision_due` (see prior_auth_decision_due, standard requests)."""
    return Deadline(
        kind="prior_auth_decision",
        due=decision_due.date(),
        rule=f"decision by {decision_due:%Y-%m-%d %H:%M} UTC: 7 calendar days after the "
        "standard request",
        citation="CMS-0057-F (RIN 0938-AU87)",
    )


def overdue(deadline: Deadline, day: date) -> bool:
    """A deadline's own day is still in time (calendar days); the day after it is late."""
    return day > deadline.due


def first_status_check(rules: DeadlineRules, received: date) -> Deadline:
    """The first 276: max(payment floor + 1, prompt pay - 5) days after receipt, so the
    payer has had the time the law gives it before it is asked (industry practice;
    configurable; the floor and prompt-pay days are 42 USC 1395u(c)(2), (c)(3)(B) for
    Medicare)."""
    wait = max(rules.payment_floor_days + 1, rules.prompt_pay_days - 5)
    return Deadline(
        kind="status_check",
        due=received + timedelta(days=wait),
        rule=f"day {wait}: max(payment floor {rules.payment_floor_days} + 1, "
        f"prompt pay {rules.prompt_pay_days} - 5)",
        citation=FOLLOW_UP_PRACTICE,
    )


def next_status_check(rules: DeadlineRules, last_check: date) -> Deadline:
    """While the claim is pending, again every `status_recheck_days` (industry practice;
    configurable)."""
    return Deadline(
        kind="status_check",
        due=last_check + timedelta(days=rules.status_recheck_days),
        rule=f"every {rules.status_recheck_days} days while pending",
        citation=FOLLOW_UP_PRACTICE,
    )


def prompt_pay_due(rules: DeadlineRules, received: date) -> Deadline:
    return Deadline(
        kind="prompt_pay",
        due=received + timedelta(days=rules.prompt_pay_days),
        rule=f"clean claim paid within {rules.prompt_pay_days} days of receipt",
        citation=PROMPT_PAY_SOURCE,
    )


def escalation_date(rules: DeadlineRules, deadline: Deadline, later_payer: bool = False) -> date:
    """When a deadline becomes a worklist task: `escalation_days` before it, or for a later
    payer's claim `secondary_escalation_days` (industry practice, configurable: < 30 days,
    < 60 for secondary claims)."""
    days = rules.secondary_escalation_days if later_payer else rules.escalation_days
    return deadline.due - timedelta(days=days)


def _level(rules: DeadlineRules, level: int) -> AppealLevel:
    if not 1 <= level <= len(rules.appeal_levels):
        raise ValueError(
            f"appeal level {level}: the payer has levels 1..{len(rules.appeal_levels)}"
        )
    return rules.appeal_levels[level - 1]


def _span(limit: FilingLimit) -> str:
    if limit.months:
        return "1 calendar year" if limit.months == 12 else f"{limit.months} months"
    return f"{limit.days} days"


def correction_deadline(rules: DeadlineRules, submission: ClaimSubmission) -> Deadline:
    """The last day a denied or rejected claim's correction can be filed: a corrected claim
    (CLM05-3 7, or 1 after a 277CA rejection) is a claim, so it must be filed within the
    claim's timely filing limit (42 CFR 424.44(a)(1) for Medicare; 42 CFR 447.45(d)(1) for
    Medicaid; the payer contract otherwise). The clock is the original claim's, never
    restarted by the denial."""
    filing = claim_filing_deadline(rules, submission)
    return filing.model_copy(
        update={"kind": "correction", "rule": f"a corrected claim is filed within timely "
                f"filing: {filing.rule}"}
    )  # fmt: skip
