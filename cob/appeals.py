"""An appeal's inputs and outcome: what is appealed, what the team files, what the reviewer
decided, and how it ended; and the appeal's own rules: when an unfiled level is escalated,
when its window closes, and what the payer's new 835 means. The levels and their windows are
the payer's `DeadlineRules.appeal_levels` (42 USC 1395ff for Medicare; 29 CFR 2560.503-1(h)
for group health plans)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import Field

from cob.deadlines import AppealLevel, Deadline, DeadlineRules, overdue, prompt_pay_due
from cob.denials import DenialDecision
from cob.model import ClaimSubmission, Model, Remittance
from cob.money import ZERO


class AppealRun(Model):
    claim_workflow_id: str  # whose ERA pick-ups carry the payer's answer
    submission: ClaimSubmission  # the claim as adjudicated
    denied: Remittance  # the initial determination being appealed (its 835)
    denial: DenialDecision
    rules: DeadlineRules
    era_poll_days: int = Field(default=1, gt=0)
    generation: int = Field(default=1, ge=1)  # the claim's code generation (workflows/)


class AppealFiling(Model):
    """The team filed the appeal at `level` (1 = the first), as `note` describes."""

    level: int = Field(gt=0)
    note: str = ""
    by: str = ""  # who filed it (the `cob` user or the console's); "" before it was recorded


class AppealDecision(Model):
    """The reviewer's decision on the filed level, as the team received it."""

    level: int = Field(gt=0)
    outcome: Literal["overturned", "upheld"]
    note: str = ""
    by: str = ""  # who recorded it


# overturned: the payer paid on reprocessing (after its own or the reviewer's decision);
# upheld: every level upheld the denial; expired: a level's filing window closed unfiled
AppealResult = Literal["overturned", "upheld", "expired"]


class AppealOutcome(Model):
    result: AppealResult
    level: int
    reason: str
    remittance: Remittance | None = None
    steps: list[str] = []  # dated, as the engine took them


# An appeal not filed by 75% of its window is escalated to the team (industry practice;
# configurable).
APPEAL_ESCALATION_SHARE = 0.75


def appeal_escalation_date(rules: DeadlineRules, notice: date, filing: Deadline) -> date:
    """The day an unfiled appeal level becomes a second task: APPEAL_ESCALATION_SHARE of the
    window from the notice's presumed receipt (notice + `notice_receipt_days`, 42 CFR
    405.942(a)(1) for Medicare) to the filing deadline, rounded up to a whole day."""
    received = notice + timedelta(days=rules.notice_receipt_days)
    window = (filing.due - received).days
    return received + timedelta(days=math.ceil(window * APPEAL_ESCALATION_SHARE))


def filing_window_closed(filing: Deadline, day: date) -> bool:
    """The level can no longer be filed: its deadline's day has passed (the deadline's own
    day is still in time). An unfiled level then ends the appeal: the denial stands."""
    return overdue(filing, day)


def payer_reprocessed(denied: Remittance, remittance: Remittance) -> bool:
    """An 835 for the appealed claim under another payer claim number (CLP07, ASC X12
    005010X221A1) is the payer's reprocessing: the appeal was won and paid. The denied 835
    itself, read again, is not."""
    return remittance.payer_claim_number != denied.payer_claim_number


def reprocessed_payment_due(
    decision: AppealDecision, rules: DeadlineRules, heard_on: date
) -> Deadline | None:
    """What the reviewer's decision means: upheld (None), the next level opens; overturned,
    the payer owes the reprocessed claim by its prompt-pay day from when the decision was
    heard (42 USC 1395h(c)(2), 1395u(c)(2) for Medicare; state prompt-pay law or the
    contract for the others)."""
    if decision.outcome == "upheld":
        return None
    return prompt_pay_due(rules, heard_on)


def next_level_notice(decided_on: date) -> date:
    """The next level's window counts from the decision that upheld the denial (its notice
    date): e.g. a reconsideration within 180 days of receipt of the redetermination, 42 USC
    1395ff(b)(1)(D)(i)."""
    return decided_on


# The deductible and coinsurance the patient owes are not in controversy (CARC 1, 2).
_NOT_IN_CONTROVERSY = {("PR", "1"), ("PR", "2")}


def amount_in_controversy(submission: ClaimSubmission, denied: Remittance) -> Decimal:
    """What the appeal is about: the charges of the claim's services, less what the payer paid
    and the deductible and coinsurance that would apply (42 CFR 405.1006(d)(1))."""
    charged = sum((line.charge for line in submission.encounter.lines), ZERO)
    paid = sum((line.paid for line in denied.lines), ZERO)
    applicable = sum(
        (
            adj.amount
            for line in denied.lines
            for adj in line.adjustments
            if (adj.group, adj.reason) in _NOT_IN_CONTROVERSY
        ),
        ZERO,
    )
    return max(ZERO, charged - paid - applicable)


class BelowThreshold(Model):
    """A level whose minimum amount in controversy the claim alone does not reach."""

    amount: Decimal
    threshold: Decimal
    year: int  # the calendar year whose minimum applies
    explanation: str


def below_amount_in_controversy(
    amount: Decimal, level: AppealLevel, requested_on: date
) -> BelowThreshold | None:
    """None when the level has no minimum or `amount` reaches it; else what the team must know.
    The minimum is the one in force for the calendar year of the request (42 USC
    1395ff(b)(1)(E)(i), (iii), published each year: 90 FR 55869 for 2026); a year not yet in
    the payer's table takes the latest year before it. Claims may be aggregated to reach it
    (1395ff(b)(1)(E)(ii)); a request below it alone is dismissed (42 CFR 405.1052)."""
    known = [year for year in level.amount_in_controversy if year <= requested_on.year]
    if not known:
        return None
    year = max(known)
    threshold = level.amount_in_controversy[year]
    if amount >= threshold:
        return None
    return BelowThreshold(
        amount=amount,
        threshold=threshold,
        year=year,
        explanation=(
            f"{level.name}: the amount in controversy {amount} is below the {year} minimum "
            f"{threshold} (42 USC 1395ff(b)(1)(E)(i)); filed alone the request would be "
            "dismissed (42 CFR 405.1052). Aggregate it with other claims of the same "
            "beneficiary or other beneficiaries that share the issue to reach the minimum "
            "(1395ff(b)(1)(E)(ii); 42 CFR 405.1006(e)), or let the level go"
        ),
    )
