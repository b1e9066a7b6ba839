"""`cob order set` as a user runs it (a subprocess, its output and exit code) against the
time-skipping Temporal server, with the real worker, the payer simulator over HTTP and a SQLite
ledger: the validator's refusals are one plain line and exit 1; an accepted order releases the
encounter, which bills in it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from cli.encounters import start_encounter
from cob.model import Encounter
from ledger.db import make_engine
from ledger.queries import audit_events
from tests.workflow_harness import running_worker
from tests.workflows.test_order_review import held_for_order_review, tied_parents

ROOT = Path(__file__).resolve().parents[2]


def cob_order_set(address: str, home: Path, *args: str, user: str = "dana"):
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "order", "set", *args],
        cwd=ROOT,
        env={**os.environ, "TEMPORAL_ADDRESS": address, "COB_HOME": str(home), "USER": user},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_cob_order_set_refuses_a_missing_payer_and_then_sets_empl03_first_by_user_dana(
    time_skipping: WorkflowEnvironment, simulator, tmp_path: Path
):
    client = time_skipping.client
    address = client.service_client.config.target_host
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    home = tmp_path / "home"

    async def cob(*args: str) -> subprocess.CompletedProcess:
        # in a thread: the worker answering the update runs on this event loop
        return await asyncio.to_thread(cob_order_set, address, home, *args)

    encounter = Encounter.model_validate(tied_parents("E2004"))
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        await held_for_order_review(handle)
        missing = await cob("E2004", "EMPL03", "--by", "dana.lee", "--reason", "phoned EMPL03")
        assert missing.returncode == 1, missing.stdout + missing.stderr
        assert missing.stderr == (
            "order not set: payer_ids: ACME01 is missing; list every billable payer once: "
            "ACME01 EMPL03\n"
        )
        inactive = await cob("E2004", "EMPL03", "ACME01", "BLUE02", "--reason", "phoned")
        assert inactive.returncode == 1
        assert inactive.stderr.startswith(
            "order not set: payer_ids: BLUE02 cannot be billed: not eligible (271): "
        )
        no_reason = await cob("E2004", "EMPL03", "ACME01", "--reason", " ")
        assert (no_reason.returncode, no_reason.stderr) == (
            1, "order not set: reason: why this order is missing\n",
        )  # fmt: skip
        nobody = await cob("NOPE1", "EMPL03", "ACME01", "--reason", "phoned")
        assert (nobody.returncode, nobody.stderr) == (
            1, "order not set: no running encounter workflow encounter-NOPE1\n",
        )  # fmt: skip
        # --by left out: the login name ($USER) is who set it.
        done = await cob("E2004", "EMPL03", "ACME01", "--reason", "EMPL03 confirmed by phone")
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout == (
            "order set by dana: EMPL03, ACME01 (first to last); billing goes on\n"
        )
        status = await handle.result()
    assert [(c.payer_id, c.payer_sequence) for c in status.claims] == [
        ("EMPL03", 1), ("ACME01", 2),
    ]  # fmt: skip
    [chosen] = [e for e in audit_events(make_engine(ledger_url), handle.id)
                if e["kind"] == "order_chosen"]  # fmt: skip
    assert chosen["detail"]["by"] == "dana"
    assert chosen["detail"]["why"] == "EMPL03 confirmed by phone"
