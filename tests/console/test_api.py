"""The HTTP API as people use it: `cob api` as a real server process, on a real dev server with
a worker and the payer simulator, a SQLite ledger; users of every role with real tokens."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from contract.ids import claim_workflow_id
from ledger.db import make_engine
from ledger.queries import encounter_timeline
from ledger.reports import open_claims_balance
from ledger.users import add_user, disable_user, list_users
from payers.simulator.serve import start_in_thread
from workers.devserver import DevServer, free_port
from workers.temporal import connect, verify_search_attributes
from workers.worker import WorkerSettings, build_worker

# the tests run in the fixture's event loop, where its worker runs
pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@dataclass
class Running:
    url: str
    ledger_url: str
    tokens: dict[str, str]  # user name -> token
    temporal: object


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    folder = tmp_path_factory.mktemp("api")
    ledger_url = f"sqlite:///{folder / 'ledger.db'}"
    engine = make_engine(ledger_url)
    tokens = {name: add_user(engine, name, role, by="root")[1]
              for name, role in [("ana", "biller"), ("ben", "biller"), ("sue", "supervisor"),
                                 ("carol", "auditor"), ("root", "admin")]}  # fmt: skip
    server = DevServer(folder / "temporal", port=free_port(), ui_port=None)
    await server.start()
    simulator = start_in_thread(folder / "payers.db")
    port = free_port()
    process = None
    try:
        client = await connect(server.address)
        await verify_search_attributes(client, register=True)
        settings = WorkerSettings(payer_url=simulator.url, database_url=ledger_url,
                                  statements_dir=folder / "statements")  # fmt: skip
        async with build_worker(client, settings):
            process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "api", "--port", str(port)],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(folder / "api.log").open("w"),
                env={**os.environ, "DATABASE_URL": ledger_url, "TEMPORAL_ADDRESS": server.address,
                     "COB_HOME": str(folder / "home")},
            )  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(f"{url}/api/health").raise_for_status()
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            yield Running(url, ledger_url, tokens, client)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        simulator.stop()
        server.stop()


async def call(
    api: Running, method: str, path: str, user: str | None = None, **kw
) -> httpx.Response:
    headers = kw.pop("headers", {})
    if user:
        headers["Authorization"] = f"Bearer {api.tokens[user]}"
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as http:
        return await http.request(method, path, headers=headers, **kw)


async def test_every_request_needs_a_token_and_each_role_sees_its_own_403s(api: Running):
    assert (await call(api, "GET", "/api/tasks")).status_code == 401
    bad = await call(api, "GET", "/api/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert (await call(api, "GET", "/api/me", "carol")).json() == {
        "name": "carol",
        "role": "auditor",
    }
    # an auditor reads everything and changes nothing
    for path in ("/api/tasks", "/api/reports", "/api/reports/ar-aging", "/api/encounters"):
        assert (await call(api, "GET", path, "carol")).status_code == 200, path
    actions = [
        ("POST", "/api/encounters", {"content": b"{}"}, "start encounters"),
        ("POST", "/api/encounters/E1/correction", {"json": {"note": "x"}}, "send corrections"),
        ("POST", "/api/encounters/E1/appeal/filing", {"json": {"level": 1}}, "file appeals"),
        ("POST", "/api/encounters/E1/appeal/decision",
         {"json": {"level": 1, "outcome": "upheld"}}, "record appeal decisions"),
        ("POST", "/api/encounters/E1/order", {"json": {"payer_ids": ["A"], "reason": "r"}},
         "set a payer order"),
        ("POST", "/api/tasks/k/claim", {}, "claim tasks"),
        ("POST", "/api/tasks/k/resolve", {"json": {"note": "done"}}, "resolve tasks"),
        ("POST", "/api/tasks/k/snooze", {"json": {"until": "2030-01-01"}}, "snooze tasks"),
        ("POST", "/api/tasks/k/reassign", {"json": {"to": "ana"}}, "reassign tasks"),
    ]  # fmt: skip
    for method, path, kw, does in actions:
        answer = await call(api, method, path, "carol", **kw)
        assert answer.status_code == 403, path
        assert answer.json()["detail"] == f"auditor carol may not {does}"
    # only a supervisor (or an admin) reassigns
    answer = await call(api, "POST", "/api/tasks/k/reassign", "ana", json={"to": "ben"})
    assert (
        answer.status_code == 403 and answer.json()["detail"] == "biller ana may not reassign tasks"
    )
    assert (
        await call(api, "POST", "/api/tasks/k/reassign", "sue", json={"to": "ben"})
    ).status_code == 404


async def test_the_team_is_listed_by_name_with_role_and_whether_active_never_a_hash(
    api: Running,
):
    engine = make_engine(api.ledger_url)
    add_user(engine, "dan", "biller", by="root")
    disable_user(engine, "dan", by="root")
    answer = await call(api, "GET", "/api/users", "carol")
    assert answer.status_code == 200
    assert answer.json() == [
        {"name": "ana", "role": "biller", "active": True},
        {"name": "ben", "role": "biller", "active": True},
        {"name": "carol", "role": "auditor", "active": True},
        {"name": "dan", "role": "biller", "active": False},
        {"name": "root", "role": "admin", "active": True},
        {"name": "sue", "role": "supervisor", "active": True},
    ]
    for user in list_users(engine):
        assert user.token_sha256 not in answer.text
    assert (await call(api, "GET", "/api/users")).status_code == 401


async def test_a_bad_encounter_is_a_422_naming_the_field_and_nothing_starts(api: Running):
    data = json.loads((EXAMPLES / "01-commercial.json").read_text())
    data["encounter_id"] = "E1001-api-bad"
    data["lines"][0]["charge"] = "-5.00"
    answer = await call(api, "POST", "/api/encounters", "ana", content=json.dumps(data))
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("lines[0].charge:")
    gone = await call(api, "GET", "/api/encounters/E1001-api-bad", "ana")
    assert gone.status_code == 404
    garbage = await call(api, "POST", "/api/encounters", "ana", content=b"{not json")
    assert garbage.status_code == 422 and garbage.json()["detail"].startswith("(body)")


async def test_a_denied_claim_worked_through_the_api_names_every_person(api: Running):
    data = json.loads((EXAMPLES / "07-denied-then-corrected.json").read_text())
    data["encounter_id"] = "E1007-api"
    started = await call(api, "POST", "/api/encounters", "ana", content=json.dumps(data))
    assert started.status_code == 201, started.text
    assert started.json()["workflow_id"] == "encounter-E1007-api"
    again = await call(api, "POST", "/api/encounters", "ana", content=json.dumps(data))
    assert again.status_code == 409

    for _ in range(300):  # the denial's task, once the claim waits for a correction
        found = (await call(api, "GET", "/api/tasks?encounter=E1007-api", "carol")).json()
        tasks = [t for t in found if t["kind"] == "correction_needed"]
        if tasks:
            break
        await asyncio.sleep(0.1)
    (task,) = tasks
    key = task["key"]
    claimed = await call(api, "POST", f"/api/tasks/{key}/claim", "ana")
    assert claimed.status_code == 200 and claimed.json()["task"]["assignee"] == "ana"
    taken = await call(api, "POST", f"/api/tasks/{key}/claim", "ben")
    assert taken.status_code == 409 and "ana" in taken.json()["detail"]

    fix = json.loads((EXAMPLES / "07-denied-then-corrected.correction.json").read_text())
    wrong = await call(api, "POST", "/api/encounters/E1007-api/correction", "ana",
                       json={"diagnoses": ["J18.9"], "note": "wrong fix"})  # fmt: skip
    assert (
        wrong.status_code == 409
        and "N290 requires rendering_provider_npi" in wrong.json()["detail"]
    )
    sent = await call(
        api, "POST", "/api/encounters/encounter-E1007-api/correction", "ana", json=fix
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["answer"] == "correction accepted; resubmitting to BLUE02"

    handle = api.temporal.get_workflow_handle("encounter-E1007-api")
    await handle.result()
    page = (await call(api, "GET", "/api/encounters/E1007-api", "carol")).json()
    assert page["status"]["stage"] == "closed"
    lines = page["ledger"]["balance"]["lines"]
    assert lines
    for line in lines:
        paid = sum(Decimal(amount) for amount in line["paid_by_payer"].values())
        assert Decimal(line["charge"]) == paid + Decimal(line["adjustments"]) + Decimal(
            line["patient_responsibility"])  # fmt: skip
    assert {d["transaction"] for d in page["documents"]} >= {"270", "837", "835"}
    # the audit trail names who sent the correction, and the workflow got the name too
    events = encounter_timeline(make_engine(api.ledger_url), "encounter-E1007-api")
    (correction,) = [e for e in events if e["kind"] == "correction_sent"]
    assert correction["detail"]["by"] == "ana" and correction["detail"]["role"] == "biller"
    (claimed_event,) = [e for e in events if e["kind"] == "task_claimed"]
    assert claimed_event["detail"]["by"] == "ana"
    claim = api.temporal.get_workflow_handle(claim_workflow_id(handle.id, 1, "BLUE02"))
    history = await claim.fetch_history()
    (update,) = [e.workflow_execution_update_accepted_event_attributes for e in history.events
                 if e.HasField("workflow_execution_update_accepted_event_attributes")]  # fmt: skip
    (payload,) = update.accepted_request.input.args.payloads
    from cob.denials import ClaimCorrection

    (received,) = await api.temporal.data_converter.decode([payload], [ClaimCorrection])
    assert received.by == "ana"
    closed = [t for t in (await call(api, "GET", "/api/tasks?encounter=E1007-api&all=true", "ana")).json()
              if t["key"] == key]  # fmt: skip
    assert closed[0]["status"] == "closed" and closed[0]["assignee"] == "ana"


async def test_the_ar_aging_csv_total_equals_the_ledgers_open_balance(api: Running):
    answer = await call(api, "GET", "/api/reports/ar-aging?format=csv", "carol")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    totals = [Decimal(r["total"]) for r in rows if not r["payer_id"]]  # no row: nothing open
    assert (totals or [Decimal("0.00")]) == [open_claims_balance(make_engine(api.ledger_url))]
    assert (await call(api, "GET", "/api/reports/nope", "carol")).status_code == 404
    bad = await call(api, "GET", "/api/reports/ar-aging?as_of=yesterday", "carol")
    assert bad.status_code == 422 and "as_of" in bad.json()["detail"]


async def test_an_837p_batch_starts_each_good_claim_once(api: Running):
    from tests.x12.x12_batch import batch_837, example_encounter

    text = batch_837(example_encounter("01-commercial", encounter_id="E1001-batch"),
                     example_encounter("03-medicare-medigap", encounter_id="E1003-batch"))  # fmt: skip
    first = await call(api, "POST", "/api/encounters/batch", "ana", content=text)
    assert first.status_code == 201, first.text
    started = {s["claim_control_number"]: s["workflow_id"] for s in first.json()["started"]}
    assert started == {
        "E1001-batch": "encounter-E1001-batch",
        "E1003-batch": "encounter-E1003-batch",
    }
    again = await call(api, "POST", "/api/encounters/batch", "ana", content=text)
    assert again.status_code == 201 and again.json()["started"] == []
    assert {s["reason"] for s in again.json()["skipped"]} == {"already started"}
    events = encounter_timeline(make_engine(api.ledger_url), "encounter-E1001-batch")
    assert [e["detail"]["by"] for e in events if e["kind"] == "encounter_submitted"] == ["ana"]
    garbage = await call(api, "POST", "/api/encounters/batch", "ana", content=b"ISA*nonsense~")
    assert garbage.status_code == 422
    refused = await call(api, "POST", "/api/encounters/batch", "carol", content=text)
    assert refused.status_code == 403


async def test_a_body_the_api_cannot_read_is_a_422_naming_each_field(api: Running):
    answer = await call(api, "POST", "/api/tasks/no-such-task/snooze", "ana",
                        json={"until": "next tuesday"})  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("until: ") and "next tuesday" not in answer.text
    answer = await call(api, "POST", "/api/tasks/no-such-task/resolve", "ana", json={})
    assert answer.json()["detail"] == "note: Field required"
