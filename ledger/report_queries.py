"""The SQL of the billing reports (ledger/reports.py has their names, definitions and
parameters): one function per report, engine in, rows out, plus the ledger's open balance by
another path for the A/R check.

SQLAlchemy Core, run the same on SQLite and PostgreSQL; the one function they spell
differently (days between two dates) is compiled per dialect below. Money comes back as
Decimal cents, counts as int, rates as Decimal fractions (4 places), days as int; a payer of
None is the row of all payers.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session
from sqlmodel import select as select_rows

from cob.denials import CONTRACTUAL
from cob.money import ZERO
from ledger import tables as t

Row = dict[str, Any]

CLAIMS = t.Claim.__table__  # type: ignore[attr-defined]
FILINGS = t.ClaimFiling.__table__  # type: ignore[attr-defined]
LINES = t.LineAdjudication.__table__  # type: ignore[attr-defined]
ADJUSTMENTS = t.LineAdjustment.__table__  # type: ignore[attr-defined]
EVENTS = t.AuditEvent.__table__  # type: ignore[attr-defined]
TASKS = t.WorklistTask.__table__  # type: ignore[attr-defined]

# ASC X12 005010X221A1 loop 2100 CLP02: 1, 2, 3 processed as primary, secondary, tertiary;
# 19, 20, 21 the same and forwarded to the next payer; 4 denied.
PROCESSED = ("1", "2", "3", "19", "20", "21")
DENIED = "4"
AGING_BUCKETS = (  # column, the oldest age (days since filing) it holds; None: no limit
    ("days_0_30", 30),
    ("days_31_60", 60),
    ("days_61_90", 90),
    ("days_91_120", 120),
    ("days_over_120", None),
)
TOP_LIMIT = 10
RATE = Decimal("0.0001")


# --- SQL pieces shared by the reports ---------------------------------------------------


class days_between(FunctionElement):
    """Whole days from `earlier` to `later` (dates): later - earlier."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(days_between)
def _days_standard(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"  # PostgreSQL: an integer


def _is_denial(adjustment: Any) -> ColumnElement[bool]:
    """The engine's own test (cob.denials.is_denial): a CAS outside PR, not a contractual,
    prior-payer or sequestration CARC, of a non-zero amount."""
    return and_(
        adjustment.c.group_code != "PR",
        adjustment.c.reason_code.not_in(sorted(CONTRACTUAL)),
        adjustment.c.amount != 0,
    )


def _has_denial_adjustment() -> ColumnElement[bool]:
    adjustment = ADJUSTMENTS.alias("denial")
    return exists().where(
        adjustment.c.claim_control_number == CLAIMS.c.claim_control_number,
        _is_denial(adjustment),
    )


def _denied() -> ColumnElement[bool]:
    return or_(CLAIMS.c.claim_status == DENIED, _has_denial_adjustment())


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _rate(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE, rounding=ROUND_HALF_UP)


def _money(value: Any) -> Decimal:
    """A sum from the database as cents: PostgreSQL's NUMERIC is exact, SQLite's NUMERIC
    affinity keeps integers and floats, whose sums are a hair off the cent at most."""
    return Decimal(str(value if value is not None else 0)).quantize(ZERO)


def _rows(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(query))


# --- ar-aging -----------------------------------------------------------------------------


def _open_on(as_of: date) -> ColumnElement[bool]:
    """An open claim as of the day (AR_AGING's definition)."""
    day = literal(as_of, Date)
    return and_(
        CLAIMS.c.accepted == true(),
        CLAIMS.c.replaced_by.is_(None),
        FILINGS.c.filed_on <= day,
        or_(CLAIMS.c.claim_status.is_(None), CLAIMS.c.adjudication_date > day),
    )


def ar_aging(engine: Engine, *, as_of: date | None = None) -> list[Row]:
    as_of = as_of or date.today()
    age = days_between(literal(as_of, Date), FILINGS.c.filed_on)
    buckets = []
    after = -1  # a bucket holds the ages over the bucket before's oldest, up to its own
    for column, oldest in AGING_BUCKETS:
        within = age > after if oldest is None else and_(age > after, age <= oldest)
        charge = case((within, CLAIMS.c.total_charge), else_=literal(0))
        buckets.append(func.sum(charge).label(column))
        after = oldest if oldest is not None else after
    query = (
        select(CLAIMS.c.payer_id, func.count().label("claims"), *buckets)
        .select_from(
            CLAIMS.join(FILINGS, FILINGS.c.claim_control_number == CLAIMS.c.claim_control_number)
        )
        .where(_open_on(as_of))
        .group_by(CLAIMS.c.payer_id)
        .order_by(CLAIMS.c.payer_id)
    )
    rows: list[Row] = []
    for found in _rows(engine, query):
        row: Row = {"payer_id": found.payer_id, "claims": found.claims}
        row |= {column: _money(getattr(found, column)) for column, _ in AGING_BUCKETS}
        row["total"] = sum((row[column] for column, _ in AGING_BUCKETS), ZERO)
        rows.append(row)
    if rows:
        total: Row = {"payer_id": None, "claims": sum(r["claims"] for r in rows)}
        for column in [c for c, _ in AGING_BUCKETS] + ["total"]:
            total[column] = sum((r[column] for r in rows), ZERO)
        rows.append(total)
    return rows


def open_claims_balance(engine: Engine, *, as_of: date | None = None) -> Decimal:
    """The ledger's open balance by another path than ar_aging's SQL: every claim and its
    filing read as rows and the definition applied in Python, the charges summed exactly."""
    as_of = as_of or date.today()
    with Session(engine) as session:
        claims = {c.claim_control_number: c for c in session.exec(select_rows(t.Claim))}
        filings = list(session.exec(select_rows(t.ClaimFiling)))
    balance = ZERO
    for filing in filings:
        claim = claims.get(filing.claim_control_number)
        if claim is None or not claim.accepted or claim.replaced_by is not None:
            continue
        if filing.filed_on > as_of:
            continue
        adjudicated = claim.claim_status is not None and (
            claim.adjudication_date is None or claim.adjudication_date <= as_of
        )
        if not adjudicated:
            balance += claim.total_charge
    return balance


# --- denials ------------------------------------------------------------------------------


def denials(engine: Engine) -> list[Row]:
    adjudicated = CLAIMS.c.claim_status.is_not(None)
    denial = ADJUSTMENTS.alias("amounts")
    denied_amount = (
        select(func.coalesce(func.sum(denial.c.amount), 0))
        .where(denial.c.claim_control_number == CLAIMS.c.claim_control_number, _is_denial(denial))
        .scalar_subquery()
    )
    by_payer = (
        select(
            CLAIMS.c.payer_id,
            func.count().label("adjudicated"),
            _count_if(_denied()).label("denied"),
            func.sum(denied_amount).label("denied_amount"),
        )
        .where(adjudicated)
        .group_by(CLAIMS.c.payer_id)
        .order_by(CLAIMS.c.payer_id)
    )
    by_carc = (
        select(
            CLAIMS.c.payer_id,
            ADJUSTMENTS.c.reason_code,
            func.count(func.distinct(CLAIMS.c.claim_control_number)).label("denied"),
            func.sum(ADJUSTMENTS.c.amount).label("denied_amount"),
        )
        .select_from(
            CLAIMS.join(
                ADJUSTMENTS,
                ADJUSTMENTS.c.claim_control_number == CLAIMS.c.claim_control_number,
            )
        )
        .where(adjudicated, _is_denial(ADJUSTMENTS))
        .group_by(CLAIMS.c.payer_id, ADJUSTMENTS.c.reason_code)
    )
    payers = _rows(engine, by_payer)
    carcs = _rows(engine, by_carc)
    if not payers:
        return []

    def row(payer: str | None, carc: str | None, whole: int, part: int, amount: Any) -> Row:
        return {
            "payer_id": payer,
            "carc": carc,
            "adjudicated": whole,
            "denied": part,
            "denial_rate": _rate(part, whole),
            "denied_amount": _money(amount),
        }

    def carc_rows(payer: str | None, whole: int, found: list[Any]) -> list[Row]:
        merged: dict[str, tuple[int, Decimal]] = {}
        for f in found:
            count, amount = merged.get(f.reason_code, (0, ZERO))
            merged[f.reason_code] = (count + f.denied, amount + _money(f.denied_amount))
        order = sorted(merged, key=lambda carc: (-merged[carc][0], carc.zfill(4)))
        return [row(payer, carc, whole, *merged[carc]) for carc in order]

    rows: list[Row] = []
    for p in payers:
        rows.append(row(p.payer_id, None, p.adjudicated, p.denied, p.denied_amount))
        rows += carc_rows(p.payer_id, p.adjudicated, [c for c in carcs if c.payer_id == p.payer_id])
    whole = sum(p.adjudicated for p in payers)
    amount = sum((_money(p.denied_amount) for p in payers), ZERO)
    rows.append(row(None, None, whole, sum(p.denied for p in payers), amount))
    # A claim is counted under a CARC once per payer; a claim has one payer, so the payers'
    # counts add up to the count over all payers.
    rows += carc_rows(None, whole, carcs)
    return rows


# --- days-to-pay --------------------------------------------------------------------------


def nearest_rank(ordered: list[int], percent: int) -> int:
    """The nearest-rank percentile: the ceil(percent/100 * n)-th smallest value, n >= 1."""
    rank = -(-percent * len(ordered) // 100)  # ceil without floats
    return ordered[max(rank, 1) - 1]


def days_to_pay(engine: Engine) -> list[Row]:
    days = days_between(CLAIMS.c.adjudication_date, FILINGS.c.filed_on).label("days")
    query = (
        select(CLAIMS.c.payer_id, days)
        .select_from(
            CLAIMS.join(FILINGS, FILINGS.c.claim_control_number == CLAIMS.c.claim_control_number)
        )
        .where(CLAIMS.c.claim_status.in_(PROCESSED), CLAIMS.c.adjudication_date.is_not(None))
        .order_by(CLAIMS.c.payer_id, days)
    )
    by_payer: dict[str, list[int]] = {}
    for found in _rows(engine, query):
        by_payer.setdefault(found.payer_id, []).append(found.days)

    def row(payer: str | None, ordered: list[int]) -> Row:
        return {
            "payer_id": payer,
            "claims": len(ordered),
            "median_days": nearest_rank(ordered, 50),
            "p90_days": nearest_rank(ordered, 90),
        }

    rows = [row(payer, ordered) for payer, ordered in by_payer.items()]
    if rows:
        rows.append(row(None, sorted(d for ordered in by_payer.values() for d in ordered)))
    return rows


# --- first-pass ---------------------------------------------------------------------------


def first_pass(engine: Engine) -> list[Row]:
    accepted = CLAIMS.c.accepted == true()
    clean = and_(
        accepted,
        CLAIMS.c.claim_status.in_(PROCESSED),
        CLAIMS.c.replaced_by.is_(None),
        not_(_has_denial_adjustment()),
    )
    answered = or_(CLAIMS.c.accepted == false(), CLAIMS.c.claim_status.is_not(None))
    query = (
        select(
            CLAIMS.c.payer_id,
            func.count().label("first_submissions"),
            _count_if(accepted).label("accepted"),
            _count_if(answered).label("answered"),
            _count_if(clean).label("clean"),
        )
        # the first attempt: '<encounter>-<n>-1' (cob.claims.claim_control_number)
        .where(CLAIMS.c.claim_control_number.like("%-1"))
        .group_by(CLAIMS.c.payer_id)
        .order_by(CLAIMS.c.payer_id)
    )
    counts = [
        {
            "payer_id": f.payer_id,
            "first_submissions": f.first_submissions,
            "accepted": f.accepted,
            "answered": f.answered,
            "clean": f.clean,
        }
        for f in _rows(engine, query)
    ]
    if counts:
        total = {key: sum(c[key] for c in counts) for key in counts[0] if key != "payer_id"}
        counts.append({"payer_id": None, **total})
    return [
        {
            "payer_id": c["payer_id"],
            "first_submissions": c["first_submissions"],
            "accepted": c["accepted"],
            "first_pass_rate": _rate(c["accepted"], c["first_submissions"]),
            "answered": c["answered"],
            "clean": c["clean"],
            "clean_rate": _rate(c["clean"], c["answered"]),
        }
        for c in counts
    ]


# --- underpayments ------------------------------------------------------------------------


def underpayments(engine: Engine) -> list[Row]:
    reviews = select(EVENTS.c.step, EVENTS.c.detail).where(EVENTS.c.kind == "payment_review")
    open_tasks = (
        select(TASKS.c.payer_id, func.count().label("open_tasks"))
        .where(TASKS.c.kind == "underpaid", TASKS.c.status == "open")
        .group_by(TASKS.c.payer_id)
    )
    figures: dict[str, Row] = {}

    def payer_row(payer: str) -> Row:
        empty = {"reviewed": 0, "underpaid": 0, "expected": ZERO, "paid": ZERO}
        return figures.setdefault(payer, {"payer_id": payer, **empty, "shortfall": ZERO})

    for review in _rows(engine, reviews):
        payer = review.step.split(":", 2)[2]  # payment_review:<payer sequence>:<payer id>
        reviewed = [
            ln for ln in json.loads(review.detail)["lines"] if ln.get("expected") is not None
        ]
        if not reviewed:  # a claim denied whole: no line was paid, so none is reviewed
            continue
        row = payer_row(payer)
        short = [Decimal(ln["expected"]) - Decimal(ln["paid"]) for ln in reviewed]
        row["reviewed"] += 1
        row["underpaid"] += any(s > 0 for s in short)
        row["expected"] += sum((Decimal(ln["expected"]) for ln in reviewed), ZERO)
        row["paid"] += sum((Decimal(ln["paid"]) for ln in reviewed), ZERO)
        row["shortfall"] += sum((s for s in short if s > 0), ZERO)
    tasks = {found.payer_id: found.open_tasks for found in _rows(engine, open_tasks)}
    for payer in tasks:
        payer_row(payer)
    rows = [_underpayment_row(figures[payer], tasks.get(payer, 0)) for payer in sorted(figures)]
    if rows:
        total: Row = {"payer_id": None}
        for key in ("reviewed", "underpaid"):
            total[key] = sum(row[key] for row in figures.values())
        for key in ("expected", "paid", "shortfall"):
            total[key] = sum((row[key] for row in figures.values()), ZERO)
        rows.append(_underpayment_row(total, sum(tasks.values())))
    return rows


def _underpayment_row(figures: Row, open_tasks: int) -> Row:
    return {
        "payer_id": figures["payer_id"],
        "reviewed": figures["reviewed"],
        "underpaid": figures["underpaid"],
        "expected": figures["expected"],
        "paid": figures["paid"],
        "variance": figures["paid"] - figures["expected"],
        "shortfall": figures["shortfall"],
        "open_tasks": open_tasks,
    }


# --- top-procedures -----------------------------------------------------------------------


def top_procedures(engine: Engine, *, limit: int = TOP_LIMIT) -> list[Row]:
    claims_with_835 = CLAIMS.c.claim_status.is_not(None)
    # each service line of an encounter once, however many 835s carry it
    services = (
        select(
            CLAIMS.c.encounter_id,
            LINES.c.line_number,
            LINES.c.procedure_code,
            func.max(LINES.c.charge).label("charge"),
        )
        .select_from(
            LINES.join(CLAIMS, CLAIMS.c.claim_control_number == LINES.c.claim_control_number)
        )
        .where(claims_with_835)
        .group_by(CLAIMS.c.encounter_id, LINES.c.line_number, LINES.c.procedure_code)
        .subquery("services")
    )
    charges = (
        select(
            services.c.procedure_code,
            func.count().label("services"),
            func.sum(services.c.charge).label("charges"),
        )
        .group_by(services.c.procedure_code)
        .subquery("charges")
    )
    denied_line = (  # each line an 835 adjudicated with a denial, and its denied amount
        select(
            ADJUSTMENTS.c.claim_control_number,
            ADJUSTMENTS.c.line_number,
            func.sum(ADJUSTMENTS.c.amount).label("amount"),
        )
        .where(_is_denial(ADJUSTMENTS))
        .group_by(ADJUSTMENTS.c.claim_control_number, ADJUSTMENTS.c.line_number)
        .subquery("denied_line")
    )
    denied = (
        select(
            LINES.c.procedure_code,
            func.count().label("denied_lines"),
            func.sum(denied_line.c.amount).label("denied_amount"),
        )
        .select_from(
            denied_line.join(
                LINES,
                and_(
                    LINES.c.claim_control_number == denied_line.c.claim_control_number,
                    LINES.c.line_number == denied_line.c.line_number,
                ),
            ).join(CLAIMS, CLAIMS.c.claim_control_number == LINES.c.claim_control_number)
        )
        .where(claims_with_835)
        .group_by(LINES.c.procedure_code)
        .subquery("denied")
    )
    denied_lines = func.coalesce(denied.c.denied_lines, 0).label("denied_lines")
    procedures = select(
        charges.c.procedure_code,
        charges.c.services,
        charges.c.charges,
        denied_lines,
        func.coalesce(denied.c.denied_amount, 0).label("denied_amount"),
    ).select_from(charges.outerjoin(denied, denied.c.procedure_code == charges.c.procedure_code))
    by_charges = procedures.order_by(charges.c.charges.desc(), charges.c.procedure_code)
    by_denials = procedures.where(denied_lines > 0).order_by(
        denied_lines.desc(), denied.c.denied_amount.desc(), charges.c.procedure_code
    )
    rows = []
    for ranked_by, query in (("charges", by_charges), ("denials", by_denials)):
        for rank, found in enumerate(_rows(engine, query.limit(limit)), start=1):
            rows.append(
                {
                    "ranked_by": ranked_by,
                    "rank": rank,
                    "procedure_code": found.procedure_code,
                    "services": found.services,
                    "charges": _money(found.charges),
                    "denied_lines": found.denied_lines,
                    "denied_amount": _money(found.denied_amount),
                }
            )
    return rows
