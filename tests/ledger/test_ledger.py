"""The ledger on real databases. `ledger_engine` (tests/ledger_db.py, loaded by conftest's
pytest_plugins) is a SQLite file, then PostgreSQL when COB_TEST_DATABASE_URL is set."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cob import model
from cob.money import account_line
from ledger import tables as t
from ledger import worklist
from ledger.db import database_url, dispose_engine, make_engine
from ledger.queries import audit_events, encounter_summary, encounter_timeline, unbalanced_lines
from ledger.writes import (
    EncounterNotRecorded,
    append_audit_event,
    record_claim,
    record_coverages,
    record_encounter,
    record_patient_balance,
)

PROVIDER = model.Provider(name="Elm Street Clinic", npi="1234567893", tax_id="123456789")
PATIENT = model.Person(first_name="Ada", last_name="Lovelace", birth_date=date(1980, 12, 10))
PRIMARY = model.Coverage(
    payer_id="AETNA", member_id="A1", plan_type="commercial", effective_date=date(2024, 1, 1)
)
SECONDARY = model.Coverage(
    payer_id="BCBS", member_id="B2", plan_type="commercial", effective_date=date(2024, 1, 1)
)


def encounter(*charges: str) -> model.Encounter:
    lines = [
        model.ServiceLine(line_number=n, procedure_code="99213", charge=D(charge))
        for n, charge in enumerate(charges or ("200.00",), start=1)
    ]
    return model.Encounter(
        encounter_id="ENC-1",
        patient=PATIENT,
        billing_provider=PROVIDER,
        service_date=date(2025, 3, 4),
        diagnoses=["J20.9"],
        lines=lines,
    )


def start(engine: Engine, *charges: str) -> None:
    record_encounter(
        engine, workflow_id="wf-ENC-1", encounter=encounter(*charges), status="billing"
    )


def remittance(
    ccn: str, coverage: model.Coverage, pcn: str, paid: str, cas: str, status: str = "1"
) -> model.Remittance:
    """One 835 claim for line 1 (charge 200.00); `cas` reads like "CO-45 50.00, PR-1 20.00"."""
    sequence = 1 if coverage is PRIMARY else 2
    adjustments = [
        model.Adjustment(group=code[:2], reason=code[3:], amount=D(amount))
        for code, amount in (item.split() for item in cas.split(", "))
    ]
    line = model.LineAdjudication(
        line_number=1,
        procedure_code="99213",
        charge=D("200.00"),
        allowed=D("150.00"),
        paid=D(paid),
        adjustments=adjustments,
        remarks=["N130"] if sequence == 1 else [],
    )
    return model.Remittance(
        claim_control_number=ccn,
        payer_id=coverage.payer_id,
        member_id=coverage.member_id,
        payer_claim_number=pcn,
        payer_sequence=sequence,
        status=status,
        adjudication_date=date(2025, 4, 1),
        lines=[line],
    )


def claim(
    engine: Engine,
    rem: model.Remittance,
    coverage: model.Coverage,
    frequency="1",
    original: str | None = None,
) -> None:
    ccn = rem.claim_control_number
    submission = model.ClaimSubmission(
        claim_control_number=ccn,
        frequency=frequency,
        original_payer_claim_number=original,
        coverage=coverage,
        payer_sequence=rem.payer_sequence,
        encounter=encounter(),
    )
    ack = model.ClaimAcknowledgment(
        claim_control_number=ccn, accepted=True, payer_claim_number=rem.payer_claim_number
    )
    record_claim(engine, encounter_id="ENC-1", submission=submission, ack=ack, remittance=rem)


# Primary: charge 200.00, allowed 150.00, paid 100.00, CO-45 50.00, PR-1 20.00, PR-2 30.00.
PRIMARY_835 = remittance(
    "ENC-1-1", PRIMARY, "AET-9", "100.00", "CO-45 50.00, PR-1 20.00, PR-2 30.00"
)
# Secondary: OA-23 150.00 (the primary's impact), paid 30.00, PR-2 20.00: the patient owes 20.00.
SECONDARY_835 = remittance("ENC-1-2", SECONDARY, "BC-7", "30.00", "OA-23 150.00, PR-2 20.00")


def record_balance(engine: Engine, *remittances: model.Remittance) -> None:
    account = account_line(1, "99213", D("200.00"), list(remittances))
    record_patient_balance(
        engine,
        encounter_id="ENC-1",
        accounts=[account],
        statement_path="statements/ENC-1.pdf",
        status="closed",
    )


def record_two_payer_case(engine: Engine) -> None:
    start(engine)
    claim(engine, PRIMARY_835, PRIMARY)
    claim(engine, SECONDARY_835, SECONDARY)
    record_balance(engine, PRIMARY_835, SECONDARY_835)


CLAIM_TABLES = (t.Claim, t.LineAdjudication, t.LineAdjustment)


def rows(engine: Engine, table: type) -> list[dict]:
    with Session(engine) as session:
        return [row.model_dump() for row in session.exec(select(table))]


def test_recording_an_encounter_twice_leaves_one_identical_row(ledger_engine: Engine) -> None:
    start(ledger_engine)
    first = rows(ledger_engine, t.Encounter)
    start(ledger_engine)
    assert rows(ledger_engine, t.Encounter) == first
    assert len(first) == 1 and first[0]["patient_name"] == "Ada Lovelace"


def test_record_claim_twice_leaves_the_same_lines_and_adjustments(ledger_engine: Engine) -> None:
    claim(ledger_engine, PRIMARY_835, PRIMARY)
    before = [rows(ledger_engine, table) for table in CLAIM_TABLES]
    claim(ledger_engine, PRIMARY_835, PRIMARY)
    after = [rows(ledger_engine, table) for table in CLAIM_TABLES]
    assert after == before
    assert [len(found) for found in after] == [1, 1, 3]
    cas = [(a["group_code"], a["reason_code"], a["amount"]) for a in after[2]]
    assert sorted(cas) == [
        ("CO", "45", D("50.00")),
        ("PR", "1", D("20.00")),
        ("PR", "2", D("30.00")),
    ]
    # A corrected 835 for the same claim replaces the set rather than adding to it.
    claim(ledger_engine, remittance("ENC-1-1", PRIMARY, "AET-9", "100.00", "CO-45 100.00"), PRIMARY)
    assert [len(rows(ledger_engine, table)) for table in CLAIM_TABLES] == [1, 1, 1]


def test_audit_event_with_the_same_step_twice_is_recorded_once(ledger_engine: Engine) -> None:
    def audit(step: str, detail: dict) -> bool:
        return append_audit_event(
            ledger_engine, workflow_id="wf-1", step=step, kind="claim", detail=detail
        )

    assert audit("claim:1", {"paid": D("100.00"), "service_date": date(2025, 3, 4)})
    assert not audit("claim:1", {"paid": D("1.00")})
    assert audit("close", {})
    events = audit_events(ledger_engine, "wf-1")
    assert [e["step"] for e in events] == ["claim:1", "close"]
    assert events[0]["detail"] == {"paid": "100.00", "service_date": "2025-03-04"}


def test_timeline_matches_the_workflow_id_as_written_never_as_a_pattern(ledger_engine: Engine):
    for workflow_id in (
        "encounter-E1", "encounter-E1/claim-1-ACME01", "encounter-E2/claim-1-BLUE02",
        "encounter-100%", "encounter-100%/claim-1-ACME01", "encounter-a_b/claim-1-MCARE",
        "encounter-a\\b/claim-1-MCARE", "encounter-x/y/claim-1-MCARE",
    ):  # fmt: skip
        append_audit_event(
            ledger_engine, workflow_id=workflow_id, step="start", kind="started", detail={}
        )

    def found(workflow_id: str) -> list[str]:
        return [e["workflow_id"] for e in encounter_timeline(ledger_engine, workflow_id)]

    # `cob timeline %` and `cob timeline _`: wildcards match only themselves
    for pattern in ("%", "_", "encounter-%", "encounter-_", "encounter-E_", "encounter-%1"):
        assert found(pattern) == [], pattern
    assert found("encounter-e1") == []  # SQLite's LIKE would ignore the case
    assert found("encounter-aXb") == [] and found("encounter-a") == []
    assert found("encounter-E1") == ["encounter-E1", "encounter-E1/claim-1-ACME01"]
    assert found("encounter-100%") == ["encounter-100%", "encounter-100%/claim-1-ACME01"]
    assert found("encounter-a_b") == ["encounter-a_b/claim-1-MCARE"]
    assert found("encounter-a\\b") == ["encounter-a\\b/claim-1-MCARE"]
    assert found("encounter-x") == ["encounter-x/y/claim-1-MCARE"]  # '/' escaped too


def race(attempt: Callable[[], object], attempts: int = 6) -> list[object]:
    """Run the same activity body in parallel, as overlapping at-least-once attempts do."""
    with ThreadPoolExecutor(attempts) as pool:
        return [f.result() for f in [pool.submit(attempt) for _ in range(attempts)]]


def test_racing_audit_attempts_insert_exactly_once(ledger_engine: Engine) -> None:
    audit = dict(workflow_id="wf-2", step="eligibility", kind="eligibility", detail={})
    results = race(lambda: append_audit_event(ledger_engine, **audit))
    assert sorted(results) == [False] * 5 + [True]
    assert len(audit_events(ledger_engine, "wf-2")) == 1


def test_racing_claim_attempts_leave_one_set_of_rows(ledger_engine: Engine) -> None:
    race(lambda: claim(ledger_engine, PRIMARY_835, PRIMARY))
    assert [len(rows(ledger_engine, table)) for table in CLAIM_TABLES] == [1, 1, 3]


def test_balanced_two_payer_case_has_no_problems(ledger_engine: Engine) -> None:
    record_two_payer_case(ledger_engine)
    assert unbalanced_lines(ledger_engine) == []
    assert unbalanced_lines(ledger_engine, "ENC-1") == []
    summary = encounter_summary(ledger_engine, "ENC-1")
    assert summary["patient_responsibility"] == "20.00" and summary["status"] == "closed"
    assert summary["balance"]["balance"] == "20.00"
    assert [c["payer_id"] for c in summary["claims"]] == ["AETNA", "BCBS"]
    assert summary["claims"][0]["lines"][0]["remarks"] == ["N130"]
    assert len(summary["claims"][0]["lines"][0]["adjustments"]) == 3


def test_coverages_take_position_from_the_order_and_reason_from_the_271(
    ledger_engine: Engine,
) -> None:
    medicaid = PRIMARY.model_copy(
        update={"payer_id": "MCD", "member_id": "M3", "plan_type": "medicaid"}
    )
    benefits = [
        model.Benefits(payer_id="AETNA", member_id="A1", active=True, plan_type="commercial"),
        model.Benefits(payer_id="BCBS", member_id="B2", active=True, plan_type="commercial"),
        model.Benefits(
            payer_id="MCD", member_id="M3", active=False, reason="terminated", plan_type="medicaid"
        ),
    ]
    decision = model.OrderDecision(
        higher="AETNA:A1", lower="BCBS:B2", rule="subscriber", citation="NAIC MDL-120 §6 rule 1"
    )
    order = model.PayerOrder(
        coverages=[PRIMARY, SECONDARY],
        decisions=[decision],
        excluded={"MCD:M3": "inactive on date of service"},
    )
    coverages = dict(
        encounter_id="ENC-1",
        benefits=benefits,
        order=order,
        coverages=[medicaid, SECONDARY, PRIMARY],
    )
    with pytest.raises(EncounterNotRecorded):
        record_coverages(ledger_engine, **coverages)
    start(ledger_engine)
    record_coverages(ledger_engine, **coverages)
    record_coverages(ledger_engine, **coverages)
    summary = encounter_summary(ledger_engine, "ENC-1")
    found = [
        (c["payer_id"], c["position"], c["active"], c["inactive_reason"])
        for c in summary["coverages"]
    ]
    assert found == [
        ("AETNA", 1, True, ""),
        ("BCBS", 2, True, ""),
        ("MCD", None, False, "inactive on date of service"),
    ]
    assert summary["payer_order"] == ["AETNA", "BCBS"]
    assert summary["order_rules"][0]["rule"] == "subscriber"


def test_tampered_amount_is_reported(ledger_engine: Engine) -> None:
    record_two_payer_case(ledger_engine)
    with Session(ledger_engine) as session:
        co45 = session.get(t.LineAdjustment, ("ENC-1-1", 1, 1))
        co45.amount = D("49.00")
        session.commit()
    problems = unbalanced_lines(ledger_engine)
    assert problems and all(p.startswith("encounter ENC-1: ") for p in problems)
    assert "payer AETNA line 1: charge 200.00 != paid 100.00 + adjustments 99.00" in problems[0]


def test_tampered_balance_is_reported(ledger_engine: Engine) -> None:
    record_two_payer_case(ledger_engine)
    with Session(ledger_engine) as session:
        session.get(t.PatientBalance, "ENC-1").balance = D("25.00")
        session.commit()
    assert (
        "patient balance 25.00 != patient responsibility 20.00"
        in unbalanced_lines(ledger_engine, "ENC-1")[0]
    )


def test_frequency_7_replacement_marks_the_original_and_only_it_counts(
    ledger_engine: Engine,
) -> None:
    # The original was denied for missing information (CO-16): counting it too would
    # write the whole charge off twice.
    denied = remittance("ENC-1-1", PRIMARY, "AET-9", "0.00", "CO-16 200.00", status="4")
    corrected = PRIMARY_835.model_copy(update={"claim_control_number": "ENC-1-1R"})
    start(ledger_engine)
    claim(ledger_engine, denied, PRIMARY)
    for _ in range(2):
        claim(ledger_engine, corrected, PRIMARY, "7", original="AET-9")
    claim(ledger_engine, SECONDARY_835, SECONDARY)
    record_balance(ledger_engine, corrected, SECONDARY_835)

    summary = encounter_summary(ledger_engine, "ENC-1")
    claims = {c["claim_control_number"]: c for c in summary["claims"]}
    assert claims["ENC-1-1"]["replaced_by"] == "ENC-1-1R"
    assert claims["ENC-1-1R"]["replaced_by"] is None and claims["ENC-1-1R"]["frequency"] == "7"
    assert unbalanced_lines(ledger_engine) == []


def test_decimal_round_trips_exactly(ledger_engine: Engine) -> None:
    start(ledger_engine, "0.10", "0.20")
    with Session(ledger_engine) as session:
        total = session.get(t.Encounter, "ENC-1").total_charge
    assert total == D("0.30") and str(total) == "0.30"
    assert encounter_summary(ledger_engine, "ENC-1")["total_charge"] == "0.30"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cents=st.integers(min_value=1, max_value=999_999_999_999))
def test_any_amount_in_cents_round_trips(ledger_engine: Engine, cents: int) -> None:
    amount = D(cents).scaleb(-2)
    start(ledger_engine, str(amount))
    with Session(ledger_engine) as session:
        assert str(session.get(t.Encounter, "ENC-1").total_charge) == str(amount)


def test_default_ledger_is_a_sqlite_file_in_cob_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url() == f"sqlite:///{tmp_path / 'home' / 'ledger.db'}"
    engine = make_engine()
    try:
        assert make_engine() is engine and (tmp_path / "home" / "ledger.db").exists()
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        dispose_engine()


def test_a_payer_fault_task_comes_back_open_when_the_fault_does(ledger_engine: Engine) -> None:
    """A payer's fault task closes when the payer answers; the same fault the same day opens
    it again (its key is the same), while an ordinary task once closed stays closed."""
    task = dict(workflow_id="encounter-F1", encounter_id="F1", claim_control_number=None,
                due=date(2026, 12, 3), opened_on=date(2026, 12, 1))  # fmt: skip
    worklist.open_task(ledger_engine, **task, payer_id="MCARE", kind="payer_unavailable",
                       reason="270: no answer", per_payer=True)  # fmt: skip
    worklist.open_task(ledger_engine, **task, payer_id="MCAID", kind="payer_unavailable",
                       reason="270: no answer", per_payer=True)  # fmt: skip
    worklist.open_task(ledger_engine, **task, payer_id="MCARE", kind="filing_escalation",
                       reason="30 days left")  # fmt: skip
    closed = worklist.close_tasks(ledger_engine, workflow_id="encounter-F1", resolution="answered",
                                  kind="payer_unavailable", payer_id="MCARE")  # fmt: skip
    assert closed == 1
    worklist.close_tasks(ledger_engine, workflow_id="encounter-F1", resolution="done",
                         kind="filing_escalation")  # fmt: skip
    worklist.open_task(ledger_engine, **task, payer_id="MCARE", kind="payer_unavailable",
                       reason="270: no answer again", per_payer=True)  # fmt: skip
    worklist.open_task(ledger_engine, **task, payer_id="MCARE", kind="filing_escalation",
                       reason="30 days left")  # fmt: skip
    open_now = {(r["kind"], r["payer_id"], r["reason"]) for r in worklist.tasks(ledger_engine)}
    assert open_now == {
        ("payer_unavailable", "MCARE", "270: no answer again"),
        ("payer_unavailable", "MCAID", "270: no answer"),
    }


def test_the_era_cursor_is_the_newest_835s_among_other_documents(ledger_engine: Engine):
    from ledger.documents import Document, last_era_cursor, record_documents, record_era

    assert last_era_cursor(ledger_engine) is None
    for n in range(1, 6):
        record_era(ledger_engine, claims=[], document=Document(
            key=f"835/{n}", transaction="835", direction="received", payer_id="ACME01",
            text="ISA*", era_cursor=f"c{n}",
        ))  # fmt: skip
        record_documents(ledger_engine, documents=[Document(
            key=f"837/{n}", transaction="837", direction="sent", payer_id="ACME01", text="ISA*",
        )])  # fmt: skip
    record_era(ledger_engine, claims=[], document=Document(
        key="835/posted", transaction="835", direction="received", payer_id="ACME01", text="ISA*",
    ))  # an 835 a person posted (`cob era post`): not from the feed, no cursor  # fmt: skip
    assert last_era_cursor(ledger_engine) == "c5"
