"""A payer's 835 after the encounter's patient balance went to the guarantor's account, posted
with `cob era post` as a billing team runs it: the real `cob` in a subprocess, on a
time-skipping test server of this module's own with the real worker, the payer simulator over
HTTP and a SQLite ledger. Example 10 (a child on both parents' plans, ordered by the team:
ACME01 primary, EMPL03 secondary) closes with 18.69 for the patient (EMPL03 left a copay of
18.65 on line 1, coinsurance of 0.04 on line 2), billed to the parent's account; then a payer
sends an 835 of its own, written with the project's 835 writer."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from cli.encounters import start_encounter
from cli.order import set_payer_order
from cob.accounts import PatientPayment
from cob.model import LineAdjudication, Remittance
from contract.accounts import AccountStatus, account_workflow_id
from contract.messages import EncounterStatus
from ledger.db import make_engine
from ledger.queries import audit_events
from ledger.worklist import tasks
from payers.directory import payer_names
from payers.x12.remittance_835 import ProviderAdjustment, build_835
from tests.conftest import start_time_skipping
from tests.workflow_harness import example, running_worker
from workflows.encounter import EncounterWorkflow
from workflows.patient_account import PatientAccountWorkflow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "10-order-review"
ORDER = json.loads((ROOT / "examples" / f"{EXAMPLE}.order.json").read_text())


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_time_skipping() as env:
        yield env


@dataclass
class Billed:
    """An encounter closed with a balance billed to its guarantor's account, and `cob` pointed
    at its ledger and the test server."""

    client: Client
    closed: EncounterStatus
    ledger_url: str
    home: Path

    @property
    def account(self):
        return self.client.get_workflow_handle(account_workflow_id(self.closed.account_id or ""))

    async def status(
        self, ready: Callable[[AccountStatus], bool] = lambda s: True
    ) -> AccountStatus:
        """The account's status once `ready` and every step it took is in the ledger."""
        for _ in range(100):
            status = await self.account.query(PatientAccountWorkflow.status)
            if ready(status) and not status.busy:
                return status
            await asyncio.sleep(0.1)
        raise AssertionError(f"the account never got there: {status}")

    async def cob(self, *args: str, temporal: str | None = None) -> subprocess.CompletedProcess:
        """`cob ARGS` in a subprocess, off the event loop the worker runs in; on the test
        server unless `temporal` names another address."""
        env = {**os.environ, "DATABASE_URL": self.ledger_url, "COB_HOME": str(self.home),
               "TEMPORAL_ADDRESS": temporal or self.client.service_client.config.target_host,
               "COB_USER": "ana"}  # fmt: skip
        return await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def tasks(self, kind: str) -> list[dict]:
        found = tasks(make_engine(self.ledger_url), include_closed=True)
        return [task for task in found if task["kind"] == kind]


@pytest_asyncio.fixture(loop_scope="session")
async def billed(client, simulator, tmp_path: Path):
    """Run example 02 as `encounter_id` to its close and its account's first statement. The
    worker stops once the account has recorded every step."""

    @asynccontextmanager
    async def bill(encounter_id: str) -> AsyncIterator[Billed]:
        ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
        async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
            handle = await start_encounter(client, example(EXAMPLE, encounter_id=encounter_id),
                                           task_queue=settings.task_queue)  # fmt: skip
            await ordered(client, handle)
            closed = await handle.result()
            assert closed.payer_order == ["ACME01", "EMPL03"] and closed.account_id is not None
            assert closed.patient_responsibility == D("18.69")
            account = Billed(client, closed, ledger_url, tmp_path / "home")
            await account.status(lambda s: len(s.statements) == 1)
            yield account
            await account.status()

    return bill


async def ordered(client: Client, handle) -> None:
    """The team's order for example 10 (no NAIC rule decides it), once it is held."""
    for _ in range(300):
        try:
            held = (await handle.query(EncounterWorkflow.status)).stage == "held_order_review"
        except Exception:  # not started yet
            held = False
        if held:
            await set_payer_order(client, handle.id.removeprefix("encounter-"),
                                  ORDER["payer_ids"], "ana", ORDER["reason"])  # fmt: skip
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{handle.id} was never held for its order")


def reprocessed(remittance: Remittance, more: D) -> Remittance:
    """The payer's claim paid again: `more` paid on line 1 (less when negative), the patient's
    share on it (its first PR adjustment) that much smaller, the line still balanced."""
    first, *rest = remittance.lines
    at = next(i for i, adj in enumerate(first.adjustments) if adj.group == "PR")
    adjustments = list(first.adjustments)
    adjustments[at] = adjustments[at].model_copy(update={"amount": adjustments[at].amount - more})
    assert adjustments[at].amount >= 0, "the case needs a patient share that large"
    line = first.model_copy(update={"paid": first.paid + more, "adjustments": adjustments})
    return remittance.model_copy(update={
        "lines": [line, *rest], "claim_paid": None, "claim_patient_responsibility": None,
        "adjudication_date": remittance.adjudication_date + timedelta(days=40),
    })  # fmt: skip


def reversal(remittance: Remittance) -> Remittance:
    """CLP02 22: the payer takes back its adjudication, every amount negated (005010X221A1)."""

    def negated(line: LineAdjudication) -> LineAdjudication:
        adjustments = [adj.model_copy(update={"amount": -adj.amount}) for adj in line.adjustments]
        return line.model_copy(update={"charge": -line.charge, "allowed": -line.allowed,
                                       "paid": -line.paid, "adjustments": adjustments})  # fmt: skip

    return remittance.model_copy(update={
        "status": "22", "lines": [negated(line) for line in remittance.lines],
        "claim_charge": -(remittance.claim_charge or D(0)), "claim_paid": None,
        "claim_patient_responsibility": None,
        "adjudication_date": remittance.adjudication_date + timedelta(days=40),
    })  # fmt: skip


def era_file(path: Path, *remittances: Remittance) -> Path:
    """The payer's 835 as a clearinghouse delivers it; a take-back beyond the payment is
    carried as a PLB FB, so the check is never negative."""
    payer_id = remittances[0].payer_id
    total = sum((r.paid for r in remittances), D("0.00"))
    carried = (
        [ProviderAdjustment("FB", total, remittances[0].payer_claim_number)] if total < 0 else []
    )
    provider = example(EXAMPLE).billing_provider
    path.write_text(build_835(
        list(remittances), payer_names()[payer_id].upper(), payer_id, provider.name.upper(),
        provider.npi, datetime(2026, 12, 1, 12, tzinfo=UTC), 9001, provider_adjustments=carried,
    ))  # fmt: skip
    return path


async def test_the_last_payer_paying_more_after_the_patient_paid_is_a_refund_to_the_cent(
    billed, tmp_path
):
    async with billed("E1002-late") as account:
        status = await account.status()
        owed = status.balance
        payment = PatientPayment(payment_id="card-L1", amount=owed, received_on=status.cycle_start,
                                 method="card", reference="L1")  # fmt: skip
        await account.account.execute_update(PatientAccountWorkflow.post_payment, payment)
        await account.status(lambda s: s.balance == 0)
        secondary = account.closed.claims[1].remittance
        assert secondary is not None and secondary.payer_id == "EMPL03"
        era = era_file(tmp_path / "empl03-reprocessed.835", reprocessed(secondary, D("10.00")))
        posted = await account.cob("era", "post", str(era))
        refunded = await account.status(lambda s: s.refund_due > 0)
        again = await account.cob("era", "post", str(era))
        after = await account.status()
    assert posted.returncode == 0, posted.stderr
    account_id = account.closed.account_id
    assert f"CLP {secondary.claim_control_number} status 2" in posted.stdout
    assert "posted, sent to the patient's account" in posted.stdout
    assert (f"repost to account {account_id} (encounter E1002-late, CLP "
            f"{secondary.claim_control_number} at 1): balance 0.00, credit 10.00, "
            "refund due 10.00") in posted.stdout  # fmt: skip
    summary = "1 claim(s) posted, 0 for the worklist, 0 provider adjustment(s), 1 sent to patient"
    assert summary in posted.stdout
    refund_of_10 = (D("0.00"), D("10.00"), D("10.00"))  # balance, credit, refund due
    assert (refunded.balance, refunded.credit, refunded.refund_due) == refund_of_10
    [refund] = account.tasks("refund_due")
    assert refund["status"] == "open" and "10.00" in refund["reason"]
    [settled] = account.tasks("era_after_settlement")
    assert settled["status"] == "closed" and settled["encounter_id"] == "E1002-late"
    assert f"reposted to account {account_id}" in settled["resolution"]
    # posted again: the ledger has it, the account took that repost, nothing changes
    assert again.returncode == 0, again.stderr
    assert "already posted as era/file/" in again.stdout and "nothing changed" in again.stdout
    assert (after.balance, after.credit, after.refund_due) == refund_of_10
    events = audit_events(make_engine(account.ledger_url), account_workflow_id(account_id))
    [repost] = [e["detail"] for e in events if e["kind"] == "payer_reposted"]
    assert repost["freed"] == "10.00" and repost["by"] == "ana"
    assert len(account.tasks("refund_due")) == 1


async def test_a_reversal_and_a_smaller_payment_from_the_last_payer_is_a_new_balance(
    billed, tmp_path
):
    """CLP02 22 takes the secondary's payment back, then the new CLP pays 5.00 less: the
    patient owes 5.00 more, and both CLPs' tasks close."""
    async with billed("E1002-late-r") as account:
        owed = (await account.status()).balance
        secondary = account.closed.claims[1].remittance
        assert secondary is not None
        era = era_file(tmp_path / "empl03-reversed.835", reversal(secondary),
                       reprocessed(secondary, D("-5.00")))  # fmt: skip
        posted = await account.cob("era", "post", str(era))
        status = await account.status(lambda s: s.balance != owed)
    assert posted.returncode == 0, posted.stderr
    assert posted.stdout.count("posted, sent to the patient's account") == 2
    assert f"balance {owed + D('5.00')}, credit 0.00" in posted.stdout
    assert (status.balance, status.credit) == (owed + D("5.00"), D("0.00"))
    assert {t["status"] for t in account.tasks("era_after_settlement")} == {"closed"}
    assert len(account.tasks("era_after_settlement")) == 2


async def test_a_repost_that_cannot_reach_temporal_stays_a_task_until_the_file_is_posted_again(
    billed, tmp_path
):
    async with billed("E1002-late-t") as account:
        owed = (await account.status()).balance
        secondary = account.closed.claims[1].remittance
        assert secondary is not None
        era = era_file(tmp_path / "empl03-reprocessed.835", reprocessed(secondary, D("10.00")))
        unsent = await account.cob("era", "post", str(era), temporal="127.0.0.1:1")
        kept = account.tasks("era_after_settlement")
        untouched = await account.status()
        sent = await account.cob("era", "post", str(era))
        status = await account.status(lambda s: s.balance != owed)
    assert unsent.returncode == 1
    assert "posted, TASK era_after_settlement" in unsent.stdout
    assert (f"repost of E1002-late-t (CLP {secondary.claim_control_number} at 1) to account "
            f"{account.closed.account_id} not sent: cannot reach the Temporal server at "
            "127.0.0.1:1") in unsent.stderr  # fmt: skip
    assert "its era_after_settlement task stays" in unsent.stderr
    assert [task["status"] for task in kept] == ["open"] and untouched.balance == owed
    assert sent.returncode == 0, sent.stderr
    assert "already posted as era/file/" in sent.stdout and "nothing changed" not in sent.stdout
    assert f"balance {owed - D('10.00')}, credit 0.00" in sent.stdout
    assert status.balance == owed - D("10.00")
    assert [task["status"] for task in account.tasks("era_after_settlement")] == ["closed"]


async def test_the_primary_paying_more_stays_a_task_since_the_secondary_paid_after_it(
    billed, tmp_path
):
    async with billed("E1002-late-p") as account:
        before = await account.status()
        primary = account.closed.claims[0].remittance
        assert primary is not None and primary.payer_id == "ACME01"
        era = era_file(tmp_path / "acme01-reprocessed.835", reprocessed(primary, D("5.00")))
        posted = await account.cob("era", "post", str(era))
        after = await account.status()
    assert posted.returncode == 1
    assert "posted, TASK era_after_settlement" in posted.stdout
    assert ("not sent to the patient's account: ACME01 is not the last payer that adjudicated "
            "the encounter: EMPL03 adjudicated after it") in posted.stderr  # fmt: skip
    [task] = account.tasks("era_after_settlement")
    assert task["status"] == "open" and task["encounter_id"] == "E1002-late-p"
    assert "EMPL03 adjudicated after it from its old figures" in task["reason"]
    assert (after.balance, after.credit) == (before.balance, before.credit)
