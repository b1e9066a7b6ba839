"""When a claim's follow-up escalates or gives up: a claim filed after its timely filing
deadline, the last day the engine waits for a claim's 835, and the alerts on a pended prior
authorization. The day-by-day cadence (276 checks, escalation before a deadline) is in
cob/deadlines.py; what a 277 answer asks of the team is in cob/claim_status.py.

Pure: the follow-up workflows (workflows/follow_up.py, workflows/prior_auth.py) set their
durable timers on these dates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from cob.deadlines import Deadline, DeadlineRules

# Alert at 80% of a prior authorization's decision window (the CMS-0057-F window is 72 hours
# urgent, 7 calendar days standard; the 80% alert is industry practice, configurable).
PRIOR_AUTH_ALERT_SHARE = 0.8
# A payer with no regulatory decision window: the engine's own limit before a person asks.
PRIOR_AUTH_DEFAULT_ALERT = timedelta(days=7)
# A pended 278 (HCR01 A4, ASC X12 005010X217) is asked again daily, counted from the request
# (engine policy; a pended answer does not stop the CMS-0057-F clock).
PRIOR_AUTH_ASK_EVERY = timedelta(days=1)


def filed_late(filing: Deadline, accepted_on: date) -> bool:
    """The payer accepted the claim (277CA) after its timely filing deadline: expect a CO-29
    denial, appealable only with proof of timely filing (CARC 29, X12 Claim Adjustment
    Reason Codes)."""
    return accepted_on > filing.due


def last_day_to_wait(rules: DeadlineRules, filing: Deadline, accepted_on: date) -> date:
    """The last day the engine waits for a claim's 835; the day after it the claim is lost.
    A claim filed in time is waited for until its timely filing deadline. One filed late is
    still owed an answer (most likely CO-29): it is followed up as any other and given up
    after the prompt-pay day and one status re-check (engine policy; configurable)."""
    if not filed_late(filing, accepted_on):
        return filing.due
    return accepted_on + timedelta(days=rules.prompt_pay_days + rules.status_recheck_days)


def prior_auth_alert_at(requested_at: datetime, decision_due: datetime | None) -> datetime:
    """When a still-pended prior authorization becomes a task: at PRIOR_AUTH_ALERT_SHARE of
    the payer's decision window, or PRIOR_AUTH_DEFAULT_ALERT after the request when the payer
    has none (see deadlines.prior_auth_decision_due)."""
    if decision_due:
        return requested_at + (decision_due - requested_at) * PRIOR_AUTH_ALERT_SHARE
    return requested_at + PRIOR_AUTH_DEFAULT_ALERT


def prior_auth_next_ask(requested_at: datetime, asks: int) -> datetime:
    """When a pended prior authorization asked `asks` times since the request is asked
    again."""
    return requested_at + PRIOR_AUTH_ASK_EVERY * (asks + 1)
