"""End to end on the dev server: the demo's encounters through a worker process that is
SIGKILLed mid-run and replaced. Every encounter must complete, no payer may adjudicate the same
claim twice, and the ledger must balance to the cent.

With COB_RECORD_HISTORIES=1 (`make histories`) the run's workflow histories are written to
tests/histories/, which tests/workflows/test_replay.py replays on every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select
from temporalio.service import RPCError

from activities.archive import archive_batches_closed, close_times
from cli.demo import poll, start_examples
from contract.accounts import account_workflow_id
from contract.ids import TASK_QUEUE, archive_batch_workflow_id, claim_workflow_id
from ledger.db import make_engine
from ledger.queries import unbalanced_lines
from ledger.tables import X12Document
from tests.x12.pyx12_check import VALIDATED, pyx12_valid
from tests.x12.x12_batch import batch_837, example_encounter
from workers.devserver import DevServer, PortTaken, free_port
from workers.temporal import connect
from workflows.encounter import EncounterWorkflow

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = Path(__file__).resolve().parents[1] / "histories"


def spawn(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _listed(workflow_id: str, *filters: str, env: dict[str, str]) -> bool:
    return workflow_id in cli("list", *filters, env=env).stdout


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.2)


async def dev_server_on_a_free_port(home: Path, attempts: int = 3) -> DevServer:
    """A port found free can be taken by another process before the server binds it: then
    the server is started again on another."""
    for attempt in range(1, attempts + 1):
        server = DevServer(home / f"temporal-{attempt}", port=free_port(), ui_port=None)
        try:
            await server.start()
            return server
        except PortTaken:
            server.stop()
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


async def test_encounters_survive_a_killed_worker(tmp_path: Path) -> None:
    server = await dev_server_on_a_free_port(tmp_path)
    payer_url = f"http://127.0.0.1:{free_port()}"
    env = {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{server.port}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "COB_HOME": str(tmp_path / "home"),
        "COB_PAYER_URL": payer_url,
    }
    port = payer_url.rsplit(":", 1)[1]
    # Each payer answer takes 0.3 s, so the encounters are mid-flight when the worker dies.
    payers = spawn("payers", "serve", "--port", port, "--state", str(tmp_path / "payers.db"),
                   "--latency", "0.3", env=env)  # fmt: skip
    workers: list[subprocess.Popen] = []
    http = httpx.AsyncClient(base_url=payer_url, timeout=5)

    async def claims() -> list[dict]:
        return (await http.get("/admin/claims")).json()

    async def simulator_up() -> bool:
        try:
            return (await http.get("/health")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await wait_for(simulator_up, 30, "the payer simulator")
        workers.append(spawn("worker", env=env))
        client = await connect(server.address)
        items = await start_examples(client, ROOT / "examples", "e2e")

        async def some_claims_in() -> bool:
            return len(await claims()) >= 2

        await wait_for(some_claims_in, 60, "the first claims")
        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait()
        statuses = [(await item.handle.describe()).status for item in items]
        assert any(s is not None and s.name == "RUNNING" for s in statuses), "killed too late"

        workers.append(spawn("worker", env=env))

        async def all_done() -> bool:
            await asyncio.gather(*(poll(client, item) for item in items if not item.done))
            return all(item.done for item in items)

        await wait_for(all_done, 180, "every encounter to finish")

        stages = {item.name: item.status.stage for item in items if item.status}
        assert stages == {item.name: "closed" for item in items}

        adjudicated = await claims()
        per_claim = Counter(c["claim_control_number"] for c in adjudicated)
        assert max(per_claim.values()) == 1, "a claim control number was adjudicated twice"
        # The 837 carries no encounter id: the engine's CLM01 is <encounter>-<payer seq>-<n>.
        per_payer_claim = Counter(
            (c["claim_control_number"].rsplit("-", 2)[0], c["payer_id"], c["frequency"])
            for c in adjudicated
        )
        assert max(per_payer_claim.values()) == 1, (
            f"a payer got the same claim twice: {per_payer_claim}"
        )

        assert unbalanced_lines(make_engine(env["DATABASE_URL"])) == []
        # Every 837P, 999, 277CA and 835 that crossed the wire in this run passes pyx12.
        with Session(make_engine(env["DATABASE_URL"])) as session:
            kept = session.exec(select(X12Document)).all()
        validated = [d for d in kept if d.transaction in VALIDATED]
        assert {d.transaction for d in validated} == VALIDATED
        invalid = [d.key for d in validated if not pyx12_valid(d.text)]
        assert invalid == [], invalid

        # The same server through the CLI a billing team uses.
        shown = cli("status", "E1004-e2e", env=env)
        assert shown.returncode == 0 and "EMPL03 > MCARE" in shown.stdout, shown.stderr
        submitted = cli("submit", "examples/01-commercial.json", "--wait", env=env)
        assert submitted.returncode == 0, submitted.stderr
        assert "encounter-E1001" in submitted.stdout and "closed" in submitted.stdout
        again = cli("submit", "examples/01-commercial.json", env=env)
        assert again.returncode == 1 and "already started" in again.stderr
        kept = cli("documents", "E1004-e2e", env=env)
        assert kept.returncode == 0, kept.stderr
        for sent in (
            "sent     270",
            "sent     837",
            "received 999",
            "received 277CA",
            "received 835",
        ):
            assert sent in kept.stdout, kept.stdout
        steps = cli("timeline", "E1007-e2e", env=env)
        assert steps.returncode == 0, steps.stderr
        assert "denial_routed" in steps.stdout and "CARC 16 N290 -> fix_resubmit" in steps.stdout
        assert "timely_filing" in steps.stdout and "encounter_closed" in steps.stdout
        listed = cli("list", "--stage", "closed", env=env)
        assert listed.returncode == 0, listed.stderr
        assert "encounter-E1004-e2e" in listed.stdout and "CobStage = 'closed'" in listed.stdout
        owing = cli("list", "--balance-over", "0", env=env)
        assert "encounter-E1008-e2e" in owing.stdout  # self-pay: the patient owes 380.00
        assert "encounter-E1003-e2e" not in owing.stdout  # Medigap left nothing to the patient
        # A payer that holds its 835s: the claim waits on its follow-up timers, and its
        # timely filing deadline (DOS 2026-10-05 + 180 days) is on the encounter.
        await http.post("/admin/hold", json={"payer_id": "ACME01"})
        waiting = json.loads(Path("examples/01-commercial.json").read_text())
        waiting["encounter_id"] = "E1001-held"
        (tmp_path / "held.json").write_text(json.dumps(waiting))
        assert cli("submit", str(tmp_path / "held.json"), env=env).returncode == 0
        await wait_for(
            lambda: _listed("encounter-E1001-held", "--stage", "awaiting_remittance", env=env),
            30,
            "the held claim awaiting its remittance",
        )
        soon = cli("list", "--deadline-within", "3650d", env=env)
        assert "encounter-E1001-held" in soon.stdout and "2027-04-03 timely_filing" in soon.stdout
        assert "encounter-E1001-held" not in cli("list", "--deadline-within", "1d", env=env).stdout
        await http.post("/admin/hold", json={"payer_id": "ACME01", "hold": False})

        # A payer that pays less than its 271 promised: the encounter is found by --underpaid.
        await http.post("/admin/underpay", json={"payer_id": "ACME01", "percent": "10"})
        short = json.loads(Path("examples/01-commercial.json").read_text())
        short["encounter_id"] = "E1001-short"
        (tmp_path / "short.json").write_text(json.dumps(short))
        paid_short = cli("submit", str(tmp_path / "short.json"), "--wait", env=env)
        assert paid_short.returncode == 0, paid_short.stderr
        await http.post("/admin/underpay", json={"payer_id": "ACME01", "percent": "0"})
        await wait_for(
            lambda: _listed("encounter-E1001-short", "--underpaid", env=env),
            30,
            "the underpaid encounter in `cob list --underpaid`",
        )
        assert "encounter-E1004-e2e" not in cli("list", "--underpaid", env=env).stdout
        short_handle = client.get_workflow_handle_for(EncounterWorkflow.run, "encounter-E1001-short")
        extra = [("01-commercial-underpaid", short_handle, await short_handle.result())]

        # A Medicare denial (CO-50) appealed by the team through the CLI.
        denied = json.loads(Path("examples/03-medicare-medigap.json").read_text())
        denied["encounter_id"] = "E1010-appeal"
        denied["coverages"] = [c for c in denied["coverages"] if c["payer_id"] == "MCARE"]
        denied["diagnoses"] = ["J02.9"]
        denied["lines"] = [{"line_number": 1, "procedure_code": "20610", "charge": "150.00",
                            "diagnosis_pointers": [1]}]  # fmt: skip
        (tmp_path / "denied.json").write_text(json.dumps(denied))
        assert cli("submit", str(tmp_path / "denied.json"), env=env).returncode == 0
        await wait_for(
            lambda: _listed("encounter-E1010-appeal", "--stage", "appeal", env=env),
            30,
            "the Medicare denial in appeal",
        )
        wrong = cli("appeal", "file", "E1010-appeal", "--level", "2", env=env)
        assert wrong.returncode == 2 and "the appeal is at level 1" in wrong.stderr
        filed = cli("appeal", "file", "E1010-appeal", "--level", "1", "--note", "records", env=env)
        assert filed.returncode == 0 and "level 1 appeal of claim E1010-appeal-1-1" in filed.stdout
        upheld = cli("appeal", "decided", "E1010-appeal", "--level", "1", "--outcome", "upheld",
                     env=env)  # fmt: skip
        assert upheld.returncode == 0, upheld.stderr

        async def reconsideration_due() -> bool:
            worklist = cli("tasks", "--encounter", "E1010-appeal", env=env).stdout
            return "level 2 (reconsideration)" in worklist

        await wait_for(reconsideration_due, 30, "the reconsideration's filing task")
        timeline = cli("timeline", "E1010-appeal", env=env).stdout
        for step in ("denial_routed", "appeal_due", "appeal_filed", "appeal_upheld"):
            assert step in timeline, timeline
        missing = cli("status", "E9999", env=env)
        assert missing.returncode == 1 and "no encounter workflow" in missing.stderr

        # An 837P batch from a practice-management system: the bad claim is skipped.
        batch = tmp_path / "batch.837"
        batch.write_text(batch_837(
            example_encounter("01-commercial", encounter_id="E2001"),
            example_encounter("06-prior-authorization", encounter_id="E2002", diagnoses=["E11"]),
            example_encounter("04-working-aged", encounter_id="E2003"),
        ))  # fmt: skip
        imported = cli("import", str(batch), env=env)
        assert imported.returncode == 1 and "2 of 3 claims started, 1 skipped" in imported.stdout
        for workflow_id in ("encounter-E2001", "encounter-E2003"):
            handle = client.get_workflow_handle_for(EncounterWorkflow.run, workflow_id)
            result = await asyncio.wait_for(handle.result(), 60)
            assert result.stage == "closed"

        if os.environ.get("COB_RECORD_HISTORIES"):
            recorded = [(i.name, i.handle, i.status) for i in items] + extra
            await record_histories(client, recorded, HISTORIES / os.environ["COB_RECORD_HISTORIES"])
    finally:
        await http.aclose()
        for process in [*workers, payers]:
            stop(process)
        server.stop()


def save_history(folder: Path, name: str, history) -> None:
    record = {"workflow_id": history.workflow_id, "history": history.to_json_dict()}
    (folder / f"{name}.json").write_text(json.dumps(record, indent=1))


async def record_histories(client, items, folder: Path) -> None:
    """Into tests/histories/<folder>/: histories of earlier workflow versions stay beside
    it and keep being replayed."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, handle, status in items:
        save_history(folder, name, await handle.fetch_history())
        for sequence, claim in enumerate(status.claims, start=1):
            child = client.get_workflow_handle(claim_workflow_id(handle.id, sequence, claim.payer_id))
            save_history(folder, f"{name}.claim-{sequence}", await child.fetch_history())
        if status.account_id:  # the patient's account, still running: its history so far
            account = client.get_workflow_handle(account_workflow_id(status.account_id))
            save_history(folder, f"{name}.account", await account.fetch_history())
    # the ArchiveBatchWorkflows that archived them, closed once they had
    closes = await close_times(client, [handle.id for _, handle, _ in items])
    await archive_batches_closed(client, TASK_QUEUE, closes, 60)
    minutes = {c.replace(second=0, microsecond=0) - timedelta(minutes=b)
               for c in closes for b in (0, 1)}  # fmt: skip
    for number, at in enumerate(sorted(minutes), start=1):
        batch = client.get_workflow_handle(archive_batch_workflow_id(TASK_QUEUE, at))
        with contextlib.suppress(RPCError):  # none closed in that minute
            save_history(folder, f"archive-batch-{number}", await batch.fetch_history())


async def test_a_taken_port_is_reported_as_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = DevServer(tmp_path / "temporal", port=taken.getsockname()[1], ui_port=None)
        with pytest.raises(PortTaken, match="is already in use"):
            await server.start()
    assert server.process is None  # nothing was started
