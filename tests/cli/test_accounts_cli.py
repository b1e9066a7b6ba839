"""`cob payment post`, `cob account` and `cob statements` as a person runs them: the real `cob`
in a subprocess, on a time-skipping test server of this module's own with the real worker,
the payer simulator over HTTP and a SQLite ledger. Each test's encounter (example 01: a
commercial plan leaves the patient a balance) closes and is billed to its guarantor's
account, which the commands name by the encounter, the account id or its workflow id.
Exit codes: 1 the account refuses, 2 bad input."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from contract.accounts import AccountStatus, account_workflow_id
from ledger.db import make_engine
from ledger.queries import audit_events
from ledger.worklist import tasks
from tests.conftest import start_time_skipping
from tests.workflow_harness import example, run_encounter, running_worker
from workflows.patient_account import PatientAccountWorkflow

ROOT = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A test server of this module's own: its clock moves a month ahead."""
    async with await start_time_skipping() as env:
        yield env


class Billed:
    """An encounter closed with a balance for the patient, and `cob` pointed at its ledger
    and at the test server."""

    def __init__(self, client: Client, encounter_id: str, account_id: str, owed: D,
                 ledger_url: str, home: Path) -> None:  # fmt: skip
        self.client, self.encounter_id, self.account_id, self.owed = (
            client, encounter_id, account_id, owed,
        )  # fmt: skip
        self.ledger_url, self.home = ledger_url, home

    async def cob(self, *args: str) -> subprocess.CompletedProcess:
        """`cob ARGS` in a subprocess, off the event loop the worker runs in."""
        env = {**os.environ, "DATABASE_URL": self.ledger_url, "COB_HOME": str(self.home),
               "TEMPORAL_ADDRESS": self.client.service_client.config.target_host,
               "COB_USER": "ana"}  # fmt: skip
        return await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    async def status(
        self, ready: Callable[[AccountStatus], bool] = lambda s: True
    ) -> AccountStatus:
        """The account's status once `ready` and every step it took is in the ledger."""
        handle = self.client.get_workflow_handle(account_workflow_id(self.account_id))
        for _ in range(100):
            status = await handle.query(PatientAccountWorkflow.status)
            if ready(status) and not status.busy:
                return status
            await asyncio.sleep(0.1)
        raise AssertionError(f"the account never got there: {status}")


@pytest.fixture
def billed(client, simulator, tmp_path: Path):
    """Run example 01 as `encounter_id` to its close; the account it was billed to. The
    worker stops once the account has recorded every step (a step cut off would hold the
    test server's clock)."""

    @asynccontextmanager
    async def bill(encounter_id: str) -> AsyncIterator[Billed]:
        ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
        async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
            encounter = example("01-commercial", encounter_id=encounter_id)
            _, closed = await run_encounter(client, settings, encounter)
            assert closed.account_id is not None and closed.patient_responsibility > 0
            account = Billed(client, encounter_id, closed.account_id,
                             closed.patient_responsibility, ledger_url, tmp_path / "home")  # fmt: skip
            await account.status(lambda s: len(s.statements) == 1)
            yield account
            await account.status()

    return bill


async def test_a_payment_is_applied_by_line_and_posting_it_again_changes_nothing(billed):
    async with billed("E1001-cli-pay") as account:
        posted = await account.cob("payment", "post", account.encounter_id, "10.00",
                                   "--method", "check", "--reference", "1042")  # fmt: skip
        again = await account.cob("payment", "post", f"account-{account.account_id}", "10.00",
                                  "--method", "check", "--reference", "1042", "--json")  # fmt: skip
        shown = await account.cob("account", account.account_id, "--json")
        text = await account.cob("account", account.encounter_id)
    assert posted.returncode == 0, posted.stderr
    assert posted.stdout.splitlines() == [
        "posted payment check-1042 of 10.00",
        f"  {account.encounter_id} line 1: 10.00",
        f"balance {account.owed - D('10.00')}, credit 0.00",
    ]
    assert again.returncode == 0, again.stderr
    receipt = json.loads(again.stdout)
    assert receipt == {
        "payment_id": "check-1042", "amount": "10.00",
        "applied": [{"encounter_id": account.encounter_id, "line_number": 1, "amount": "10.00"}],
        "credit": "0.00", "balance": str(account.owed - D("10.00")), "duplicate": True,
    }  # fmt: skip
    status = json.loads(shown.stdout)
    assert status["balance"] == str(account.owed - D("10.00"))  # posted once
    assert status["workflow_id"] == f"account-{account.account_id}"
    assert status["encounters"] == [account.encounter_id]
    assert [s["step"] for s in status["statements"]] == ["statement"]
    assert status["next_step"] == "past_due" and status["paused"] is False
    assert f"account {account.account_id}\n" in text.stdout and "next past_due on" in text.stdout
    kinds = [e["kind"] for e in audit_events(make_engine(account.ledger_url),
                                             account_workflow_id(account.account_id))]  # fmt: skip
    assert kinds.count("patient_payment") == 1


async def test_an_amount_that_is_not_cents_or_an_unknown_account_is_bad_input(billed):
    async with billed("E1001-cli-bad") as account:
        results = {
            typed: await account.cob("payment", "post", account.encounter_id, typed)
            for typed in ("12.345", "0", "abc", "1e9999")
        }
        unknown = await account.cob("payment", "post", "A000NOSUCH", "5.00")
        wrong_encounter = await account.cob("payment", "post", account.encounter_id, "5.00",
                                            "--encounter", "E9999-elsewhere")  # fmt: skip
        future = await account.cob("payment", "post", account.encounter_id, "5.00",
                                   "--received-on", "2999-01-01")  # fmt: skip
        status = await account.status()
    assert (
        results["12.345"].stderr == "payment not posted: amount: 12.345 is not exact to the cent\n"
    )
    assert results["0"].stderr.startswith(
        "payment not posted: amount: '0' is not an amount from 0.01"
    )
    assert results["abc"].stderr.startswith("payment not posted: amount: 'abc' is not an amount")
    assert results["1e9999"].stderr.startswith("payment not posted: amount: '1e9999' is not")
    assert all(r.returncode == 2 for r in results.values())
    assert unknown.returncode == 2 and "no patient account A000NOSUCH" in unknown.stderr
    assert wrong_encounter.returncode == 2
    assert f"encounter_id: E9999-elsewhere is not on account {account.account_id}" in (
        wrong_encounter.stderr
    )
    # the account's own validator refuses: exit 1, its reason as it gave it
    assert future.returncode == 1
    assert "payment not posted: received_on: 2999-01-01 is after today" in future.stderr
    assert status.balance == account.owed and status.credit == 0


async def test_a_dispute_pauses_the_cycle_until_a_resolution_writes_off_part_of_it(billed):
    async with billed("E1001-cli-dispute") as account:
        opened = await account.cob("account", "dispute", account.encounter_id, "--id", "D1",
                                   "--reason", "the lab test was never done")  # fmt: skip
        paused = await account.cob("account", account.encounter_id)
        neither = await account.cob("account", "resolve", account.encounter_id, "--id", "D1")
        too_much = await account.cob("account", "resolve", account.encounter_id, "--id", "D1",
                                     "--adjusted", "9999.00")  # fmt: skip
        resolved = await account.cob("account", "resolve", account.encounter_id, "--id", "D1",
                                     "--adjusted", "5.00", "--note", "lab line removed")  # fmt: skip
        status = await account.status()
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.startswith("dispute D1 open: the cycle waits for its resolution")
    assert "  cycle: paused by dispute D1" in paused.stdout
    assert neither.returncode == 2 and "give --upheld or --adjusted AMOUNT" in neither.stderr
    assert too_much.returncode == 1
    assert f"is not between 0.01 and the {account.owed} owed" in too_much.stderr
    assert resolved.returncode == 0 and "dispute D1 resolved: adjusted" in resolved.stdout
    assert status.balance == account.owed - D("5.00") and not status.paused
    events = audit_events(make_engine(account.ledger_url), account_workflow_id(account.account_id))
    by = {e["kind"]: e["detail"].get("by") for e in events}
    assert by["dispute_opened"] == "ana" and by["dispute_resolved"] == "ana"  # COB_USER


async def test_an_overpayment_is_refunded_and_a_refund_beyond_the_credit_is_refused(billed):
    async with billed("E1001-cli-refund") as account:
        over = account.owed + D("20.00")
        posted = await account.cob("payment", "post", account.encounter_id, str(over))
        await account.status(lambda s: s.refund_due == D("20.00"))
        too_much = await account.cob("account", "refunded", account.encounter_id, "25.00",
                                     "--reference", "CHK-7")  # fmt: skip
        refunded = await account.cob("account", "refunded", account.encounter_id, "20.00",
                                     "--reference", "CHK-8")  # fmt: skip
        status = await account.status()
    assert posted.returncode == 0, posted.stderr
    assert "  to credit: 20.00" in posted.stdout and posted.stderr.startswith("payment id ")
    assert too_much.returncode == 1
    assert too_much.stderr == "refund not recorded: amount: 25.00 is more than the 20.00 credit\n"
    assert refunded.returncode == 0 and "refund of 20.00 recorded (CHK-8)" in refunded.stdout
    assert (status.balance, status.credit, status.refund_due) == (0, 0, 0)
    engine = make_engine(account.ledger_url)
    refund = [t for t in tasks(engine, include_closed=True)
              if t["workflow_id"] == account_workflow_id(account.account_id)]  # fmt: skip
    assert [(t["kind"], t["status"]) for t in refund] == [("refund_due", "closed")]


async def test_a_plan_holds_the_cycle_and_an_application_approved_writes_the_rest_off(billed):
    async with billed("E1001-cli-plan") as account:
        both = await account.cob("account", "plan", account.encounter_id, "--installments", "2",
                                 "--monthly", "10.00", "--day", "15")  # fmt: skip
        today = (await account.status()).cycle_start  # the account's clock: the first bill
        too_small = await account.cob("account", "plan", account.encounter_id, "--monthly",
                                      "10.00", "--day", "15", "--start", str(today))  # fmt: skip
        planned = await account.cob("account", "plan", account.encounter_id, "--monthly",
                                    "25.00", "--day", "15", "--start", str(today))  # fmt: skip
        shown = await account.cob("account", account.encounter_id)
        applied = await account.cob("account", "assistance", account.encounter_id, "--id", "FA1")
        decided = await account.cob("account", "assistance-decision", account.encounter_id,
                                    "--id", "FA1", "--approved", "100")  # fmt: skip
        status = await account.status()
    assert both.returncode == 2 and "give --installments N or --monthly AMOUNT" in both.stderr
    assert account.owed > D("10.00") and too_small.returncode == 1  # the policy's minimum
    assert "gives installments of 10.00, below the practice's minimum of 25.00" in too_small.stderr
    assert planned.returncode == 0, planned.stderr
    assert f"set for {account.owed}: " in planned.stdout
    assert "  cycle: paused by payment plan PL-" in shown.stdout
    months = 1 + int((account.owed - D("0.01")) // D("25.00"))  # the last takes the rest
    assert f"{account.owed} in {months} installment(s) on day 15 from {today}" in shown.stdout
    assert applied.returncode == 0 and "assistance application FA1 pending" in applied.stdout
    assert decided.returncode == 0 and "FA1 approved (100%)" in decided.stdout
    assert status.balance == 0
    events = audit_events(make_engine(account.ledger_url), account_workflow_id(account.account_id))
    charity = [e["detail"] for e in events if e["kind"] == "assistance_decided"]
    assert charity == [{"application_id": "FA1", "outcome": "approved", "by": "ana", "note": "",
                        "written_off": str(account.owed), "on": charity[0]["on"]}]  # fmt: skip


async def test_statements_are_listed_and_written_owner_only(billed, time_skipping, tmp_path):
    async with billed("E1001-cli-statements") as account:
        await time_skipping.sleep(timedelta(days=31))  # the past-due notice
        await account.status(lambda s: len(s.statements) == 2)
        out = tmp_path / "out" / "statements"
        listed = await account.cob("statements", account.encounter_id)
        written = await account.cob("statements", account.account_id, "--write", str(out),
                                    "--json")  # fmt: skip
        none = await account.cob("statements", "A000NOSUCH")
        none_json = await account.cob("statements", "A000NOSUCH", "--json")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[-1] == f"2 statement(s) of account {account.account_id}"
    assert "statement" in lines[0] and "past_due" in lines[1]
    assert f"amount due {account.owed:>10}" in lines[0]
    rows = json.loads(written.stdout)
    assert [r["step"] for r in rows] == ["statement", "past_due"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    files = sorted(out.iterdir())
    assert len(files) == 4 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert [str(f) for f in files if f.suffix == ".pdf"] == sorted(
        r["files"][0] for r in rows
    )  # fmt: skip
    assert all(f.name.startswith(f"{account.account_id}-") for f in files)
    assert files[0].read_bytes().startswith(b"%PDF")
    assert (
        none.returncode == 1 and "no statements in the ledger for account A000NOSUCH" in none.stderr
    )
    assert none_json.returncode == 0 and json.loads(none_json.stdout) == []
