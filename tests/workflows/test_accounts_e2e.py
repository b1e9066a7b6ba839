"""Encounters billed to their guarantor's account, end to end on the time-skipping server: the
real worker, the payer simulator over HTTP, a SQLite ledger. Two visits of one child, each
paid by two plans, end on one statement to the parent; the statement is kept as a PDF (and a
PNG of its first page where poppler-utils is installed) in test-output/statements/."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from cli.encounters import start_encounter
from cli.order import set_payer_order
from contract.accounts import AccountStatus, account_workflow_id
from ledger.accounts import account_of_encounter
from ledger.db import make_engine
from ledger.queries import audit_events
from tests.conftest import start_time_skipping
from tests.workflow_harness import example, running_worker
from workflows.encounter import EncounterWorkflow
from workflows.patient_account import PatientAccountWorkflow

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "statements"
ORDER = json.loads((Path(__file__).resolve().parents[2] / "examples" /
                    "10-order-review.order.json").read_text())  # fmt: skip


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A test server of this module's own: its clock moves a month ahead."""
    async with await start_time_skipping() as env:
        yield env


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


async def ordered(client, handle: WorkflowHandle, encounter_id: str) -> None:
    """The team's order for example 10 (no NAIC rule decides it), once it is held."""
    for _ in range(300):
        try:
            held = (await handle.query(EncounterWorkflow.status)).stage == "held_order_review"
        except Exception:  # not started yet
            held = False
        if held:
            await set_payer_order(client, encounter_id, ORDER["payer_ids"], "ana", ORDER["reason"])
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{encounter_id} was never held for its order")


async def account_status(client, account_id: str, ready) -> AccountStatus:
    handle = client.get_workflow_handle(account_workflow_id(account_id))
    for _ in range(100):
        try:
            status = await handle.query(PatientAccountWorkflow.status)
            if ready(status):
                return status
        except Exception:  # not started yet
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"account {account_id} never got there")


async def test_two_visits_of_a_child_with_two_plans_go_on_one_statement_to_the_parent(
    time_skipping, client, simulator, ledger_url, tmp_path
):
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        visits = []
        for n, served in enumerate((date(2026, 10, 7), date(2026, 10, 21)), start=1):
            encounter = example("10-order-review", encounter_id=f"E1010-acct{n}",
                                service_date=served.isoformat())  # fmt: skip
            handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
            await ordered(client, handle, encounter.encounter_id)
            visits.append(await handle.result())
        # a patient of another family: an account of their own
        other = await start_encounter(client, example("01-commercial", encounter_id="E1001-acct"),
                                      task_queue=settings.task_queue)  # fmt: skip
        alone = await other.result()
        account_id = visits[0].account_id
        owed = sum((v.patient_responsibility for v in visits), Decimal("0.00"))
        first = await account_status(client, account_id, lambda s: s.encounters == [
            "E1010-acct1", "E1010-acct2"] and len(s.statements) >= 1)  # fmt: skip
        await time_skipping.sleep(timedelta(days=31))
        status = await account_status(client, account_id, lambda s: len(s.statements) >= 2)
    engine = make_engine(ledger_url)
    assert all(v.stage == "closed" and v.patient_responsibility > 0 for v in visits)
    assert visits[1].account_id == account_id and alone.account_id not in (None, account_id)
    assert account_of_encounter(engine, "E1010-acct2") == account_id
    assert first.balance == status.balance == owed
    issued = [e["detail"] for e in audit_events(engine, account_workflow_id(account_id))
              if e["kind"] == "statement_issued"]  # fmt: skip
    past_due = issued[-1]
    assert past_due["step"] == "past_due" and past_due["amount_due"] == str(owed)
    text = Path(past_due["text"]).read_text()
    assert "Guarantor:        Luis Alvarez" in text  # the subscriber of her first-listed plan
    assert text.count("DATE OF SERVICE") == 2 and "(secondary)" in text
    OUTPUT.mkdir(parents=True, exist_ok=True)
    pdf = OUTPUT / "account-two-visits-secondary-past-due.pdf"
    shutil.copyfile(past_due["pdf"], pdf)
    os.chmod(pdf, 0o600)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(pdf.with_suffix(""))], check=True)  # fmt: skip
