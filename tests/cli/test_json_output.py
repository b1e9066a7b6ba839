"""`--json` on `cob status`, `tasks`, `timeline`, `documents` and `list`, run as a user runs
them (a subprocess), parsed with json.loads and checked field by field against the workflow's
own answer, the ledger's rows and the server's visibility store; an encounter named in every
form the CLI prints; a filter that finds nothing says so (text) or prints [] (JSON), exit 0.

The encounter: ACME01's COB file names BLUE02 primary for member ACM700800901
(payers/simulator/members.json), so ACME01 denies the first claim with CARC 22 and the engine
bills BLUE02, then ACME01 again: three claim workflows and one closed denial_routed task. It
runs on the time-skipping server with the real worker, the payer simulator over HTTP and a
SQLite (and, with COB_TEST_DATABASE_URL, a PostgreSQL) ledger; the worker stays up while the
commands run, since a status query of a closed workflow is answered by replaying it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from cli.views import encounter_id, encounter_workflow
from contract.ids import claim_workflow_id
from contract.messages import EncounterStatus
from ledger import tables as t
from ledger.db import make_engine, utcnow
from ledger.documents import documents_for
from ledger.queries import encounter_summary, encounter_timeline
from ledger.worklist import tasks
from payers.simulator.serve import start_in_thread
from tests.cli.test_cli import cob
from tests.ledger_db import backends, empty_database_url
from tests.workflow_harness import archives_settled, example, run_encounter, running_worker
from workers.devserver import DevServer, free_port
from workflows.encounter import EncounterWorkflow

CENTS = re.compile(r"^-?\d+\.\d{2}$")


@contextmanager
def ledger_url(backend: str, directory: Path) -> Iterator[str]:
    """A ledger URL a `cob` subprocess can open: a SQLite file, or PostgreSQL with its
    search_path set to a throwaway schema (dropped afterwards)."""
    with empty_database_url(backend, directory) as url:
        yield url


async def cob_json(*args: str, env: dict[str, str]) -> object:
    """The one JSON document a `--json` command prints, exit 0 and nothing on stderr."""
    result = await asyncio.to_thread(cob, *args, "--json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


async def each_form(command: str, forms: list[str], *options: str, env: dict) -> list:
    """The command's --json for each of these forms of the encounter's name, run at once."""
    return await asyncio.gather(*(cob_json(command, form, *options, env=env) for form in forms))


# --- one closed encounter of three claims, on the time-skipping server ---


@dataclass
class Closed:
    env: dict[str, str]
    engine: Engine
    client: Client
    encounter_id: str
    workflow_id: str
    status: EncounterStatus

    @property
    def claim(self) -> str:
        return claim_workflow_id(self.workflow_id, 1, "ACME01")

    @property
    def appeal(self) -> str:
        return f"{self.claim}/appeal"


def test_money_is_a_string_of_cents_and_a_rate_keeps_its_digits():
    from cli.views import json_ready
    from contract.stages import Stage

    assert json_ready({"paid": Decimal("0"), "owed": Decimal("57.1"), "rate": Decimal("0.125"),
                       "on": date(2026, 10, 5), "stage": Stage("closed")}) == {
        "paid": "0.00", "owed": "57.10", "rate": "0.125", "on": "2026-10-05", "stage": "closed",
    }  # fmt: skip


def test_every_form_the_cli_prints_names_the_encounter():
    """Its id, its workflow id, a claim's and an appeal's workflow id (each command below is
    run with two of them, a claim's or an appeal's among them)."""
    forms = ["E1001", "encounter-E1001", "encounter-E1001/claim-1-ACME01",
             "encounter-E1001/claim-1-ACME01/appeal", " E1001 "]  # fmt: skip
    assert {encounter_workflow(form) for form in forms} == {"encounter-E1001"}
    assert {encounter_id(form) for form in forms} == {"E1001"}


@pytest_asyncio.fixture(scope="module", params=backends())
async def closed(
    request: pytest.FixtureRequest, time_skipping: WorkflowEnvironment, tmp_path_factory
):
    tmp_path = tmp_path_factory.mktemp(f"json-{request.param}")
    client = time_skipping.client
    encounter = example("09-three-payers", encounter_id=f"J22-{request.param}")
    by_payer = {c.payer_id: c for c in encounter.coverages}
    own = by_payer["ACME01"].model_copy(update={"member_id": "ACM700800901"})
    encounter = encounter.model_copy(update={"coverages": [own, by_payer["BLUE02"]]})
    simulator = start_in_thread(tmp_path / "payers.db")
    try:
        with ledger_url(request.param, tmp_path) as url:
            async with running_worker(client, simulator.url, url, tmp_path) as settings:
                handle, status = await run_encounter(client, settings, encounter)
                # its audit trail is whole from here on
                await archives_settled(client, url, settings.task_queue)
                env = {
                    "TEMPORAL_ADDRESS": client.service_client.config.target_host,
                    "DATABASE_URL": url,
                    "COB_HOME": str(tmp_path / "home"),
                }
                yield Closed(env, make_engine(url), client, encounter.encounter_id, handle.id,
                             status)  # fmt: skip
    finally:
        simulator.stop()


async def test_status_json_is_the_workflows_answer_named_by_its_or_a_claims_workflow_id(
    closed: Closed,
):
    answers = await each_form("status", [closed.workflow_id, closed.claim], env=closed.env)
    assert all(answer == answers[0] for answer in answers)
    answer = answers[0]
    queried = await closed.client.get_workflow_handle(closed.workflow_id).query(
        EncounterWorkflow.status
    )
    assert list(answer) == ["workflow_id", *EncounterStatus.model_fields, "provider_adjustments"]
    assert answer["workflow_id"] == closed.workflow_id
    assert answer["encounter_id"] == queried.encounter_id == closed.encounter_id
    assert answer["stage"] == queried.stage == "closed"
    assert answer["payer_order"] == queried.payer_order == ["BLUE02", "ACME01"]
    assert answer["current_payer"] is None and answer["next_deadline"] is None
    assert [d["rule"] for d in answer["order_rules"]] == [d.rule for d in queried.order_rules]
    assert answer["needs_manual_review"] is queried.needs_manual_review is False
    claims = [(c["payer_id"], c["payer_sequence"], c["result"], c["claim_control_numbers"])
              for c in answer["claims"]]  # fmt: skip
    assert claims == [
        (c.payer_id, c.payer_sequence, c.result, c.claim_control_numbers) for c in queried.claims
    ]
    assert [c[2] for c in claims] == ["denied", "adjudicated", "adjudicated"]
    assert answer["claims"][0]["denial"]["reason_code"] == "22"
    # money: strings of cents, equal to the workflow's Decimals and to the ledger's rows
    summary = encounter_summary(closed.engine, closed.encounter_id)
    assert summary is not None
    owed = answer["patient_responsibility"]
    assert CENTS.match(owed) and Decimal(owed) == queried.patient_responsibility
    assert owed == summary["patient_responsibility"]
    assert len(answer["lines"]) == len(queried.lines) == 2
    for shown, line in zip(answer["lines"], queried.lines, strict=True):
        assert shown["line_number"] == line.line_number
        assert shown["procedure_code"] == line.procedure_code
        for field in ("charge", "adjustments", "patient_responsibility"):
            assert CENTS.match(shown[field]) and Decimal(shown[field]) == getattr(line, field)
        assert shown["paid_by_payer"] == {p: f"{a:.2f}" for p, a in line.paid_by_payer.items()}
    by_ccn = {c["claim_control_number"]: c for c in summary["claims"]}
    for claim in answer["claims"][1:]:
        remittance = claim["remittance"]
        ledger_claim = by_ccn[remittance["claim_control_number"]]
        assert [ln["paid"] for ln in remittance["lines"]] == [
            ln["paid"] for ln in ledger_claim["lines"]
        ]
        assert all(CENTS.match(ln["charge"]) for ln in remittance["lines"])
    assert answer["provider_adjustments"] == []


async def test_status_of_no_such_encounter_is_exit_1_with_nothing_on_stdout(closed: Closed):
    missing = await asyncio.to_thread(cob, "status", "J22-none", "--json", env=closed.env)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip() == "no encounter workflow encounter-J22-none"


async def test_tasks_json_are_the_ledgers_rows_named_by_id_or_an_appeals_workflow_id(
    closed: Closed,
):
    answers = await asyncio.gather(
        *(
            cob_json("tasks", "--all", "--encounter", form, env=closed.env)
            for form in (closed.encounter_id, closed.appeal)
        )
    )
    rows = tasks(closed.engine, encounter_id=closed.encounter_id, include_closed=True)
    assert all(answer == rows for answer in answers)
    [task] = answers[0]
    assert task["workflow_id"] == claim_workflow_id(closed.workflow_id, 1, "ACME01")
    assert task["encounter_id"] == closed.encounter_id and task["payer_id"] == "ACME01"
    assert task["claim_control_number"] == f"{closed.encounter_id}-1-1"
    assert (task["kind"], task["status"]) == ("denial_routed", "closed")
    assert task["resolution"].startswith("COB review: ACME01 denied CARC 22")
    date.fromisoformat(task["opened_on"])
    assert datetime.fromisoformat(task["updated_at"])


async def test_tasks_that_find_nothing_say_so_and_print_an_empty_list(closed: Closed):
    claim = closed.claim
    shown, listed = await asyncio.gather(
        asyncio.to_thread(cob, "tasks", "--encounter", claim, env=closed.env),
        cob_json("tasks", "--encounter", claim, env=closed.env),
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"no open task for encounter {closed.encounter_id} in the ledger\n"
    assert listed == []


async def test_timeline_json_is_the_audit_trail_named_by_id_or_a_claims_workflow_id(closed: Closed):
    answers = await each_form("timeline", [closed.encounter_id, closed.claim], env=closed.env)
    events = encounter_timeline(closed.engine, closed.workflow_id)
    assert all(answer == events for answer in answers)
    timeline = answers[0]
    assert list(timeline[0]) == [
        "id", "workflow_id", "step", "kind", "detail", "recorded_at", "chain_seq", "prev_hash",
        "hash", "on",
    ]  # fmt: skip
    kinds = [event["kind"] for event in timeline]
    assert kinds[0] == "encounter_started" and "encounter_closed" in kinds
    parts = {e["workflow_id"].removeprefix(closed.workflow_id) for e in timeline}
    assert parts == {"", "/claim-1-ACME01", "/claim-2-BLUE02", "/claim-3-ACME01", "/archive"}
    for event in timeline:
        date.fromisoformat(event["on"])
        datetime.fromisoformat(event["recorded_at"])
    remittances = [e["detail"] for e in timeline if e["kind"] == "remittance"]
    assert [r["payer_id"] for r in remittances] == ["ACME01", "BLUE02", "ACME01"]
    # the text is made from the same rows: one line each, a claim's named from the encounter
    shown = await asyncio.to_thread(cob, "timeline", closed.appeal, env=closed.env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert len(lines) == len(timeline)
    for line, event in zip(lines, timeline, strict=True):
        where = event["workflow_id"].removeprefix(closed.workflow_id).lstrip("/") or "encounter"
        assert line.split()[:3] == [event["on"], where, event["kind"]]


async def test_documents_json_are_the_ledgers_documents_named_by_its_or_an_appeals_workflow_id(
    closed: Closed, tmp_path: Path
):
    answers = await each_form("documents", [closed.workflow_id, closed.appeal], env=closed.env)
    assert all(answer == answers[0] for answer in answers)
    kept = documents_for(closed.engine, closed.encounter_id)
    listed = answers[0]
    assert len(listed) == len(kept) > 0
    for shown, row in zip(listed, kept, strict=True):
        assert "text" not in shown and "file" not in shown
        assert (shown["id"], shown["key"], shown["transaction"], shown["direction"]) == (
            row.id, row.key, row.transaction, row.direction
        )  # fmt: skip
        assert (shown["payer_id"], shown["claim_control_number"], shown["problem"]) == (
            row.payer_id, row.claim_control_number, row.problem
        )  # fmt: skip
        assert shown["recorded_at"] == row.recorded_at.isoformat()
        assert shown["carries_encounter"] is True and shown["provider_adjustments"] == []
    sent = {(d["direction"], d["transaction"]) for d in listed}
    assert {("sent", "837"), ("received", "999"), ("received", "835")} <= sent
    # --out writes the text and each row names its file
    out = tmp_path / "x12"
    written = await cob_json("documents", closed.encounter_id, "--out", str(out), env=closed.env)
    for n, (shown, row) in enumerate(zip(written, kept, strict=True), start=1):
        assert shown["file"] == str(out / f"{n:02d}-{row.transaction}-{row.payer_id}.x12")
        assert Path(shown["file"]).read_text() == row.text


async def test_timeline_and_documents_of_no_such_encounter_are_an_empty_list(closed: Closed):
    timeline, documents = await asyncio.gather(
        cob_json("timeline", "J22-none", env=closed.env),
        cob_json("documents", "encounter-J22-none/claim-1-ACME01", env=closed.env),
    )
    assert timeline == [] and documents == []


# --- a recovery (PLB) in another encounter's 835 that names this encounter's claim ---


@pytest.mark.parametrize("backend", backends())
def test_documents_json_lists_the_835_whose_plb_names_the_claim(backend: str, tmp_path: Path):
    """An 835 for another claim carries PLB WO:ICN-A1 30.00: the payer takes back 30.00 of
    claim A1's payment (005010X221A1 PLB03). `cob documents EA1` lists A1's 837, then that
    835 with the PLB only, as its text has always shown it."""
    with ledger_url(backend, tmp_path) as url:
        with Session(make_engine(url)) as session:
            session.add(t.Claim(claim_control_number="A1", encounter_id="EA1", payer_id="MCARE",
                                member_id="M1", payer_sequence=1, frequency="1", accepted=True,
                                ack_status_code="A2", total_charge=Decimal("100.00"),
                                payer_claim_number="ICN-A1", updated_at=utcnow()))  # fmt: skip
            for key, transaction, encounter in (("837/A1", "837", "EA1"), ("835/B2", "835", None)):
                session.add(t.X12Document(key=key, transaction=transaction, payer_id="MCARE",
                                          direction="sent" if encounter else "received",
                                          encounter_id=encounter, text="ISA~",
                                          recorded_at=utcnow()))  # fmt: skip
            session.add(t.ProviderAdjustment(document_key="835/B2", seq=1, payer_id="MCARE",
                                             provider_id="1234567893", reason="WO",
                                             reference="ICN-A1", amount=Decimal("30"),
                                             trace_number="CHK555", paid_on=date(2026, 11, 1)))  # fmt: skip
            session.commit()
        env = {"DATABASE_URL": url, "COB_HOME": str(tmp_path / "home")}
        as_json = cob("documents", "encounter-EA1", "--json", env=env)
        shown = cob("documents", "EA1", env=env)
    assert as_json.returncode == 0 and as_json.stderr == "", as_json.stderr
    listed = json.loads(as_json.stdout)
    assert [(d["key"], d["carries_encounter"]) for d in listed] == [
        ("837/A1", True),
        ("835/B2", False),
    ]
    assert listed[0]["provider_adjustments"] == []
    [plb] = listed[1]["provider_adjustments"]
    assert plb == {
        "document_key": "835/B2", "seq": 1, "payer_id": "MCARE", "provider_id": "1234567893",
        "period_end": None, "reason": "WO", "reference": "ICN-A1", "amount": "30.00",
        "trace_number": "CHK555", "paid_on": "2026-11-01",
    }  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1] == "   PLB WO 30.00 names claim ICN-A1 (835/B2, 2026-11-01)"


# --- cob list: a real dev server (the time-skipping server answers no visibility query) ---


@pytest_asyncio.fixture(scope="module")
async def listed_server(tmp_path_factory) -> dict:
    """A dev server holding two encounter workflows (no worker: they wait with the search
    attributes they started with); yields the env a `cob` subprocess needs and their
    descriptions."""
    from temporalio.common import SearchAttributePair, TypedSearchAttributes

    from contract import search_attributes as sa
    from workers.temporal import connect

    server = DevServer(tmp_path_factory.mktemp("json-list"), port=free_port(), ui_port=None)
    await server.start()
    try:
        client = await connect(server.address)
        held = [
            SearchAttributePair(sa.STAGE, "held"),
            SearchAttributePair(sa.CURRENT_PAYER, "ACME01"),
            SearchAttributePair(sa.PATIENT_BALANCE, 57.1),
            SearchAttributePair(sa.NEXT_DEADLINE, datetime(2027, 4, 3, tzinfo=UTC)),
            SearchAttributePair(sa.NEXT_DEADLINE_KIND, "timely_filing"),
            SearchAttributePair(sa.UNDERPAID, True),
        ]
        closed = [SearchAttributePair(sa.STAGE, "closed"),
                  SearchAttributePair(sa.PATIENT_BALANCE, 0.0)]  # fmt: skip
        described = {}
        for workflow_id, attributes in (("encounter-JL1", held), ("encounter-JL2", closed)):
            handle = await client.start_workflow(
                "EncounterWorkflow", id=workflow_id, task_queue="no-worker-here",
                search_attributes=TypedSearchAttributes(attributes),
            )  # fmt: skip
            described[workflow_id] = await handle.describe()
        env = {"TEMPORAL_ADDRESS": server.address}
        for _ in range(100):  # the visibility store catches up within moments
            if len(await cob_json("list", env=env)) == 2:
                break
            await asyncio.sleep(0.2)
        yield {"env": env, "described": described}
    finally:
        server.stop()


async def test_list_json_is_each_encounters_search_attributes(listed_server: dict):
    env, described = listed_server["env"], listed_server["described"]
    rows = await cob_json("list", env=env)
    assert [row["workflow_id"] for row in rows] == [
        "encounter-JL2",
        "encounter-JL1",
    ]  # newest first
    held, closed = rows[1], rows[0]
    assert held == {
        "workflow_id": "encounter-JL1",
        "encounter_id": "JL1",
        "status": "RUNNING",
        "stage": "held",
        "current_payer": "ACME01",
        "patient_balance": "57.10",
        "next_deadline": "2027-04-03",
        "next_deadline_kind": "timely_filing",
        "underpaid": True,
        "started": described["encounter-JL1"].start_time.isoformat(),
    }
    assert closed == {
        "workflow_id": "encounter-JL2",
        "encounter_id": "JL2",
        "status": "RUNNING",
        "stage": "closed",
        "current_payer": None,
        "patient_balance": "0.00",
        "next_deadline": None,
        "next_deadline_kind": None,
        "underpaid": False,
        "started": described["encounter-JL2"].start_time.isoformat(),
    }
    only_held = await cob_json("list", "--stage", "held", "--payer", "ACME01", env=env)
    assert only_held == [held]
    # the table is made from the same rows
    shown = await asyncio.to_thread(cob, "list", env=env)
    assert shown.returncode == 0, shown.stderr
    row = next(line for line in shown.stdout.splitlines() if "encounter-JL1" in line)
    for cell in ("RUNNING", "held", "ACME01", "57.10", "2027-04-03 timely_filing", "yes"):
        assert cell in row, row
    assert "2 encounter(s)" in shown.stdout


async def test_a_list_filter_that_finds_nothing_says_which_and_prints_an_empty_list(
    listed_server: dict,
):
    env = listed_server["env"]
    filters = ("--stage", "held", "--payer", "BLUE02", "--balance-over", "25.00", "--underpaid")
    shown, listed = await asyncio.gather(
        asyncio.to_thread(cob, "list", *filters, env=env), cob_json("list", *filters, env=env)
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (
        "no encounter matches stage=held payer=BLUE02 balance-over=25.00 underpaid "
        "(WorkflowType = 'EncounterWorkflow' AND CobStage = 'held' AND CobCurrentPayer = "
        "'BLUE02' AND CobPatientBalance > 25.00 AND CobUnderpaid = true)\n"
    )
    assert listed == []
