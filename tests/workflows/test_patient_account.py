"""The patient account's cycle on the time-skipping server, day-exact: the real worker, real
activities writing real statements (PDF and text) and a real ledger."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from cob.accounts import AccountLine, PatientPayment
from cob.dunning import DunningStep
from cob.patient_statement import ProviderContact
from contract.accounts import (
    AccountRun,
    AccountStatus,
    BilledEncounter,
    Dispute,
    DisputeResolution,
    account_workflow_id,
)
from ledger.db import make_engine
from ledger.queries import audit_events
from ledger.worklist import tasks
from tests.conftest import start_time_skipping
from tests.workflow_harness import running_worker
from workflows.patient_account import PatientAccountWorkflow

PROVIDER = ProviderContact(name="Riverside Family Medicine", address="200 River St, Hartwell, CT 06101",
                           phone="(860) 555-0142")  # fmt: skip
PAYERS = {"ACME01": "Acme Health", "MCARE": "Medicare Part B"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A test server of this module's own: its clock moves months ahead."""
    async with await start_time_skipping() as env:
        yield env


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def line(encounter_id: str, served: date, number: int, charge: str, primary: str,
         secondary: str, adjusted: str, share: dict[str, str]) -> AccountLine:  # fmt: skip
    return AccountLine(
        encounter_id=encounter_id, service_date=served, line_number=number,
        procedure_code="99213", charge=D(charge),
        paid_by_payer={"MCARE": D(primary), **({"ACME01": D(secondary)} if secondary else {})},
        payer_adjustments=D(adjusted), responsibility={k: D(v) for k, v in share.items()},
    )  # fmt: skip


def billed(encounter_id: str, served: date, owed: str = "40.00") -> BilledEncounter:
    """A 200.00 visit: Medicare paid 100.00, Acme 20.00, 40.00 written off by contract, the
    rest the patient's (a deductible)."""
    rest = D("200.00") - D("100.00") - D("20.00") - D(owed)
    return BilledEncounter(
        encounter_id=encounter_id,
        patient_name="Ada Lovelace",
        lines=[line(encounter_id, served, 1, "200.00", "100.00", "20.00", str(rest),
                    {"deductible": owed})],
    )  # fmt: skip


async def open_account(
    client: Client, task_queue: str, *encounters: BilledEncounter
) -> WorkflowHandle:
    account_id = f"T{uuid.uuid4().hex[:10].upper()}"
    run = AccountRun(account_id=account_id, guarantor_name="Ada Lovelace", provider=PROVIDER,
                     payer_names=PAYERS)  # fmt: skip
    handle = await client.start_workflow(
        PatientAccountWorkflow.run, run, id=account_workflow_id(account_id),
        task_queue=task_queue, start_signal="add_encounter", start_signal_args=[encounters[0]],
    )  # fmt: skip
    for more in encounters[1:]:
        await handle.signal(PatientAccountWorkflow.add_encounter, more)
    return handle


async def days_later(env: WorkflowEnvironment, days: int) -> None:
    await env.sleep(timedelta(days=days))


async def when(handle: WorkflowHandle, ready: Callable[[AccountStatus], bool]) -> AccountStatus:
    """The account's status once `ready` (its activities run in real time), within 10 s."""
    for _ in range(100):
        status = await handle.query(PatientAccountWorkflow.status)
        if ready(status):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"the account never got there: {status}")


async def stop(handle: WorkflowHandle) -> None:
    """Leave no timer behind for another test's clock (the module shares one server)."""
    if (await handle.describe()).status == 1:  # running
        await handle.terminate("test over")


async def test_the_dunning_cycle_runs_day_exact_to_the_collections_referral(
    time_skipping, client, ledger_url, tmp_path
):
    """P-1's cycle: statement 1, then past due at +30, second notice at +60, final notice at
    +90 naming the referral at +120, then the referral (a task)."""
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue,
                                    billed("E1-pa", date(2026, 1, 5)))  # fmt: skip
        status = await when(handle, lambda s: bool(s.statements))
        first = status.cycle_start
        assert status.balance == D("40.00") and first is not None
        assert status.statements == [(first, DunningStep.STATEMENT)]
        await days_later(time_skipping, 125)
        status = await when(handle, lambda s: s.steps_taken == 5)
        await stop(handle)
    assert status.statements == [
        (first, DunningStep.STATEMENT),
        (first + timedelta(days=30), DunningStep.PAST_DUE),
        (first + timedelta(days=60), DunningStep.SECOND_NOTICE),
        (first + timedelta(days=90), DunningStep.FINAL_NOTICE),
    ]
    engine = make_engine(ledger_url)
    events = audit_events(engine, handle.id)
    referral = [e for e in events if e["kind"] == "collections_referral"]
    assert [e["detail"]["on"] for e in referral] == [(first + timedelta(days=120)).isoformat()]
    final = [e for e in events if e["kind"] == "statement_issued"][-1]["detail"]
    assert final["step"] == "final_notice" and final["amount_due"] == "40.00"
    text = Path(final["text"]).read_text()
    assert (first + timedelta(days=120)).strftime("%B %-d, %Y") in text
    assert Path(final["pdf"]).read_bytes().startswith(b"%PDF")
    assert Path(final["pdf"]).stat().st_mode & 0o077 == 0  # patient data: the owner's alone
    assert [t["kind"] for t in tasks(engine) if t["workflow_id"] == handle.id] == [
        "collections_referral"
    ]


async def test_a_payment_between_statements_settles_the_account(
    time_skipping, client, ledger_url, tmp_path
):
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue, billed("E2-pa", date(2026, 1, 5)))
        first = (await when(handle, lambda s: bool(s.statements))).cycle_start
        await days_later(time_skipping, 40)  # statement 1 and the past-due notice are out
        paid_on = first + timedelta(days=40)
        payment = PatientPayment(payment_id="P-1", amount=D("15.00"), received_on=paid_on,
                                 method="card")  # fmt: skip
        receipt = await handle.execute_update(PatientAccountWorkflow.post_payment, payment)
        assert (receipt.balance, receipt.credit, receipt.duplicate) == (D("25.00"), D("0"), False)
        again = await handle.execute_update(PatientAccountWorkflow.post_payment, payment)
        assert again.duplicate and again.balance == D("25.00")  # posted once
        rest = payment.model_copy(update={"payment_id": "P-2", "amount": D("25.00")})
        await handle.execute_update(PatientAccountWorkflow.post_payment, rest)
        result = await handle.result()
    assert result.balance == 0 and result.credit == 0
    assert [s for _, s in result.statements] == [DunningStep.STATEMENT, DunningStep.PAST_DUE]
    kinds = [e["kind"] for e in audit_events(make_engine(ledger_url), handle.id)]
    assert kinds.count("patient_payment") == 2 and kinds[-1] == "account_settled"


async def test_an_overpayment_becomes_credit_and_a_refund_task(
    time_skipping, client, ledger_url, tmp_path
):
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue, billed("E3-pa", date(2026, 1, 5)))
        first = (await when(handle, lambda s: bool(s.statements))).cycle_start
        payment = PatientPayment(payment_id="P-9", amount=D("50.00"), received_on=first,
                                 method="check", reference="1042")  # fmt: skip
        receipt = await handle.execute_update(PatientAccountWorkflow.post_payment, payment)
        assert (receipt.balance, receipt.credit) == (D("0.00"), D("10.00"))
        await days_later(time_skipping, 1)
        status = await handle.query(PatientAccountWorkflow.status)
        await stop(handle)
    assert (status.balance, status.credit, status.refund_due) == (D("0.00"), D("10.00"), D("10.00"))
    refund = [t for t in tasks(make_engine(ledger_url)) if t["workflow_id"] == handle.id]
    assert [t["kind"] for t in refund] == ["refund_due"] and "10.00" in refund[0]["reason"]


async def test_a_dispute_pauses_the_cycle_and_it_resumes_where_it_paused(
    time_skipping, client, ledger_url, tmp_path
):
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue, billed("E4-pa", date(2026, 1, 5)))
        first = (await when(handle, lambda s: bool(s.statements))).cycle_start
        await days_later(time_skipping, 46)  # the past-due notice went out on day 30
        await handle.execute_update(PatientAccountWorkflow.open_dispute,
                                    Dispute(dispute_id="D1", reason="I never had this visit"))  # fmt: skip
        await days_later(time_skipping, 20)  # day 60 passes: no second notice while disputed
        paused = await handle.query(PatientAccountWorkflow.status)
        assert paused.paused and len(paused.statements) == 2
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                PatientAccountWorkflow.resolve_dispute,
                DisputeResolution(dispute_id="D1", outcome="adjusted", amount=D("99.00")),
            )
        assert "amount: 99.00 is not between 0.01 and the 40.00 owed" in str(refused.value.cause)
        await handle.execute_update(
            PatientAccountWorkflow.resolve_dispute,
            DisputeResolution(dispute_id="D1", outcome="adjusted", amount=D("10.00"),
                              note="the visit was a follow-up: coded too high", by="sue"),
        )  # fmt: skip
        await days_later(time_skipping, 20)
        status = await handle.query(PatientAccountWorkflow.status)
        await stop(handle)
    # paused from day 46 to day 66: the second notice, due on day 60, comes on day 80
    assert status.statements[2] == (first + timedelta(days=80), DunningStep.SECOND_NOTICE)
    assert status.balance == D("30.00") and not status.paused
    engine = make_engine(ledger_url)
    dispute = [t for t in tasks(engine, include_closed=True) if t["kind"] == "dispute"]
    assert [t["status"] for t in dispute] == ["closed"]


async def test_two_encounters_go_on_one_statement(time_skipping, client, ledger_url, tmp_path):
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue,
                                    billed("E5-pa", date(2026, 1, 5), "40.00"),
                                    billed("E6-pa", date(2026, 1, 20), "25.00"))  # fmt: skip
        await days_later(time_skipping, 31)
        status = await handle.query(PatientAccountWorkflow.status)
        await stop(handle)
    assert status.encounters == ["E5-pa", "E6-pa"] and status.balance == D("65.00")
    issued = [e["detail"] for e in audit_events(make_engine(ledger_url), handle.id)
              if e["kind"] == "statement_issued"]  # fmt: skip
    assert [i["amount_due"] for i in issued] in (["40.00", "65.00"], ["65.00", "65.00"])
    text = Path(issued[-1]["text"]).read_text()
    assert "DATE OF SERVICE 01/05/2026" in text and "DATE OF SERVICE 01/20/2026" in text
