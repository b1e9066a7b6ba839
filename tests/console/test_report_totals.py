"""Every billing report's figures checked against the ledger it reads, on a ledger the real
engine wrote: a dev server, a worker and the payer simulator over HTTP, as `cob demo` runs.

The run bills the demo's ten encounters to their end (the team's correction and order sent
as the demo sends them), then a second set that leaves work behind:

  encounter            payer(s)            what the ledger keeps
  E1001-rt-u1, -u2     ACME01              paid 10% short (/admin/underpay): underpaid, closed
  E1006-rt-u           ACME01              the MRI, paid 10% short, closed
  E1009-rt-cob         ACME01, BLUE02      ACME01 denies CO-22 (BLUE02 first), its claim set
                                           aside; BLUE02, then ACME01 again: closed
  E1007-rt-open        BLUE02              denied CO-16 N290, no correction sent: open denial
  E1003-rt-appeal      MCARE               20610 for a sore throat, denied CO-50: in appeal
  E1004-rt-h1, -h2     EMPL03 (primary)    accepted, no 835 (/admin/hold): open, 215.00 each
  E1002-rt-h           ACME01 > EMPL03     ACME01 paid short (task open, no review yet);
                                           EMPL03 accepted, no 835: open, 250.00

Each report's expected rows are worked out here in plain Python from the raw rows of
ledger/tables.py, following the report's written definition (ledger/reports.py), never
through ledger/report_queries.py; then compared with run_report's rows, every row, to the
cent.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from cli.demo import DemoEncounter, poll, start_examples
from cli.encounters import start_encounter
from cob.model import Encounter
from ledger import tables as t
from ledger.db import make_engine
from ledger.reports import open_claims_balance, run_report
from payers.simulator.serve import start_in_thread
from tests.workflow_harness import example
from workers.devserver import DevServer, free_port
from workers.temporal import connect, verify_search_attributes
from workers.worker import WorkerSettings, build_worker

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SETTLE_SECONDS = 180  # generous: the whole run takes a fraction of it
UNDERPAYING, HOLDING = "ACME01", "EMPL03"
HELD_CHARGES = Decimal("215.00") * 2 + Decimal("250.00")  # examples 04 twice, 02's claim

# The reports' definitions, as their text says it (ledger/reports.py), written out here
PROCESSED = {"1", "2", "3", "19", "20", "21"}  # CLP02 processed as primary ... tertiary
DENIED = "4"
NOT_DENIALS = {"45", "23", "253"}  # CARCs that are normal adjustments
AGES = [("days_0_30", 30), ("days_31_60", 60), ("days_61_90", 90), ("days_91_120", 120)]
OVER = "days_over_120"
BUCKETS = [column for column, _ in AGES] + [OVER]
ZERO, RATE = Decimal("0.00"), Decimal("0.0001")


# --- the run --------------------------------------------------------------------------------


@dataclass
class Run:
    engine: Engine
    url: str
    folder: Path


def appealed_denial(encounter_id: str) -> Encounter:
    """Example 03's Medicare patient, Medicare only, an arthrocentesis (20610) for a sore
    throat: MCARE covers 20610 only for M and S diagnoses, so the line is denied CO-50."""
    data = json.loads((EXAMPLES / "03-medicare-medigap.json").read_text())
    data["encounter_id"] = encounter_id
    data["coverages"] = [c for c in data["coverages"] if c["payer_id"] == "MCARE"]
    data["diagnoses"] = ["J02.9"]
    data["lines"] = [
        {"line_number": 1, "procedure_code": "20610", "charge": "150.00", "diagnosis_pointers": [1]}
    ]
    return Encounter.model_validate(data)


def another_payer_first(encounter_id: str) -> Encounter:
    """Example 09's patient with her own ACME01 plan under member ACM700800901, whose COB file
    names BLUE02 primary (payers/simulator/members.json), and her spouse's BLUE02: ACME01
    denies CO-22, the claim is set aside, BLUE02 is billed, then ACME01 again."""
    encounter = example("09-three-payers", encounter_id=encounter_id)
    by_payer = {c.payer_id: c for c in encounter.coverages}
    own = by_payer["ACME01"].model_copy(update={"member_id": "ACM700800901"})
    return encounter.model_copy(update={"coverages": [own, by_payer["BLUE02"]]})


async def settled(what: str, found: Callable[[], Any], seconds: float = SETTLE_SECONDS) -> Any:
    """`found()`'s first truthy answer, asked every 0.2 s; fails naming `what` after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not (answer := found()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"waited {seconds:.0f} s for {what}")
        await asyncio.sleep(0.2)
    return answer


async def demo_to_its_end(client: Client) -> None:
    """The demo's encounters, the team's correction (07) and order (10) sent as cob demo does."""
    items: list[DemoEncounter] = await start_examples(client, EXAMPLES, "rt")
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while not all(item.done for item in items):
        assert asyncio.get_running_loop().time() < deadline, "the demo's encounters unfinished"
        await asyncio.gather(*(poll(client, item) for item in items if not item.done))
        await asyncio.sleep(0.2)
    stages = {item.name: item.status.stage if item.status else None for item in items}
    assert set(stages.values()) == {"closed"}, stages


def open_task(engine: Engine, encounter_id: str, kind: str) -> bool:
    with Session(engine) as session:
        found = session.exec(
            select(t.WorklistTask).where(
                t.WorklistTask.encounter_id == encounter_id,
                t.WorklistTask.kind == kind,
                t.WorklistTask.status == "open",
            )
        )
        return found.first() is not None


def filed_at(engine: Engine, encounter_id: str, payer_id: str) -> bool:
    """The encounter's claim to `payer_id` accepted by the payer's 277CA (a claim_filings row)."""
    with Session(engine) as session:
        found = session.exec(
            select(t.ClaimFiling)
            .join(t.Claim, t.Claim.claim_control_number == t.ClaimFiling.claim_control_number)  # type: ignore[arg-type]
            .where(t.Claim.encounter_id == encounter_id, t.ClaimFiling.payer_id == payer_id)
        )
        return found.first() is not None


async def second_set(client: Client, simulator_url: str, engine: Engine) -> None:
    """Encounters that leave work behind: paid short, denied and left open, held open."""
    async with httpx.AsyncClient(base_url=simulator_url, timeout=10) as admin:
        for route, body in [
            ("/admin/underpay", {"payer_id": UNDERPAYING, "percent": "10"}),
            ("/admin/hold", {"payer_id": HOLDING}),
        ]:
            (await admin.post(route, json=body)).raise_for_status()
    closing = [
        example("01-commercial", encounter_id="E1001-rt-u1"),
        example("01-commercial", encounter_id="E1001-rt-u2"),
        example("06-prior-authorization", encounter_id="E1006-rt-u"),
        another_payer_first("E1009-rt-cob"),
    ]
    held = [
        example("04-working-aged", encounter_id="E1004-rt-h1"),
        example("04-working-aged", encounter_id="E1004-rt-h2"),
        example("02-child-birthday-rule", encounter_id="E1002-rt-h"),
    ]
    denied = example("07-denied-then-corrected", encounter_id="E1007-rt-open")
    appealed = appealed_denial("E1003-rt-appeal")
    handles = [await start_encounter(client, e) for e in closing]
    for encounter in [*held, denied, appealed]:
        await start_encounter(client, encounter)
    done = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), SETTLE_SECONDS)
    assert [status.stage for status in done] == ["closed"] * len(closing)
    await settled(
        "the claims held at EMPL03 filed (their 277CA acceptance in the ledger)",
        lambda: all(filed_at(engine, e.encounter_id, HOLDING) for e in held),
    )
    await settled(
        "example 02's ACME01 claim paid short (its underpaid task open)",
        lambda: open_task(engine, "E1002-rt-h", "underpaid"),
    )
    await settled(
        "example 07's denial waiting for its correction",
        lambda: open_task(engine, denied.encounter_id, "correction_needed"),
    )
    await settled(
        "the CO-50 denial's appeal task",
        lambda: open_task(engine, appealed.encounter_id, "appeal_due"),
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def run(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    folder = tmp_path_factory.mktemp("report-totals")
    url = f"sqlite:///{folder / 'ledger.db'}"
    engine = make_engine(url)
    server = DevServer(folder / "temporal", port=free_port(), ui_port=None)
    simulator = None
    try:
        await server.start()
        simulator = start_in_thread(folder / "payers.db")
        client = await connect(server.address)
        await verify_search_attributes(client, register=True)
        settings = WorkerSettings(payer_url=simulator.url, database_url=url,
                                  statements_dir=folder / "statements")  # fmt: skip
        async with build_worker(client, settings):
            await demo_to_its_end(client)
            await second_set(client, simulator.url, engine)
        # the worker stopped: nothing moves under the comparisons
        yield Run(engine, url, folder)
    finally:
        if simulator is not None:
            simulator.stop()
        server.stop()


# --- the ledger's raw rows ------------------------------------------------------------------


@dataclass
class Ledger:
    claims: dict[str, t.Claim]  # by claim control number
    filings: dict[str, t.ClaimFiling]
    lines: list[t.LineAdjudication]
    adjustments: list[t.LineAdjustment]
    reviews: list[t.AuditEvent]
    tasks: list[t.WorklistTask]


@pytest.fixture(scope="module")
def ledger(run: Run) -> Ledger:
    with Session(run.engine) as session:
        return Ledger(
            claims={c.claim_control_number: c for c in session.exec(select(t.Claim))},
            filings={f.claim_control_number: f for f in session.exec(select(t.ClaimFiling))},
            lines=list(session.exec(select(t.LineAdjudication))),
            adjustments=list(session.exec(select(t.LineAdjustment))),
            reviews=list(
                session.exec(select(t.AuditEvent).where(t.AuditEvent.kind == "payment_review"))
            ),
            tasks=list(session.exec(select(t.WorklistTask))),
        )


def rate(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else (Decimal(part) / whole).quantize(RATE, ROUND_HALF_UP)


def is_denial(adjustment: t.LineAdjustment) -> bool:
    return (
        adjustment.group_code != "PR"
        and adjustment.reason_code not in NOT_DENIALS
        and adjustment.amount != 0
    )


def denial_adjustments(ledger: Ledger) -> list[t.LineAdjustment]:
    """Denial adjustments of the claims an 835 adjudicated."""
    return [
        a
        for a in ledger.adjustments
        if is_denial(a) and ledger.claims[a.claim_control_number].claim_status is not None
    ]


def by_payer(rows: list[dict], *keys: str) -> dict[tuple, dict]:
    """Rows by their payer (None: all payers) and `keys`, each key once."""
    keyed = {tuple(row[k] for k in ("payer_id", *keys)): row for row in rows}
    assert len(keyed) == len(rows), f"a payer twice in {rows}"
    return keyed


def total_row(payer_rows: Iterable[dict], *keys: str) -> dict:
    """The row of all payers: each of `keys` summed over the payers' rows."""
    rows = list(payer_rows)
    return {"payer_id": None, **{key: sum(row[key] for row in rows) for key in keys}}


# --- the expected rows, from the definitions ------------------------------------------------


def expected_ar_aging(ledger: Ledger, as_of: date) -> list[dict]:
    rows: dict[str | None, dict] = {}
    for ccn, filing in ledger.filings.items():
        claim = ledger.claims[ccn]
        answered = claim.claim_status is not None and (
            claim.adjudication_date is None or claim.adjudication_date <= as_of
        )
        if not claim.accepted or claim.replaced_by or filing.filed_on > as_of or answered:
            continue
        age = (as_of - filing.filed_on).days
        bucket = next((column for column, oldest in AGES if age <= oldest), OVER)
        row = rows.setdefault(
            claim.payer_id,
            {"payer_id": claim.payer_id, "claims": 0, **dict.fromkeys(BUCKETS, ZERO)},
        )
        row["claims"] += 1
        row[bucket] += claim.total_charge
    if rows:
        rows[None] = total_row(rows.values(), "claims", *BUCKETS)
    for row in rows.values():
        row["total"] = sum(row[column] for column in BUCKETS)
    return list(rows.values())


def expected_denials(ledger: Ledger) -> list[dict]:
    adjudicated: dict[str | None, set[str]] = defaultdict(set)  # None: all payers
    denied: dict[tuple, set[str]] = defaultdict(set)  # (payer, CARC); a CARC of None: any
    amount: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for ccn, claim in ledger.claims.items():
        if claim.claim_status is None:
            continue
        for who in (claim.payer_id, None):
            adjudicated[who].add(ccn)
            if claim.claim_status == DENIED:
                denied[(who, None)].add(ccn)
    for adjustment in denial_adjustments(ledger):
        ccn = adjustment.claim_control_number
        for who in (ledger.claims[ccn].payer_id, None):
            for carc in (None, adjustment.reason_code):
                denied[(who, carc)].add(ccn)
                amount[(who, carc)] += adjustment.amount
    keys = [(payer, None) for payer in adjudicated] + [k for k in denied if k[1] is not None]
    return [
        {
            "payer_id": payer,
            "carc": carc,
            "adjudicated": len(adjudicated[payer]),
            "denied": len(denied[(payer, carc)]),
            "denial_rate": rate(len(denied[(payer, carc)]), len(adjudicated[payer])),
            "denied_amount": amount[(payer, carc)],
        }
        for payer, carc in keys
    ]


def nearest_rank(days: list[int], percent: int) -> int:
    ordered = sorted(days)
    return ordered[max(math.ceil(percent * len(ordered) / 100), 1) - 1]


def expected_days_to_pay(ledger: Ledger) -> list[dict]:
    days: dict[str | None, list[int]] = defaultdict(list)
    for ccn, filing in ledger.filings.items():
        claim = ledger.claims[ccn]
        if claim.claim_status in PROCESSED and claim.adjudication_date is not None:
            days[claim.payer_id].append((claim.adjudication_date - filing.filed_on).days)
    if days:
        days[None] = [d for found in list(days.values()) for d in found]
    return [
        {
            "payer_id": payer,
            "claims": len(found),
            "median_days": nearest_rank(found, 50),
            "p90_days": nearest_rank(found, 90),
        }
        for payer, found in days.items()
    ]


def expected_first_pass(ledger: Ledger) -> list[dict]:
    denied = {a.claim_control_number for a in denial_adjustments(ledger)}
    counts: dict[str | None, dict] = {}
    for ccn, claim in ledger.claims.items():
        if ccn.rsplit("-", 2)[2] != "1":  # <encounter>-<n>-<attempt>: the first attempt only
            continue
        row = counts.setdefault(claim.payer_id, dict.fromkeys(
            ["first_submissions", "accepted", "answered", "clean"], 0))  # fmt: skip
        row["first_submissions"] += 1
        row["accepted"] += claim.accepted
        row["answered"] += not claim.accepted or claim.claim_status is not None
        row["clean"] += (
            claim.accepted
            and claim.claim_status in PROCESSED
            and claim.replaced_by is None
            and ccn not in denied
        )
    if counts:
        counts[None] = total_row(
            counts.values(), "first_submissions", "accepted", "answered", "clean"
        )
    return [
        {
            "payer_id": payer,
            "first_submissions": c["first_submissions"],
            "accepted": c["accepted"],
            "first_pass_rate": rate(c["accepted"], c["first_submissions"]),
            "answered": c["answered"],
            "clean": c["clean"],
            "clean_rate": rate(c["clean"], c["answered"]),
        }
        for payer, c in counts.items()
    ]


def expected_underpayments(ledger: Ledger) -> list[dict]:
    rows: dict[str | None, dict] = {}

    def row(payer: str) -> dict:
        return rows.setdefault(payer, {"payer_id": payer, "reviewed": 0, "underpaid": 0,
                                       "expected": ZERO, "paid": ZERO, "shortfall": ZERO,
                                       "open_tasks": 0})  # fmt: skip

    for review in ledger.reviews:
        _, _, payer = review.step.split(":")  # payment_review:<payer sequence>:<payer id>
        lines = [ln for ln in json.loads(review.detail)["lines"] if ln["expected"] is not None]
        if not lines:  # every line denied: no payment to review (a denied line is left out)
            continue
        short = [Decimal(ln["expected"]) - Decimal(ln["paid"]) for ln in lines]
        found = row(payer)
        found["reviewed"] += 1
        found["underpaid"] += any(s > 0 for s in short)
        found["expected"] += sum(Decimal(ln["expected"]) for ln in lines)
        found["paid"] += sum(Decimal(ln["paid"]) for ln in lines)
        found["shortfall"] += sum(s for s in short if s > 0)
    for task in ledger.tasks:
        if task.kind == "underpaid" and task.status == "open":
            row(task.payer_id)["open_tasks"] += 1
    if rows:
        figures = ("reviewed", "underpaid", "expected", "paid", "shortfall", "open_tasks")
        rows[None] = total_row(rows.values(), *figures)
    for found in rows.values():
        found["variance"] = found["paid"] - found["expected"]
    return list(rows.values())


def expected_top_procedures(ledger: Ledger) -> list[dict]:
    answered = {ccn for ccn, c in ledger.claims.items() if c.claim_status is not None}
    services: dict[tuple, Decimal] = {}  # (encounter, line, code) -> its charge, once
    line_of: dict[tuple, t.LineAdjudication] = {}
    for line in ledger.lines:
        line_of[(line.claim_control_number, line.line_number)] = line
        if line.claim_control_number in answered:
            encounter = ledger.claims[line.claim_control_number].encounter_id
            key = (encounter, line.line_number, line.procedure_code)
            services[key] = max(services.get(key, line.charge), line.charge)
    procedures: dict[str, dict] = {}
    for (_, _, code), charge in services.items():
        row = procedures.setdefault(code, {"procedure_code": code, "services": 0,
                                           "charges": ZERO, "denied_lines": 0,
                                           "denied_amount": ZERO})  # fmt: skip
        row["services"] += 1
        row["charges"] += charge
    denied: dict[tuple, Decimal] = defaultdict(Decimal)  # (ccn, line) -> denied amount
    for adjustment in denial_adjustments(ledger):
        denied[(adjustment.claim_control_number, adjustment.line_number)] += adjustment.amount
    for key, amount in denied.items():
        code = line_of[key].procedure_code
        procedures[code]["denied_lines"] += 1
        procedures[code]["denied_amount"] += amount
    by_charges = sorted(procedures.values(), key=lambda p: (-p["charges"], p["procedure_code"]))
    by_denials = sorted(
        (p for p in procedures.values() if p["denied_lines"]),
        key=lambda p: (-p["denied_lines"], -p["denied_amount"], p["procedure_code"]),
    )
    return [
        {"ranked_by": ranked_by, "rank": rank, **row}
        for ranked_by, ranked in (("charges", by_charges), ("denials", by_denials))
        for rank, row in enumerate(ranked, start=1)
    ]


# --- the reports against them ---------------------------------------------------------------


def held_since(ledger: Ledger) -> date:
    """The day EMPL03 accepted the claims it holds (one day: they were billed together)."""
    (day,) = {
        f.filed_on for ccn, f in ledger.filings.items() if ledger.claims[ccn].claim_status is None
    }
    return day


def test_ar_aging_is_the_held_claims_and_the_ledgers_open_balance(run: Run, ledger: Ledger):
    rows = run_report(run.engine, "ar-aging")
    assert by_payer(rows) == by_payer(expected_ar_aging(ledger, date.today()))
    # open: the three claims EMPL03 accepted and holds; the denials, the one appealed and the
    # one waiting for its correction, are not
    assert [(row["payer_id"], row["claims"], row["total"]) for row in rows] == [
        (HOLDING, 3, HELD_CHARGES),
        (None, 3, HELD_CHARGES),
    ]
    assert open_claims_balance(run.engine) == HELD_CHARGES


@pytest.mark.parametrize(
    "days, bucket",
    [(0, "days_0_30"), (30, "days_0_30"), (31, "days_31_60"), (60, "days_31_60"),
     (61, "days_61_90"), (90, "days_61_90"), (91, "days_91_120"), (120, "days_91_120"),
     (121, "days_over_120"), (400, "days_over_120")],
)  # fmt: skip
def test_ar_aging_ages_the_held_claims_from_their_acceptance(
    run: Run, ledger: Ledger, days: int, bucket: str
):
    as_of = held_since(ledger) + timedelta(days)
    rows = run_report(run.engine, "ar-aging", as_of=as_of)
    assert by_payer(rows) == by_payer(expected_ar_aging(ledger, as_of))
    (total,) = [row for row in rows if row["payer_id"] is None]
    assert total[bucket] == total["total"] == HELD_CHARGES
    assert open_claims_balance(run.engine, as_of=as_of) == HELD_CHARGES


def test_ar_aging_before_any_acceptance_is_empty(run: Run, ledger: Ledger):
    before = min(f.filed_on for f in ledger.filings.values()) - timedelta(1)
    assert run_report(run.engine, "ar-aging", as_of=before) == []
    assert expected_ar_aging(ledger, before) == []
    assert open_claims_balance(run.engine, as_of=before) == 0


def test_cob_report_ar_aging_csv_totals_the_ledgers_open_balance(run: Run):
    env = {**os.environ, "DATABASE_URL": run.url, "COB_HOME": str(run.folder / "home")}
    shown = subprocess.run(
        [sys.executable, "-m", "cli.main", "report", "ar-aging", "--csv"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    rows = list(csv.DictReader(io.StringIO(shown.stdout)))
    (total,) = [row for row in rows if row["payer_id"] == ""]  # the row of all payers
    assert Decimal(total["total"]) == open_claims_balance(run.engine) == HELD_CHARGES


def test_denials_by_payer_and_carc(run: Run, ledger: Ledger):
    rows = by_payer(run_report(run.engine, "denials"), "carc")
    assert rows == by_payer(expected_denials(ledger), "carc")
    # CO-16: the demo's 07 before its correction and 07 left open, 220.00 + 90.00 each
    assert (rows[("BLUE02", "16")]["denied"], rows[("BLUE02", "16")]["denied_amount"]) == (
        2, Decimal("620.00"))  # fmt: skip
    # CO-50: a line denied on a claim processed (CLP02 1) counts; CO-22: the claim set aside
    assert rows[("MCARE", "50")]["denied_amount"] == Decimal("150.00")
    assert rows[("ACME01", "22")]["denied_amount"] == Decimal("290.00")
    assert rows[(None, None)]["denied"] == 4
    assert rows[(None, None)]["denied_amount"] == Decimal("1060.00")


def test_days_to_pay_by_payer(run: Run, ledger: Ledger):
    rows = run_report(run.engine, "days-to-pay")
    assert by_payer(rows) == by_payer(expected_days_to_pay(ledger))
    assert rows[-1]["payer_id"] is None and rows[-1]["claims"] > 0


def test_first_pass_by_payer(run: Run, ledger: Ledger):
    rows = run_report(run.engine, "first-pass")
    assert by_payer(rows) == by_payer(expected_first_pass(ledger))
    assert rows[-1]["payer_id"] is None and 0 < rows[-1]["clean"] < rows[-1]["answered"]


def underpayment_figures(rows: list[dict]) -> dict[tuple, dict]:
    """Every figure of the underpayments rows but `reviewed` (checked on its own below)."""
    return {
        key: {column: value for column, value in row.items() if column != "reviewed"}
        for key, row in by_payer(rows).items()
    }


def test_underpayments_by_payer(run: Run, ledger: Ledger):
    rows = run_report(run.engine, "underpayments")
    assert underpayment_figures(rows) == underpayment_figures(expected_underpayments(ledger))
    acme = by_payer(rows)[(UNDERPAYING,)]
    # closed paid short: 01 twice, 83.04 - 74.74 + 8.68 - 7.81 = 9.17 each, and 06,
    # 83.04 - 74.74 + 246.40 - 221.76 = 32.94; 02's ACME01 claim paid short is a task, with
    # no review yet: its encounter waits for EMPL03
    assert acme["underpaid"] == 3 and acme["open_tasks"] == 4
    assert acme["shortfall"] == Decimal("9.17") * 2 + Decimal("32.94") == -acme["variance"]


def test_underpayments_count_reviewed_the_claims_paid(run: Run, ledger: Ledger):
    rows = run_report(run.engine, "underpayments")
    reviewed = {key: row["reviewed"] for key, row in by_payer(rows).items()}
    assert reviewed == {
        key: row["reviewed"] for key, row in by_payer(expected_underpayments(ledger)).items()
    }


def test_each_review_paid_what_its_835_paid(ledger: Ledger):
    """The underpayments report sums the reviews' paid: each is the 835's, line by line, on
    the claim reviewed (the one in force, or the one a COB review set aside)."""
    paid = defaultdict(dict)
    for line in ledger.lines:
        paid[line.claim_control_number][line.line_number] = line.paid
    for review in ledger.reviews:
        _, sequence, payer = review.step.split(":")
        (claim,) = [
            c
            for c in ledger.claims.values()
            if f"encounter-{c.encounter_id}" == review.workflow_id
            and (c.payer_sequence, c.payer_id) == (int(sequence), payer)
            and c.replaced_by in (None, "cob_review")
        ]
        reviewed = {
            ln["line_number"]: Decimal(ln["paid"]) for ln in json.loads(review.detail)["lines"]
        }
        assert reviewed == paid[claim.claim_control_number], review.step


def test_top_procedures_by_charges_and_by_denials(run: Run, ledger: Ledger):
    every = expected_top_procedures(ledger)
    assert run_report(run.engine, "top-procedures", limit=100) == every
    assert run_report(run.engine, "top-procedures") == [row for row in every if row["rank"] <= 10]
    denied = [
        (row["procedure_code"], row["denied_lines"])
        for row in every
        if row["ranked_by"] == "denials"
    ]
    assert ("20610", 1) in denied and ("99203", 2) in denied
