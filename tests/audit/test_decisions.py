"""What was decided, read from the recorded histories (tests/histories/) and from an appeal run
on the time-skipping server: the order of benefits, the claims, the timers, the human actions
and the money, with no patient's name, birth date or member id in what is printed."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from audit.decisions import EncounterDecisions, read_decisions, render
from cli.encounters import start_encounter
from cob.appeals import AppealDecision, AppealFiling
from contract.ids import appeal_workflow_id, claim_workflow_id
from contract.messages import EncounterRun
from tests.workflow_harness import running_worker, start_time_skipping
from tests.workflows.test_appeals import medicare_only
from workers.codec import ENCODING, Keyring, PayloadKeyError, data_converter
from workflows.appeal import AppealWorkflow

ROOT = Path(__file__).resolve().parents[1] / "histories"
# One encounter's recorded histories: <folder>/<name>.json and <name>.claim-<n>.json
# every recorded encounter; the ArchiveBatchWorkflows recorded beside them are no encounter's
ENCOUNTERS = sorted(
    {
        p.with_name(p.name.split(".", 1)[0])
        for p in ROOT.glob("**/*.json")
        if not p.name.startswith("archive-batch-")
    }
)


def recorded(name: str, folder: str = "v4-worked") -> list[WorkflowHistory]:
    paths = sorted((ROOT / folder).glob(f"{name}.json")) + sorted(
        (ROOT / folder).glob(f"{name}.claim-*.json")
    )
    assert paths, f"no recorded histories for {folder}/{name}"
    return [_history(path) for path in paths]


def _history(path: Path) -> WorkflowHistory:
    record = json.loads(path.read_text())
    return WorkflowHistory.from_json(record["workflow_id"], record["history"])


async def decisions_of(histories: list[WorkflowHistory]) -> EncounterDecisions:
    return await read_decisions(histories, data_converter())


# --- 09: three payers ----------------------------------------------------------------------


async def test_three_payers_are_ordered_acme_blue_medicaid_by_the_rules_the_engine_recorded():
    decisions = await decisions_of(recorded("09-three-payers"))
    order = decisions.order
    assert order is not None
    assert order.payers == ["ACME01", "BLUE02", "MCAID"]
    # The patient's own plan before her spouse's; Medicaid pays last.
    assert [(r.higher, r.lower, r.rule, r.citation) for r in order.rules] == [
        ("ACME01", "BLUE02", "naic_nondependent_first", "NAIC MDL-120 §6 rule 1"),
        ("BLUE02", "MCAID", "medicaid_last", "42 USC 1396a(a)(25)"),
    ]
    assert order.rules[0].text == "ACME01 pays before BLUE02"
    assert order.excluded == [] and order.choice is None and not order.needs_manual_review


async def test_three_payers_claims_carry_the_figures_of_their_835s():
    decisions = await decisions_of(recorded("09-three-payers"))
    assert [(c.workflow_id, c.payer_id, c.payer_sequence, c.result) for c in decisions.claims] == [
        ("encounter-E1009-e2e/claim-1-ACME01", "ACME01", 1, "adjudicated"),
        ("encounter-E1009-e2e/claim-2-BLUE02", "BLUE02", 2, "adjudicated"),
        ("encounter-E1009-e2e/claim-3-MCAID", "MCAID", 3, "adjudicated"),
    ]
    acme, blue, medicaid = decisions.claims
    assert acme.claim_control_numbers == ["E1009-e2e-1-1"] and acme.frequency == "1"
    assert acme.payer_claim_number == "ACME016125950CDA03" and acme.paid == Decimal("158.08")
    # Example 09's 99214 at 210.00: ACME01 allows 182.00 (CO-45 28.00); the 25.00 copay, then
    # 20% coinsurance of 157.00 = 31.40; paid 182.00 - 25.00 - 31.40 = 125.60, as expected.
    line = acme.lines[0]
    assert (line.procedure_code, line.charge, line.allowed, line.paid) == (
        "99214", Decimal("210.00"), Decimal("182.00"), Decimal("125.60"),
    )  # fmt: skip
    assert [(a.group, a.reason, a.amount) for a in line.adjustments] == [
        ("CO", "45", Decimal("28.00")),
        ("PR", "3", Decimal("25.00")),
        ("PR", "2", Decimal("31.40")),
    ]
    assert (line.expected, line.variance) == (Decimal("125.60"), Decimal("0.00"))
    # 97110 at 80.00: allowed 40.60, no copay, 20% = 8.12, paid 32.48.
    assert (acme.lines[1].allowed, acme.lines[1].paid) == (Decimal("40.60"), Decimal("32.48"))
    # BLUE02's non-duplication benefit is below what ACME01 paid: nothing more; the prior
    # payer's impact (OA-23) is ACME01's 125.60 paid + 28.00 contractual = 153.60.
    assert [ln.paid for ln in blue.lines] == [Decimal("0.00"), Decimal("0.00")]
    assert blue.lines[0].adjustments[0].model_dump() == {
        "group": "OA", "reason": "23", "amount": Decimal("153.60"),
    }  # fmt: skip
    # Medicaid pays nothing and writes off the rest of 99214: 210.00 - 153.60 = 56.40.
    assert [(a.group, a.reason, a.amount) for a in medicaid.lines[0].adjustments] == [
        ("OA", "23", Decimal("153.60")),
        ("CO", "45", Decimal("56.40")),
    ]
    assert all(
        c.denials == [] and c.corrections == [] and c.appeal is None for c in decisions.claims
    )


async def test_three_payers_lines_balance_to_the_cent():
    decisions = await decisions_of(recorded("09-three-payers"))
    outcome = decisions.outcome
    assert outcome is not None and outcome.stage == "closed"
    assert outcome.patient_responsibility == Decimal("0.00")
    line1, line2 = outcome.lines
    # 210.00 = 125.60 paid by ACME01 + (28.00 ACME01 CO-45 + 56.40 MCAID CO-45) + 0.00
    assert line1.paid_by_payer == {
        "ACME01": Decimal("125.60"), "BLUE02": Decimal("0.00"), "MCAID": Decimal("0.00"),
    }  # fmt: skip
    assert (line1.adjustments, line1.patient_responsibility) == (Decimal("84.40"), Decimal("0.00"))
    # 80.00 = 32.48 + (39.40 + 8.12) + 0.00
    assert (line2.paid_by_payer["ACME01"], line2.adjustments) == (
        Decimal("32.48"),
        Decimal("47.52"),
    )
    assert line1.balances and line2.balances and outcome.unbalanced == []
    assert outcome.disagreements == []  # what the encounter posted is what the 835s paid
    assert decisions.timers == [] and decisions.human_actions == []


async def test_three_payers_render_by_section_with_money_to_the_cent():
    lines = render(await decisions_of(recorded("09-three-payers")))
    print("\n" + "\n".join(lines))
    text = "\n".join(lines)
    assert lines[0] == "Encounter E1009-e2e (encounter-E1009-e2e): closed, service date 2026-10-20"
    assert [ln for ln in lines if ln[:2] in ("1.", "2.", "3.", "4.", "5.")] == [
        "1. Order of benefits: ACME01 > BLUE02 > MCAID",
        "2. Claims",
        "3. Timers",
        "4. Human actions",
        "5. Outcome: closed; patient responsibility 0.00",
    ]
    assert (
        "      line 1 99214: charge 210.00, allowed 182.00, paid 125.60 [CO-45 28.00, PR-3 25.00, "
        "PR-2 31.40]; expected 125.60, variance 0.00"
    ) in lines
    assert (
        "  line 1 99214: charge 210.00 = paid 125.60 (ACME01 125.60, BLUE02 0.00, MCAID 0.00) + "
        "adjustments 84.40 + patient 0.00: holds"
    ) in lines
    assert "every line balances to the cent" in text
    for phi in ("Marisol", "Ortega", "Ruben", "1979-11-03", "1977-02-14", "ACM700800900",
                "BSH9R4T6W21", "430011223344"):  # fmt: skip
        assert phi not in text


async def test_a_line_whose_money_does_not_hold_is_named():
    path = ROOT / "v4-worked" / "09-three-payers.json"
    record = json.loads(path.read_text())
    completed = record["history"]["events"][-1]["workflowExecutionCompletedEventAttributes"]
    payload = completed["result"]["payloads"][0]
    status = json.loads(base64.b64decode(payload["data"]))
    status["lines"][1]["adjustments"] = "47.51"  # a cent lost on line 2
    payload["data"] = base64.b64encode(json.dumps(status).encode()).decode()
    edited = WorkflowHistory.from_json(record["workflow_id"], record["history"])
    decisions = await decisions_of([edited, *recorded("09-three-payers")[1:]])
    assert decisions.outcome is not None
    assert decisions.outcome.unbalanced == [
        "line 2 97110: charge 80.00 != paid 32.48 + adjustments 47.51 + patient 0.00 (off by 0.01)"
    ]
    assert "  UNBALANCED line 2 97110: charge 80.00 != paid 32.48" in "\n".join(render(decisions))


# --- 07: a denial corrected ----------------------------------------------------------------


async def test_denied_then_corrected_shows_the_route_the_correction_and_who_sent_it():
    """The recorded run had no person: the end-to-end test's client sent the correction
    (update correct_claim), the door a person's `cob correct` uses. ClaimCorrection has no
    `by`, so who is that client's identity (pid@host), and it is read as a human action."""
    decisions = await decisions_of(recorded("07-denied-then-corrected"))
    (claim,) = decisions.claims
    (denial,) = claim.denials
    assert (denial.claim_control_number, denial.carc, denial.rarcs, denial.route) == (
        "E1007-e2e-1-1", "16", ["N290"], "fix_resubmit",
    )  # fmt: skip
    assert denial.why.startswith("held for the team's correction (update correct_claim)")
    assert [(s.claim_control_number, s.frequency, s.replaces) for s in claim.submissions] == [
        ("E1007-e2e-1-1", "1", None),
        ("E1007-e2e-1-2", "7", "BLUE0252AED226328E"),
    ]
    (fix,) = claim.corrections
    assert (fix.claim_control_number, fix.frequency, fix.replaces, fix.answering) == (
        "E1007-e2e-1-2", "7", "BLUE0252AED226328E", "CARC 16 N290 -> fix_resubmit",
    )  # fmt: skip
    assert fix.changes.startswith("correction: rendering provider NPI 1427051234")

    (action,) = decisions.human_actions
    assert (action.kind, action.name, action.workflow_id) == (
        "update", "correct_claim", "encounter-E1007-e2e/claim-1-BLUE02",
    )  # fmt: skip
    assert (action.by, action.by_from, action.status) == ("27171@vm", "identity", "accepted")
    assert action.at.isoformat().startswith("2026-11-30T13:13:20")
    assert action.answer == "correction accepted; resubmitting to BLUE02"
    assert fix.by == "27171@vm"

    # The wait for the correction: a timer to the escalation day, 30 days before the
    # corrected-claim deadline (the timely filing limit, 365 days from the 2026-10-21 visit).
    (timer,) = decisions.timers
    assert timer.fires_on == date(2027, 9, 21) and timer.outcome == "cancelled"
    assert timer.ended_by == "correct_claim"
    assert timer.guarded is not None
    assert (timer.guarded.kind, timer.guarded.due) == ("correction", date(2027, 10, 21))
    assert decisions.outcome is not None and decisions.outcome.unbalanced == []


# --- 10: a person sets the order ----------------------------------------------------------


async def test_order_review_shows_the_persons_order_who_and_why():
    decisions = await decisions_of(recorded("10-order-review"))
    order = decisions.order
    assert order is not None and order.needs_manual_review
    assert order.payers == ["ACME01", "EMPL03"]
    choice = order.choice
    assert choice is not None
    assert (choice.payer_ids, choice.by, choice.status) == (
        ["ACME01", "EMPL03"],
        "demo",
        "accepted",
    )
    assert choice.reason.startswith("both parents born May 14")
    assert [r.rule for r in order.rules] == ["naic_undetermined_manual_review", "manual_order"]
    assert order.rules[1].text.startswith("ACME01 pays before EMPL03, set by demo: both parents")

    (action,) = decisions.human_actions
    assert (action.name, action.by, action.by_from, action.status) == (
        "set_order", "demo", "input", "accepted",
    )  # fmt: skip
    assert action.what.startswith("order ACME01 > EMPL03: both parents born May 14")
    assert action.answer == "ACME01 > EMPL03"
    text = "\n".join(render(decisions))
    assert "update set_order on encounter by demo: accepted" in text
    assert "Mia" not in text and "Alvarez" not in text and "2015-04-02" not in text


# --- every recorded history ----------------------------------------------------------------


def _phi(run: EncounterRun) -> list[str]:
    encounter = run.encounter
    people = [encounter.patient] + [c.subscriber for c in encounter.coverages if c.subscriber]
    return (
        [p.first_name for p in people]
        + [p.last_name for p in people]
        + [p.birth_date.isoformat() for p in people]
        + [c.member_id for c in encounter.coverages]
    )


@pytest.mark.parametrize(
    "encounter", ENCOUNTERS, ids=[str(p.relative_to(ROOT)) for p in ENCOUNTERS]
)
async def test_every_recorded_encounter_reads_balances_and_prints_no_patient(encounter: Path):
    claims = sorted(encounter.parent.glob(f"{encounter.name}.claim-*.json"))
    paths = [encounter.with_suffix(".json"), *claims]
    histories = [_history(p) for p in paths]
    decisions = await decisions_of(histories)
    assert decisions.notes == []
    assert len(decisions.claims) == len(paths) - 1
    assert all(c.history_read for c in decisions.claims)
    assert decisions.outcome is not None and decisions.outcome.stage == "closed"
    assert decisions.outcome.lines and decisions.outcome.unbalanced == []
    assert decisions.outcome.disagreements == []
    # The same decisions whatever the order the histories come in, and through JSON.
    again = await decisions_of(list(reversed(histories)))
    assert again == decisions
    assert EncounterDecisions.model_validate_json(decisions.to_json()) == decisions
    run = await _start_input(histories[0])  # plaintext, or encrypted with the tests' key
    printed = "\n".join(render(decisions)) + decisions.to_json()
    assert [phi for phi in _phi(run) if phi in printed] == []


async def _start_input(history: WorkflowHistory) -> EncounterRun:
    started = history.events[0].workflow_execution_started_event_attributes
    (run,) = await data_converter().decode(list(started.input.payloads), [EncounterRun])
    return run


async def test_histories_of_two_encounters_are_refused():
    mixed = recorded("01-commercial") + recorded("09-three-payers")[:1]
    with pytest.raises(ValueError, match="more than one encounter"):
        await decisions_of(mixed)


async def test_an_unknown_activity_is_skipped_and_a_payload_that_no_longer_fits_is_a_note():
    path = ROOT / "v4-worked" / "07-denied-then-corrected.claim-1.json"
    record = json.loads(path.read_text())
    events = record["history"]["events"]
    renamed = 0
    for event in events:
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled and scheduled["activityType"]["name"] == "deadline_rules":
            scheduled["activityType"]["name"] = "a_later_versions_activity"
            renamed += 1
        elif scheduled and scheduled["activityType"]["name"] == "follow_up":
            scheduled["input"]["payloads"][0]["data"] = (
                "eyJvbGQiOiAic2hhcGUifQ=="  # {"old": "shape"}
            )
            break
    assert renamed == 1
    claim = WorkflowHistory.from_json(record["workflow_id"], record["history"])
    encounter = recorded("07-denied-then-corrected")[0]
    decisions = await decisions_of([claim, encounter])
    (note,) = decisions.notes
    assert note.startswith(
        "encounter-E1007-e2e/claim-1-BLUE02 event 44: payload not read as FollowUp"
    )
    # that follow-up was the denial_routed step: the route still comes from the claim's outcome
    (denial,) = decisions.claims[0].denials
    assert (denial.carc, denial.route) == ("16", "fix_resubmit")


# --- an appeal, run on the time-skipping server ---------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A test server of this module's own: its clock moves a month ahead."""
    async with await start_time_skipping() as env:
        yield env


async def test_an_appeal_filed_and_decided_by_a_biller_reads_from_the_encrypted_histories(
    time_skipping, client, simulator, tmp_path
):
    encounter = await medicare_only(time_skipping, "E1011-audit")
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    # The biller's own client: her identity is what the histories name her by.
    biller = await Client.connect(
        client.service_client.config.target_host,
        namespace=client.namespace,
        data_converter=data_converter(),
        identity="biller-ana",
    )
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        claim_id = claim_workflow_id(handle.id, 1, "MCARE")
        appeal_id = appeal_workflow_id(claim_id)
        appeal = biller.get_workflow_handle(appeal_id)
        await time_skipping.sleep(timedelta(days=10))
        with pytest.raises(WorkflowUpdateFailedError):  # level 2 is not open: no trace left
            await appeal.execute_update(AppealWorkflow.file_appeal, AppealFiling(level=2))
        await appeal.execute_update(
            AppealWorkflow.file_appeal, AppealFiling(level=1, note="CMS-20027 with the records")
        )
        await time_skipping.sleep(timedelta(days=20))
        paid = httpx.post(
            f"{simulator.url}/admin/appeals",
            json={"payer_id": "MCARE", "claim_control_number": f"{encounter.encounter_id}-1-1",
                  "outcome": "overturned"},
        )  # fmt: skip
        paid.raise_for_status()
        await appeal.signal(
            AppealWorkflow.appeal_decided,
            AppealDecision(level=1, outcome="overturned", note="redetermination letter"),
        )
        await handle.result()
    histories = [
        await client.get_workflow_handle(workflow_id).fetch_history()
        for workflow_id in (appeal_id, handle.id, claim_id)  # any order
    ]
    started = histories[0].events[0].workflow_execution_started_event_attributes
    assert started.input.payloads[0].metadata["encoding"] == ENCODING  # encrypted at rest

    wrong_key = data_converter(Keyring.of({"other": bytes(32)}, None, "a test"))
    with pytest.raises(PayloadKeyError, match="'tests-1'"):  # never an empty audit
        await read_decisions(histories, wrong_key)
    decisions = await read_decisions(histories, data_converter())
    print("\n" + "\n".join(render(decisions)))
    assert decisions.notes == []
    (claim,) = decisions.claims
    (denial,) = claim.denials
    assert (denial.carc, denial.route) == ("50", "appeal")
    assert (
        claim.result == "adjudicated"
        and claim.payer_claim_number == paid.json()["payer_claim_number"]
    )
    assert claim.paid is not None and claim.paid > 0
    decided = claim.appeal
    assert decided is not None and decided.workflow_id == appeal_id
    assert (decided.result, decided.level, decided.levels[0]) == (
        "overturned",
        1,
        "redetermination",
    )
    assert [s.kind for s in decided.steps] == ["appeal_due", "appeal_filed", "appeal_paid"]

    filed, heard = decisions.human_actions  # the refused level 2 filing left no event
    assert (filed.kind, filed.name, filed.workflow_id) == ("update", "file_appeal", appeal_id)
    assert (filed.by, filed.by_from, filed.status) == ("biller-ana", "identity", "accepted")
    assert filed.what == "level 1 appeal filed; note: CMS-20027 with the records"
    assert filed.answer.startswith(f"level 1 appeal of claim {encounter.encounter_id}-1-1 filed on")
    assert (heard.kind, heard.name, heard.by, heard.status) == (
        "signal", "appeal_decided", "biller-ana", "received",
    )  # fmt: skip
    assert heard.what == "level 1 decided: overturned; note: redetermination letter"
    assert filed.at < heard.at

    # The wait to file: a timer to the escalation day, cancelled by the filing, guarding the
    # redetermination's filing deadline (the appeal_due step's).
    (waited,) = [t for t in decisions.timers if t.ended_by == "file_appeal"]
    assert waited.workflow_id == appeal_id and waited.outcome == "cancelled"
    assert waited.guarded is not None and waited.guarded.kind == "appeal"
    assert waited.guarded.due == decided.steps[0].due
    assert decisions.outcome is not None and decisions.outcome.unbalanced == []
    assert decisions.outcome.disagreements == []
