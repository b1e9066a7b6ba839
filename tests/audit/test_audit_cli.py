"""`cob audit` end to end: encounters run by the real workers on a time-skipping server,
archived on close; then the real `cob` command (a subprocess) replays them from the server,
the ledger's archive and an exported bundle (with no server and no ledger), verifies the
ledger, and catches an edited audit row, an edited archive, an edited bundle and a
non-deterministic code change."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from cli.encounters import start_encounter
from cob.appeals import AppealFiling
from payers.simulator.serve import start_in_thread
from tests.workflow_harness import archives_settled, example, running_worker, start_time_skipping
from tests.workflows.test_appeals import medicare_only
from workflows.appeal import AppealWorkflow

ROOT = Path(__file__).resolve().parents[2]
THREE_PAYERS = "E1009-audit"
APPEALED = "E1010-audit"
NOWHERE = "127.0.0.1:9"  # no Temporal server answers here


@dataclass
class Recorded:
    temporal: str
    ledger_path: Path
    home: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def recorded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Recorded]:
    """Two encounters closed and archived: example 09 (three payers) and a Medicare denial
    appealed by the team (the update names who filed) and overturned by the payer."""
    folder = tmp_path_factory.mktemp("audit")
    ledger_path = folder / "ledger.db"
    simulator = start_in_thread(folder / "payers.db")
    try:
        async with await start_time_skipping() as env:
            client = env.client
            url = f"sqlite:///{ledger_path}"
            async with running_worker(client, simulator.url, url, folder) as settings:
                three = await start_encounter(
                    client, example("09-three-payers", encounter_id=THREE_PAYERS),
                    task_queue=settings.task_queue,
                )  # fmt: skip
                await three.result()
                appealed = await start_encounter(
                    client, await medicare_only(env, APPEALED), task_queue=settings.task_queue
                )
                appeal = client.get_workflow_handle(f"{appealed.id}/claim-1-MCARE/appeal")
                await env.sleep(timedelta(days=10))
                await appeal.execute_update(
                    AppealWorkflow.file_appeal, AppealFiling(level=1, note="CMS-20027 with records")
                )
                httpx.post(
                    f"{simulator.url}/admin/appeals",
                    json={"payer_id": "MCARE", "claim_control_number": f"{APPEALED}-1-1",
                          "outcome": "overturned"},
                ).raise_for_status()  # fmt: skip
                await appealed.result()
                await archives_settled(client, url, settings.task_queue)
            yield Recorded(client.service_client.config.target_host, ledger_path, folder / "home")
    finally:
        simulator.stop()


def cob(*args: str, temporal: str = NOWHERE, ledger: Path | None = None, home: Path,
        prelude: str = "") -> subprocess.CompletedProcess:  # fmt: skip
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal,
        "COB_HOME": str(home),
        # a ledger that cannot be opened when none is given: the bundle needs none
        "DATABASE_URL": f"sqlite:///{ledger}" if ledger else "sqlite:////nonexistent/ledger.db",
    }
    code = f"{prelude}from cli.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def copy_ledger(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite ledger in WAL mode (the file alone may lack the WAL's pages)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)


def decisions(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["decisions"]


def test_replay_from_the_server_the_archive_and_a_bundle_agree(recorded: Recorded, tmp_path):
    live = cob("audit", "replay", THREE_PAYERS, "--json", temporal=recorded.temporal,
               ledger=recorded.ledger_path, home=recorded.home)  # fmt: skip
    archived = cob("audit", "replay", THREE_PAYERS, "--archive", "--json",
                   ledger=recorded.ledger_path, home=recorded.home)  # fmt: skip
    bundle = tmp_path / "bundle"
    exported = cob("audit", "export", THREE_PAYERS, "--out", str(bundle),
                   ledger=recorded.ledger_path, home=recorded.home)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert "manifest SHA-256" in exported.stdout
    # no server, no ledger: only the bundle and the payload key
    from_bundle = cob("audit", "replay", "--bundle", str(bundle), "--json", home=tmp_path / "h")
    assert decisions(live) == decisions(archived) == decisions(from_bundle)
    replays = json.loads(from_bundle.stdout)["replays"]
    assert len(replays) == 4 and all(r["error"] is None for r in replays)

    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["payload_key_ids"] == ["tests-1"]
    transactions = {d["transaction"] for d in manifest["documents"]}
    assert {"270", "271", "837", "999", "277CA", "835"} <= transactions
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in bundle.rglob("*") if p.is_file())

    text = cob("audit", "replay", "--bundle", str(bundle), home=tmp_path / "h")
    assert text.returncode == 0, text.stderr
    assert "4 histories from bundle" in text.stdout
    assert text.stdout.count("replayed  ") == 4


def test_replay_of_an_appealed_claim_shows_the_team_filing_it(recorded: Recorded, tmp_path):
    result = cob("audit", "replay", APPEALED, "--archive", ledger=recorded.ledger_path,
                 home=recorded.home)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "3 histories from the ledger's archive" in out
    assert out.count("replayed  ") == 3
    assert f"replayed  encounter-{APPEALED}/claim-1-MCARE/appeal (AppealWorkflow" in out
    (filed,) = [line for line in out.splitlines() if "update file_appeal" in line]
    assert "accepted: level 1 appeal filed; note: CMS-20027 with records" in filed
    assert " by " in filed and "@" in filed  # who: the sending client's identity
    assert "overturned at level 1" in out
    assert "patient responsibility 13.00" in out

    bundle = tmp_path / "bundle"
    exported = cob("audit", "export", APPEALED, "--out", str(bundle),
                   ledger=recorded.ledger_path, home=recorded.home)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    manifest = json.loads((bundle / "manifest.json").read_text())
    (statement,) = [f["path"] for f in manifest["files"] if f["path"].startswith("statements/")]
    assert "13.00" in (bundle / statement).read_text()


def test_a_changed_bundle_file_is_named_and_not_replayed(recorded: Recorded, tmp_path):
    bundle = tmp_path / "bundle"
    cob("audit", "export", THREE_PAYERS, "--out", str(bundle), ledger=recorded.ledger_path,
        home=recorded.home)  # fmt: skip
    history = sorted((bundle / "histories").iterdir())[1]
    text = history.read_text()
    history.write_text(text.replace('"eventId":"3"', '"eventId":"4"', 1))
    assert history.read_text() != text
    result = cob("audit", "replay", "--bundle", str(bundle), home=tmp_path / "h")
    assert result.returncode == 1
    assert f"histories/{history.name}: changed" in result.stderr


def test_a_bundle_replayed_without_its_key_is_one_line_naming_the_key(recorded: Recorded, tmp_path):
    bundle = tmp_path / "bundle"
    cob("audit", "export", THREE_PAYERS, "--out", str(bundle), ledger=recorded.ledger_path,
        home=recorded.home)  # fmt: skip
    other_key = "other-1:" + "A" * 43 + "="
    result = cob("audit", "replay", "--bundle", str(bundle), home=tmp_path / "h",
                 prelude=f"import os; os.environ['COB_PAYLOAD_KEYS'] = '{other_key}'; "
                 "os.environ['COB_PAYLOAD_KEY_ID'] = 'other-1'; ")  # fmt: skip
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "the histories' payloads are encrypted with key(s) tests-1, which COB_PAYLOAD_KEYS "
        "lacks (other-1): add them to COB_PAYLOAD_KEYS"
    ]


def test_a_non_deterministic_change_is_named_with_the_event_where_it_diverges(
    recorded: Recorded, tmp_path
):
    bundle = tmp_path / "bundle"
    cob("audit", "export", THREE_PAYERS, "--out", str(bundle), ledger=recorded.ledger_path,
        home=recorded.home)  # fmt: skip
    changed = "from tests.audit.changed_workflow import install; install(); "
    result = cob("audit", "replay", "--bundle", str(bundle), home=tmp_path / "h", prelude=changed)
    assert result.returncode == 1
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("DIVERGED")]
    assert f"encounter-{THREE_PAYERS} (EncounterWorkflow" in line
    assert " at event 5 (" in line and "Nondeterminism" not in line
    assert "Traceback" not in result.stderr and "WARN" not in result.stderr
    # the claims' own code did not change: they still replay
    assert result.stdout.count("replayed  ") == 3


def test_verify_passes_then_names_an_edited_audit_row_and_an_edited_archive(
    recorded: Recorded, tmp_path
):
    ok = cob("audit", "verify", "-v", ledger=recorded.ledger_path, home=recorded.home)
    assert ok.returncode == 0, ok.stderr
    assert "verified: no problems" in ok.stdout
    assert f"claim {THREE_PAYERS}-1-1" in ok.stdout and "= history " in ok.stdout

    copy = tmp_path / "ledger.db"
    copy_ledger(recorded.ledger_path, copy)
    with sqlite3.connect(copy) as db:
        row_id, detail = db.execute(
            "SELECT id, detail FROM audit_events WHERE kind = 'remittance' ORDER BY id LIMIT 1"
        ).fetchone()
        db.execute("UPDATE audit_events SET detail = ? WHERE id = ?",
                   (detail.replace('"paid"', '"paid_"'), row_id))  # fmt: skip
    edited = cob("audit", "verify", ledger=copy, home=recorded.home)
    assert edited.returncode == 1
    assert f"id {row_id}" in edited.stderr or f"row {row_id}" in edited.stderr, edited.stderr

    copy_ledger(recorded.ledger_path, copy)
    with sqlite3.connect(copy) as db:
        db.execute(
            "UPDATE line_adjudications SET paid = paid + 1 WHERE claim_control_number = ?",
            (f"{THREE_PAYERS}-1-1",),
        )
        db.execute("UPDATE history_archives SET sha256 = ? WHERE workflow_id = ?",
                   ("0" * 64, f"encounter-{APPEALED}"))  # fmt: skip
    edited = cob("audit", "verify", ledger=copy, home=recorded.home)
    assert edited.returncode == 1
    assert f"claim {THREE_PAYERS}-1-1" in edited.stderr and "line 1: ledger" in edited.stderr
    assert f"archive of encounter-{APPEALED}" in edited.stderr
