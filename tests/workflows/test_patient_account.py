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
from cob.dunning import DunningStep, PaymentPlan, PracticePolicy, plan_schedule
from cob.model import GoodFaithEstimate
from cob.patient_statement import ProviderContact
from contract.accounts import (
    AccountRun,
    AccountStatus,
    AssistanceApplication,
    AssistanceDecision,
    BilledEncounter,
    Dispute,
    DisputeResolution,
    RefundMade,
    Repost,
    RepostLine,
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
    client: Client,
    task_queue: str,
    *encounters: BilledEncounter,
    policy: PracticePolicy | None = None,
) -> WorkflowHandle:
    account_id = f"T{uuid.uuid4().hex[:10].upper()}"
    run = AccountRun(account_id=account_id, guarantor_name="Ada Lovelace", provider=PROVIDER,
                     payer_names=PAYERS, policy=policy or PracticePolicy())  # fmt: skip
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
    """The account's status once `ready` and every step it took is in the ledger (its
    activities run in real time), within 10 s."""
    for _ in range(100):
        status = await handle.query(PatientAccountWorkflow.status)
        if ready(status) and not status.busy:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"the account never got there: {status}")


async def stop(handle: WorkflowHandle) -> None:
    """Leave no timer behind for another test's clock (the module shares one server), once
    nothing is in flight: an activity cut off would hold the test server's clock."""
    await when(handle, lambda s: True)
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
    print(f"\nthe cycle from {first}: " + ", ".join(f"{step} {on}" for on, step in status.statements))
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
        result = await when(handle, lambda s: s.cycle_start is None)
        await days_later(time_skipping, 60)  # settled: no notice comes any more
        result = await handle.query(PatientAccountWorkflow.status)
        await stop(handle)
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


def plan(total: str, installments: int, day: int, start: date) -> PaymentPlan:
    return PaymentPlan(plan_id="PL1", total=D(total), installments=installments,
                       day_of_month=day, start=start)  # fmt: skip


def paid(amount: str, on: date, payment_id: str) -> PatientPayment:
    return PatientPayment(payment_id=payment_id, amount=D(amount), received_on=on, method="card")


async def test_a_plan_kept_holds_the_cycle_until_it_is_paid(
    time_skipping, client, ledger_url, tmp_path
):
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue,
                                    billed("E7-pa", date(2026, 1, 5), "90.00"))  # fmt: skip
        first = (await when(handle, lambda s: bool(s.statements))).cycle_start
        await days_later(time_skipping, 10)
        agreed = first + timedelta(days=10)
        status = await handle.execute_update(PatientAccountWorkflow.set_plan,
                                             plan("90.00", 3, agreed.day, agreed))  # fmt: skip
        assert status.paused and status.next_step is None
        dues = [d for d, _ in plan_schedule(status.plan)]
        for n, due in enumerate(dues, start=1):
            await days_later(time_skipping, (due - (first + timedelta(days=10))).days
                             if n == 1 else (due - dues[n - 2]).days)  # fmt: skip
            await handle.execute_update(PatientAccountWorkflow.post_payment,
                                        paid("30.00", due, f"PL1-{n}"))  # fmt: skip
        status = await when(handle, lambda s: s.plan is None)
        await stop(handle)
    assert status.balance == 0 and status.cycle_start is None
    assert [s for _, s in status.statements] == [DunningStep.STATEMENT]  # none while kept
    kinds = [e["kind"] for e in audit_events(make_engine(ledger_url), handle.id)]
    assert "plan_agreed" in kinds and "plan_completed" in kinds and "plan_reminder" not in kinds


async def test_a_missed_installment_gets_a_reminder_then_the_plan_defaults_and_the_cycle_resumes(
    time_skipping, client, ledger_url, tmp_path
):
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue,
                                    billed("E8-pa", date(2026, 1, 5), "90.00"))  # fmt: skip
        first = (await when(handle, lambda s: bool(s.statements))).cycle_start
        await days_later(time_skipping, 20)  # past due would come on day 30
        agreed = first + timedelta(days=20)
        status = await handle.execute_update(PatientAccountWorkflow.set_plan,
                                             plan("90.00", 3, agreed.day, agreed))  # fmt: skip
        due = plan_schedule(status.plan)[0][0]
        assert due == agreed
        await days_later(time_skipping, 30)  # nothing paid
        status = await when(handle, lambda s: s.plan is None)
        await days_later(time_skipping, 30)
        status = await when(handle, lambda s: len(s.statements) >= 2)
        await stop(handle)
    events = audit_events(make_engine(ledger_url), handle.id)
    on = {e["kind"]: date.fromisoformat(e["detail"]["on"]) for e in events}
    # grace 15 days (the policy's default): reminder the day after, default 16 days after
    assert on["plan_reminder"] == due + timedelta(days=1)
    assert on["plan_defaulted"] == due + timedelta(days=16)
    # the past-due notice was 10 days away when the plan began: it comes 10 days after
    assert status.statements[1] == (on["plan_defaulted"] + timedelta(days=10), DunningStep.PAST_DUE)


async def test_a_late_payer_payment_after_the_patient_paid_is_a_refund_to_the_cent(
    time_skipping, client, ledger_url, tmp_path
):
    """The patient paid their 40.00; then the secondary reprocesses the claim and pays 30.00
    more: the patient's share is 10.00, and 30.00 is theirs back."""
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue, billed("E9-pa", date(2026, 1, 5)))
        first = (await when(handle, lambda s: bool(s.statements))).cycle_start
        await handle.execute_update(PatientAccountWorkflow.post_payment,
                                    paid("40.00", first, "P-40"))  # fmt: skip
        late = Repost(repost_id="era/77/1", encounter_id="E9-pa", reason="ACME01 reprocessed",
                      lines=[RepostLine(line_number=1, paid_by_payer={"MCARE": D("100.00"),
                                                                      "ACME01": D("50.00")},
                                        payer_adjustments=D("40.00"),
                                        responsibility={"deductible": D("10.00")})])  # fmt: skip
        status = await handle.execute_update(PatientAccountWorkflow.repost, late)
        again = await handle.execute_update(PatientAccountWorkflow.repost, late)
        assert (status.credit, again.credit) == (D("30.00"), D("30.00"))
        status = await when(handle, lambda s: s.refund_due == D("30.00"))
        refund = RefundMade(amount=D("30.00"), on=first, reference="CHK-5501", by="sue")
        status = await handle.execute_update(PatientAccountWorkflow.refund_made, refund)
        await days_later(time_skipping, 1)
        await stop(handle)
    assert (status.balance, status.credit, status.refund_due) == (D("0.00"), D("0.00"), D("0.00"))
    engine = make_engine(ledger_url)
    refunds = [t for t in tasks(engine, include_closed=True) if t["workflow_id"] == handle.id]
    assert [(t["kind"], t["status"], t["at_stake"]) for t in refunds] == [
        ("refund_due", "closed", None)
    ]


async def test_a_reversal_raises_the_share_and_bills_the_new_balance(
    time_skipping, client, ledger_url, tmp_path
):
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue, billed("E10-pa", date(2026, 1, 5)))
        first = (await when(handle, lambda s: bool(s.statements))).cycle_start
        await handle.execute_update(PatientAccountWorkflow.post_payment,
                                    paid("40.00", first, "P-40"))  # fmt: skip
        await when(handle, lambda s: s.cycle_start is None)
        await days_later(time_skipping, 5)
        reversal = Repost(repost_id="era/78/1", encounter_id="E10-pa", reason="ACME01 reversed",
                          lines=[RepostLine(line_number=1, paid_by_payer={"MCARE": D("100.00"),
                                                                          "ACME01": D("0.00")},
                                            payer_adjustments=D("40.00"),
                                            responsibility={"deductible": D("60.00")})])  # fmt: skip
        await handle.execute_update(PatientAccountWorkflow.repost, reversal)
        status = await when(handle, lambda s: len(s.statements) == 2)
        await stop(handle)
    assert status.balance == D("20.00")
    assert status.statements[1] == (first + timedelta(days=5), DunningStep.STATEMENT)


def self_pay(encounter_id: str, charge: str, estimate: str | None) -> BilledEncounter:
    return BilledEncounter(
        encounter_id=encounter_id, patient_name="Ada Lovelace", self_pay=True,
        estimate=None if estimate is None else GoodFaithEstimate(reference="GFE-1",
                                                                 total=D(estimate)),
        lines=[AccountLine(encounter_id=encounter_id, service_date=date(2026, 1, 5),
                           line_number=1, procedure_code="99214", charge=D(charge),
                           paid_by_payer={}, payer_adjustments=D("0.00"),
                           responsibility={"not covered": D(charge)})],
    )  # fmt: skip


@pytest.mark.parametrize("estimate, eligible", [("150.00", True), ("300.00", False)])
async def test_a_self_pay_bill_400_over_its_estimate_may_be_disputed_and_holds_collections(
    time_skipping, client, ledger_url, tmp_path, estimate, eligible
):
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue,
                                    self_pay(f"E11-pa-{eligible}", "650.00", estimate))  # fmt: skip
        status = await when(handle, lambda s: bool(s.statements))
        first = status.cycle_start
        await days_later(time_skipping, 125)
        final = await when(handle, lambda s: s.steps_taken == 5)
        await stop(handle)
    events = audit_events(make_engine(ledger_url), handle.id)
    referral = [e["detail"]["on"] for e in events if e["kind"] == "collections_referral"]
    first_text = Path([e for e in events if e["kind"] == "statement_issued"][0]["detail"]["text"])
    if eligible:  # 650.00 - 150.00 = 500.00 >= 400.00: the dispute window, 120 days
        deadline = first + timedelta(days=120)
        assert {k: v.deadline for k, v in final.ppdr.items()} == {f"E11-pa-{eligible}": deadline}
        # held while the window is open: the referral comes the day after its deadline
        assert referral == [(deadline + timedelta(days=1)).isoformat()]
        assert "dispute" in first_text.read_text()
    else:
        assert final.ppdr == {} and referral == [(first + timedelta(days=120)).isoformat()]


async def test_a_nonprofit_hospital_waits_120_days_and_30_days_after_the_final_notice(
    time_skipping, client, ledger_url, tmp_path
):
    """26 CFR 1.501(r)-6: a practice's faster cycle (notices on days 0, 20, 40, 60, the
    referral 10 days after) still refers nobody before day 120 after the first statement;
    an assistance application is taken until day 240."""
    fast = PracticePolicy(cycle_days=[0, 20, 40, 60], collections_after_final_days=10,
                          nonprofit_hospital=True)  # fmt: skip
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue,
                                    billed("E12-pa", date(2026, 1, 5)), policy=fast)  # fmt: skip
        first = (await when(handle, lambda s: bool(s.statements))).cycle_start
        await days_later(time_skipping, 125)
        status = await when(handle, lambda s: s.steps_taken == 5)
        with pytest.raises(WorkflowUpdateFailedError) as late:
            await handle.execute_update(
                PatientAccountWorkflow.apply_for_assistance,
                AssistanceApplication(application_id="FA1",
                                      received_on=first + timedelta(days=241)),
            )  # fmt: skip
        on_time = AssistanceApplication(application_id="FA2", received_on=first + timedelta(days=125))
        await handle.execute_update(PatientAccountWorkflow.apply_for_assistance, on_time)
        await handle.execute_update(PatientAccountWorkflow.decide_assistance,
                                    AssistanceDecision(application_id="FA2", outcome="denied"))  # fmt: skip
        with pytest.raises(WorkflowUpdateFailedError) as reused:
            await handle.execute_update(PatientAccountWorkflow.apply_for_assistance, on_time)
        await stop(handle)
    assert "application_id: FA2 was decided; give a new id" in str(reused.value.cause)
    assert [d for d, _ in status.statements] == [first + timedelta(days=n) for n in (0, 20, 40, 60)]
    events = audit_events(make_engine(ledger_url), handle.id)
    referral = [e["detail"]["on"] for e in events if e["kind"] == "collections_referral"]
    assert referral == [(first + timedelta(days=120)).isoformat()]
    assert f"the application period ended on {first + timedelta(days=240)}" in str(late.value.cause)


async def test_a_long_lived_account_continues_as_new_with_its_money_and_its_receipts(
    time_skipping, client, ledger_url, tmp_path
):
    """Its history stays small: past history_limit events the account starts a new run
    carrying its state; a payment posted before is still known (idempotent) after it."""
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        account_id = f"T{uuid.uuid4().hex[:10].upper()}"
        run = AccountRun(account_id=account_id, guarantor_name="Ada Lovelace", provider=PROVIDER,
                         payer_names=PAYERS, history_limit=60)  # fmt: skip
        handle = await client.start_workflow(
            PatientAccountWorkflow.run, run, id=account_workflow_id(account_id),
            task_queue=settings.task_queue, start_signal="add_encounter",
            start_signal_args=[billed("E13-pa", date(2026, 1, 5))],
        )  # fmt: skip
        first = (await when(handle, lambda s: bool(s.statements))).cycle_start
        first_run = (await handle.describe()).run_id
        for n in range(12):
            await handle.execute_update(PatientAccountWorkflow.post_payment,
                                        paid("1.00", first, f"P-{n}"))  # fmt: skip
            await when(handle, lambda s: True)
        again = await handle.execute_update(PatientAccountWorkflow.post_payment,
                                            paid("1.00", first, "P-0"))  # fmt: skip
        status = await when(handle, lambda s: True)
        last_run = (await handle.describe()).run_id
        await stop(handle)
    assert last_run != first_run  # continued as new
    assert again.duplicate and status.balance == D("28.00")  # 40.00 less 12 payments of 1.00
    assert status.statements == [(first, DunningStep.STATEMENT)]


async def test_paid_by_the_first_due_date_the_prompt_pay_discount_is_written_off(
    time_skipping, client, ledger_url, tmp_path
):
    """A 5% prompt-pay discount: 40.00 owed, 38.00 paid within the first statement's 30
    days settles it, the 2.00 written off as the discount; later, no discount."""
    prompt = PracticePolicy(prompt_pay_discount_percent=D("5"))
    async with running_worker(client, "http://127.0.0.1:9", ledger_url, tmp_path) as settings:
        handle = await open_account(client, settings.task_queue, billed("E14-pa", date(2026, 1, 5)),
                                    policy=prompt)  # fmt: skip
        first = (await when(handle, lambda s: bool(s.statements))).cycle_start
        await days_later(time_skipping, 20)
        receipt = await handle.execute_update(PatientAccountWorkflow.post_payment,
                                              paid("38.00", first + timedelta(days=20), "P-38"))  # fmt: skip
        status = await when(handle, lambda s: s.cycle_start is None)
        late = await open_account(client, settings.task_queue, billed("E15-pa", date(2026, 1, 5)),
                                  policy=prompt)  # fmt: skip
        start = (await when(late, lambda s: bool(s.statements))).cycle_start
        await days_later(time_skipping, 31)
        after = await late.execute_update(PatientAccountWorkflow.post_payment,
                                          paid("38.00", start + timedelta(days=31), "P-38"))  # fmt: skip
        await stop(handle)
        await stop(late)
    assert (receipt.balance, receipt.credit, status.balance) == (D("0.00"), D("0.00"), D("0.00"))
    events = audit_events(make_engine(ledger_url), handle.id)
    assert [e["detail"]["amount"] for e in events if e["kind"] == "prompt_pay_discount"] == ["2.00"]
    assert after.balance == D("2.00")  # past the due date: no discount
