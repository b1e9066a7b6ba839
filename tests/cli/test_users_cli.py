"""`cob users` and `cob task` as a user runs them: the real `cob` in a subprocess, with
DATABASE_URL on a temporary SQLite ledger; its output and exit codes (1 the task refuses,
2 bad input, 3 not permitted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from ledger import worklist
from ledger.db import dispose_engine, make_engine, utcnow
from ledger.queries import audit_events
from ledger.users import authenticate

ROOT = Path(__file__).resolve().parents[2]
TODAY = utcnow().date()
WORKFLOW = "encounter-E9/claim-BLUE02-1"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    try:
        yield url, make_engine(url)
    finally:
        dispose_engine(url)


def cob(url: str, home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "COB_HOME": str(home),
            "TEMPORAL_ADDRESS": "127.0.0.1:1",
        },  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )


def token_of(result: subprocess.CompletedProcess) -> str:
    found = re.search(r"^token: (\S+)$", result.stdout, re.MULTILINE)
    assert found, result.stdout + result.stderr
    return found.group(1)


def test_users_add_list_token_and_disable(ledger, tmp_path: Path):
    url, engine = ledger
    home = tmp_path / "home"
    added = cob(url, home, "users", "add", "ana.lima", "--role", "biller")
    assert added.returncode == 0, added.stderr
    first = token_of(added)
    assert "shown this once" in added.stdout
    assert authenticate(engine, first).name == "ana.lima"

    bad_name = cob(url, home, "users", "add", "Ana Lima", "--role", "biller")
    assert bad_name.returncode == 2 and bad_name.stderr.startswith("name: 'Ana Lima'")
    bad_role = cob(url, home, "users", "add", "ben", "--role", "owner")
    assert bad_role.returncode == 2 and bad_role.stderr.startswith("role: 'owner'")
    twice = cob(url, home, "users", "add", "ana.lima", "--role", "admin")
    assert twice.returncode == 1 and "user ana.lima exists" in twice.stderr

    renewed = cob(url, home, "users", "token", "ana.lima")
    assert renewed.returncode == 0, renewed.stderr
    second = token_of(renewed)
    assert authenticate(engine, first) is None and authenticate(engine, second) is not None

    listed = cob(url, home, "users", "list")
    assert listed.returncode == 0
    assert re.search(rf"^ana\.lima +biller +{TODAY.isoformat()} \d\d:\d\d +-$", listed.stdout,
                     re.MULTILINE), listed.stdout  # fmt: skip

    disabled = cob(url, home, "users", "disable", "ana.lima")
    assert disabled.returncode == 0 and "token no longer works" in disabled.stdout
    assert authenticate(engine, second) is None
    no_token = cob(url, home, "users", "token", "ana.lima")
    assert no_token.returncode == 1 and "user ana.lima is disabled" in no_token.stderr
    unknown = cob(url, home, "users", "disable", "nobody")
    assert unknown.returncode == 2 and "no user 'nobody'" in unknown.stderr
    help_text = cob(url, home, "users", "add", "--help").stdout
    assert "never patient data" in " ".join(help_text.split())


def test_task_commands_by_role_with_their_exit_codes(ledger, tmp_path: Path):
    url, engine = ledger
    home = tmp_path / "home"
    for name, role in (("ana", "biller"), ("ben", "biller"), ("cy", "supervisor"),
                       ("carol", "auditor")):  # fmt: skip
        assert cob(url, home, "users", "add", name, "--role", role).returncode == 0
    due = TODAY + timedelta(days=20)
    key = worklist.open_task(
        engine, workflow_id=WORKFLOW, encounter_id="E9", payer_id="BLUE02",
        claim_control_number="E9-1", kind="correction_needed", reason="CO-16 N290: give the NPI",
        due=due, opened_on=TODAY,
    )  # fmt: skip
    worklist.open_task(
        engine, workflow_id=WORKFLOW, encounter_id="E9", payer_id="BLUE02",
        claim_control_number="E9-1", kind="correction_escalation", reason="30 days left",
        due=due, opened_on=TODAY,
    )  # fmt: skip
    prefix = f"{WORKFLOW}/correction_n"  # unique: the other task is correction_escalation

    claimed = cob(url, home, "task", "claim", prefix, "--as", "ana")
    assert claimed.returncode == 0 and f"task {key} claimed by ana" in claimed.stdout
    taken = cob(url, home, "task", "claim", prefix, "--as", "ben")
    assert taken.returncode == 1 and f"task {key} is claimed by ana" in taken.stderr
    auditor = cob(url, home, "task", "resolve", prefix, "--as", "carol", "--note", "done")
    assert (
        auditor.returncode == 3 and auditor.stderr.strip() == "auditor carol may not resolve tasks"
    )
    not_yours = cob(url, home, "task", "resolve", prefix, "--as", "ben", "--note", "done")
    assert not_yours.returncode == 1 and "is claimed by ana" in not_yours.stderr
    biller_reassigns = cob(url, home, "task", "reassign", prefix, "--to", "ben", "--as", "ana")
    assert biller_reassigns.returncode == 3
    assert biller_reassigns.stderr.strip() == "biller ana may not reassign tasks"

    ambiguous = cob(url, home, "task", "claim", f"{WORKFLOW}/correction", "--as", "ana")
    assert ambiguous.returncode == 2 and "is the start of 2 task keys" in ambiguous.stderr
    missing = cob(url, home, "task", "claim", "encounter-E404", "--as", "ana")
    assert missing.returncode == 2 and "no task key starts with" in missing.stderr
    nobody = cob(url, home, "task", "claim", prefix, "--as", "zed")
    assert nobody.returncode == 2 and "--as: no user 'zed'" in nobody.stderr
    past_due = (due + timedelta(days=1)).isoformat()
    late = cob(url, home, "task", "snooze", prefix, "--as", "ana", "--until", past_due)
    assert late.returncode == 2 and "never snoozed past its own deadline" in late.stderr
    not_a_date = cob(url, home, "task", "snooze", prefix, "--as", "ana", "--until", "next week")
    assert not_a_date.returncode == 2 and "--until: 'next week' is not a date" in not_a_date.stderr
    empty = cob(url, home, "task", "resolve", prefix, "--as", "ana", "--note", " ")
    assert empty.returncode == 2 and empty.stderr.startswith("note: ")

    snoozed = cob(url, home, "task", "snooze", prefix, "--as", "ana", "--until", due.isoformat())
    assert snoozed.returncode == 0 and f"snoozed until {due}" in snoozed.stdout
    moved = cob(url, home, "task", "reassign", prefix, "--to", "ben", "--as", "cy")
    assert moved.returncode == 0 and "reassigned to ben by cy" in moved.stdout
    released = cob(url, home, "task", "release", prefix, "--as", "ben")
    assert released.returncode == 0 and "released by ben" in released.stdout
    assert cob(url, home, "task", "claim", prefix, "--as", "ana").returncode == 0
    resolved = cob(url, home, "task", "resolve", prefix, "--as", "ana", "--note", "NPI sent")
    assert resolved.returncode == 0, resolved.stderr
    assert "closed: resolved by ana: NPI sent" in resolved.stdout
    closed = cob(url, home, "task", "claim", prefix, "--as", "ben")
    assert closed.returncode == 1 and "is closed (resolved by ana: NPI sent)" in closed.stderr

    steps = [(e["kind"], e["detail"]["by"]) for e in audit_events(engine, WORKFLOW)]
    assert steps == [("task_claimed", "ana"), ("task_snoozed", "ana"),
                     ("task_reassigned", "cy"), ("task_released", "ben"),
                     ("task_claimed", "ana"), ("task_resolved", "ana")]  # fmt: skip
    (task,) = [t for t in worklist.tasks(engine, include_closed=True) if t["key"] == key]
    assert (task["status"], task["assignee"], task["resolved_by"], task["snoozed_until"]) == (
        "closed", "ana", "ana", due.isoformat())  # fmt: skip
