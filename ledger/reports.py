"""Billing reports over the ledger, each defined once: a name, a title, its definition (the
help a reader gets), its columns, its parameters and one function(engine, **params) -> rows
(ledger/report_queries.py). The CLI (`cob report`), the HTTP API and the console all call
`run_report`, so they serve the same figures under the same field names.

Rows are dicts in column order: money as Decimal (cents), counts as int, rates as Decimal
fractions (4 places), days as int, dates as ISO text; a payer of None is the row of all
payers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from ledger.report_queries import (
    AGING_BUCKETS,
    Row,
    ar_aging,
    days_to_pay,
    denials,
    first_pass,
    nearest_rank,
    open_claims_balance,
    top_procedures,
    underpayments,
)

__all__ = [
    "REPORTS",
    "Report",
    "ReportParamError",
    "Row",
    "UnknownReport",
    "nearest_rank",
    "open_claims_balance",
    "report_params",
    "run_report",
]


class UnknownReport(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown report {name!r}: choose one of {', '.join(REPORTS)}")
        self.name = name


class ReportParamError(ValueError):
    """A parameter the report does not take, or a bad value: `param` names it."""

    def __init__(self, param: str, problem: str) -> None:
        super().__init__(f"{param}: {problem}")
        self.param, self.problem = param, problem


# --- the registry ---------------------------------------------------------------------------

AR_AGING = """\
What payers still owe on the claims they accepted, by payer, aged from the day the payer
accepted each claim (claim_filings.filed_on: its 277CA acceptance) to the as-of date
(as_of, default today) in 0-30, 31-60, 61-90, 91-120 and over 120 days; the row with no
payer is the total.

An open claim, as of a day: the payer accepted it (a 277CA acceptance on or before the day,
and the claim still marked accepted); it is not replaced by a corrected claim (frequency 7)
nor set aside by a COB review; and no 835 had adjudicated it by that day (no CLP02 yet, or an
adjudication date after it). Its balance is its whole charge: nothing is posted before the
835. The total equals the sum of every open claim's balance (open_claims_balance).

A claim the 835 paid in part is not open: the 835 settles that payer's share, and what it
did not pay is the contract's (CO), the patient's (PR) or the next payer's, whose own claim
is open once that payer accepts it; counting the rest here too would count the same dollars
twice (an underpayment is on the underpayments report). A denied claim (CLP02 4), appealed
or not, is not open either: the ledger marks no denial as worked (written off, moved to the
next payer, an appeal lost), so counting denials would keep the written-off ones in A/R for
ever; denials are on the denials report, an appeal is on the worklist, and an appeal the
payer overturns comes back as a new 835 for the claim. Replacements and set-asides are
taken as they stand today: the ledger does not date them."""

DENIALS = """\
Denial rate by payer and by CARC, over the claims an 835 adjudicated (each submission is a
claim: an original denied and its corrected claim paid are two claims, one denied).

A claim is denied when its CLP02 is 4 (denied) or one of its lines carries a denial
adjustment: a CAS whose group is not PR (patient responsibility) and whose CARC is not 45
(charge over the fee schedule), 23 (the prior payers' adjudication) or 253 (sequestration),
of a non-zero amount: the test the engine routes denials by (cob.denials.is_denial). So a
line denied while the rest of the claim is paid counts; a payment of 0.00 that the
patient's deductible took (PR-1) does not. ASC X12 005010X221A1: loop 2100 CLP02 (claim
status, 4 = denied); loops 2100 and 2110 CAS01 (group: CO, OA, PI, PR) and CAS02 (the
CARC, X12 code source 139). Claim-level CAS amounts are posted on lines before the ledger
keeps them.

denial_rate = denied / adjudicated, for each payer and for all payers (the rows with no
payer). A CARC row counts the claims carrying that CARC on a denial adjustment over the
payer's adjudicated claims, so a claim with two CARCs counts under each. denied_amount sums
the denial adjustments' amounts. A denial the payer overturned on appeal is overwritten in
the claim's row by the payer's new 835 and no longer counts."""

DAYS_TO_PAY = """\
Days from the payer's acceptance of a claim (claim_filings.filed_on, the 277CA) to its
adjudication on the 835, per payer and over all payers (the row with no payer): the claims
counted, the median and the 90th percentile.

The 835's day is the claim's adjudication date (claims.adjudication_date: the 835's DTM*405
production date, else BPR16): the payer's own calendar day, as the filing day is. The day
the engine picked the 835 up (x12_documents.recorded_at) would measure the ERA polling and
the engine's uptime, not the payer. Claims counted: those adjudicated as processed (CLP02 1,
2, 3, 19, 20, 21); a denial is not a payment. Percentiles are by nearest rank: the
ceil(p/100 * n)-th smallest, so the median of an even count is the lower middle value. The
SQL gives each payer's days in order; SQLite has no percentile function, so the rank is
taken in Python."""

FIRST_PASS = """\
First-pass acceptance and clean-claim rate, per payer and over all payers (the row with no
payer).

A first submission is a claim's first attempt (claim control number <encounter>-<n>-1,
cob.claims.claim_control_number); a resubmission after a rejection or a denial is not one.
first_pass_rate = accepted / first_submissions, accepted meaning the 999 and 277CA accepted
it (claims.accepted; ack_status_code keeps the 277CA's code).

A clean claim is a first submission accepted, adjudicated as processed (CLP02 1, 2, 3, 19,
20, 21; a payment of 0.00 that the patient's deductible took is processed, not denied), with
no denial adjustment (as on the denials report), never corrected nor set aside (not
replaced). clean_rate = clean / answered, answered being the first submissions rejected or
adjudicated: a claim still waiting for its 835 does not count against the rate yet."""

UNDERPAYMENTS = """\
What the engine expected each payer to pay against what it paid, per payer and over all
payers (the row with no payer).

For each claim an 835 paid, the engine works out per line what the payer should have paid,
from the payer's own 271 benefits, the 835's allowed amount and the earlier payers'
adjudications (cob.expected.review_payment); the review is recorded when the encounter
closes, as an audit event of kind payment_review whose detail lists each line's expected and
paid. A denied line is not reviewed as a payment and is left out. A review that finds a line
paid short also opens an underpaid worklist task.

reviewed: claims reviewed; underpaid: those with a line paid less than expected; expected
and paid: over the reviewed lines; variance = paid - expected (negative: underpaid on the
whole); shortfall: the sum of expected - paid over the lines paid short (what to ask the
payer for); open_tasks: underpaid tasks still open. An encounter not closed yet has no
review recorded: its underpaid claims show in open_tasks only. The SQL selects the reviews;
their JSON lines are summed in Python, since SQLite (json_each) and PostgreSQL
(json_array_elements) unnest a JSON array differently."""

TOP_PROCEDURES = """\
The top procedure codes by charges, then by denials (limit rows each, default 10).

services: the encounters' service lines with that code, each counted once however many 835s
carry it (primary, secondary, a corrected claim); charges: their charges. denied_lines: the
lines an 835 adjudicated with a denial adjustment (as on the denials report, once per 835
that denied it); denied_amount: those adjustments' amounts. The rows ranked_by charges
come first, then those ranked_by denials (procedures never denied left out). A claim's lines
are known from its 835, so a claim still waiting for one is not counted yet."""


def _as_of(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ReportParamError("as_of", f"{value!r} is not a date (YYYY-MM-DD)") from None


def _limit(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ReportParamError("limit", f"{value!r} is not a whole number") from None
    if number < 1 or str(number) != str(value).strip():
        raise ReportParamError("limit", f"{value!r} must be a whole number of 1 or more")
    return number


@dataclass(frozen=True)
class Report:
    title: str
    definition: str
    columns: tuple[str, ...]
    run: Callable[..., list[Row]]  # run(engine, **params)
    params: dict[str, Callable[[Any], Any]]  # name -> parser of its value (raises ReportParamError)
    empty: str  # what an empty result means


REPORTS: dict[str, Report] = {
    "ar-aging": Report(
        title="A/R aging by payer",
        definition=AR_AGING,
        columns=("payer_id", "claims", *(c for c, _ in AGING_BUCKETS), "total"),
        run=ar_aging,
        params={"as_of": _as_of},
        empty="no open claims",
    ),
    "denials": Report(
        title="Denial rate by payer and CARC",
        definition=DENIALS,
        columns=("payer_id", "carc", "adjudicated", "denied", "denial_rate", "denied_amount"),
        run=denials,
        params={},
        empty="no claim adjudicated by an 835",
    ),
    "days-to-pay": Report(
        title="Days from 277CA acceptance to 835, by payer",
        definition=DAYS_TO_PAY,
        columns=("payer_id", "claims", "median_days", "p90_days"),
        run=days_to_pay,
        params={},
        empty="no claim processed by an 835",
    ),
    "first-pass": Report(
        title="First-pass acceptance and clean-claim rate by payer",
        definition=FIRST_PASS,
        columns=(
            "payer_id",
            "first_submissions",
            "accepted",
            "first_pass_rate",
            "answered",
            "clean",
            "clean_rate",
        ),
        run=first_pass,
        params={},
        empty="no claim submitted",
    ),
    "underpayments": Report(
        title="Expected vs paid by payer",
        definition=UNDERPAYMENTS,
        columns=(
            "payer_id",
            "reviewed",
            "underpaid",
            "expected",
            "paid",
            "variance",
            "shortfall",
            "open_tasks",
        ),
        run=underpayments,
        params={},
        empty="no payment reviewed and no underpaid task open",
    ),
    "top-procedures": Report(
        title="Top procedure codes by charges and by denials",
        definition=TOP_PROCEDURES,
        columns=(
            "ranked_by",
            "rank",
            "procedure_code",
            "services",
            "charges",
            "denied_lines",
            "denied_amount",
        ),
        run=top_procedures,
        params={"limit": _limit},
        empty="no service line adjudicated by an 835",
    ),
}


def report_params(name: str, **params: Any) -> dict[str, Any]:
    """The report's parameters read and checked (None means not given), before any query:
    UnknownReport for a name not in REPORTS, ReportParamError for a parameter the report
    does not take or a bad value (a date may be given as ISO text, a limit as text)."""
    report = REPORTS.get(name)
    if report is None:
        raise UnknownReport(name)
    checked = {}
    for key, value in params.items():
        if value is None:
            continue
        if key not in report.params:
            takes = ", ".join(report.params) or "none"
            raise ReportParamError(key, f"report {name} does not take it (its parameters: {takes})")
        checked[key] = report.params[key](value)
    return checked


def run_report(engine: Engine, name: str, **params: Any) -> list[Row]:
    """The report's rows, in its columns' order (report_params' errors first)."""
    checked = report_params(name, **params)
    return REPORTS[name].run(engine, **checked)
