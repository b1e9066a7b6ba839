"""People working the worklist on real ledgers (SQLite, then PostgreSQL when
COB_TEST_DATABASE_URL is set): two people never hold the same task, each action is one
transaction with its audit event naming who did it, and a task is never snoozed past its
own due date."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger import tables as t
from ledger import task_actions, worklist
from ledger.audit_chain import verify_chain
from ledger.db import dispose_engine, make_engine, utcnow
from ledger.queries import audit_events
from ledger.task_actions import (
    AmbiguousTaskKey,
    InvalidTaskAction,
    TaskClosed,
    TaskNotClaimed,
    TaskNotFound,
    TaskTaken,
    claim_task,
    find_task_key,
    reassign_task,
    release_task,
    resolve_task,
    snooze_task,
    tasks_held,
)
from ledger.users import UserDisabled, add_user, disable_user

TODAY = utcnow().date()
CLAIM_WF = "encounter-E7/claim-MCARE-1"


def open_task(engine: Engine, kind: str = "filing_escalation", due_in: int = 30,
              workflow_id: str = CLAIM_WF) -> str:  # fmt: skip
    return worklist.open_task(
        engine, workflow_id=workflow_id, encounter_id="E7", payer_id="MCARE",
        claim_control_number="E7-1", kind=kind, reason="30 days to the timely filing deadline",
        due=TODAY + timedelta(days=due_in), opened_on=TODAY,
    )  # fmt: skip


def users(engine: Engine, **roles: str) -> dict:
    return {name: add_user(engine, name, role, by="root")[0] for name, role in roles.items()}


def row(engine: Engine, key: str) -> t.WorklistTask:
    with Session(engine) as session:
        found = session.get(t.WorklistTask, key)
        assert found is not None
        return found


def test_two_people_claiming_the_same_task_at_once_one_wins(ledger_engine: Engine):
    people = users(ledger_engine, ana="biller", ben="biller", cy="supervisor", dee="biller")
    keys = [open_task(ledger_engine, kind=f"kind_{n}") for n in range(4)]
    for key in keys:
        start = threading.Barrier(len(people))

        def attempt(name: str, key: str = key, start: threading.Barrier = start) -> str:
            start.wait()
            try:
                claim_task(ledger_engine, key, people[name])
                return "won"
            except TaskTaken as taken:
                return f"taken by {taken.holder}"

        with ThreadPoolExecutor(len(people)) as pool:
            results = dict(zip(people, pool.map(attempt, people), strict=True))
        winners = [name for name, result in results.items() if result == "won"]
        assert len(winners) == 1, results
        assert row(ledger_engine, key).assignee == winners[0]
        assert sorted(results.values()).count(f"taken by {winners[0]}") == len(people) - 1
        claimed = [e for e in audit_events(ledger_engine, CLAIM_WF) if e["detail"]["task"] == key]
        assert [(e["kind"], e["detail"]["by"]) for e in claimed] == [("task_claimed", winners[0])]
    assert verify_chain(ledger_engine).intact


def test_claiming_your_own_task_changes_nothing_and_a_closed_task_cannot_be_claimed(
    ledger_engine: Engine,
):
    people = users(ledger_engine, ana="biller")
    key = open_task(ledger_engine)
    assert claim_task(ledger_engine, key, people["ana"]).changed
    again = claim_task(ledger_engine, key, people["ana"])
    assert not again.changed and again.task["assignee"] == "ana"
    assert len(audit_events(ledger_engine, CLAIM_WF)) == 1
    other = open_task(ledger_engine, kind="claim_lost")
    worklist.close_tasks(ledger_engine, workflow_id=CLAIM_WF, resolution="835 posted",
                         kind="claim_lost")  # fmt: skip
    with pytest.raises(TaskClosed, match=r"is closed \(835 posted\)"):
        claim_task(ledger_engine, other, people["ana"])


def test_resolving_takes_a_note_and_the_assignee_or_a_supervisor(ledger_engine: Engine):
    people = users(ledger_engine, ana="biller", ben="biller", cy="supervisor")
    key = open_task(ledger_engine)
    with pytest.raises(TaskNotClaimed, match="claim it before resolving it"):
        resolve_task(ledger_engine, key, people["ana"], "called MCARE")
    claim_task(ledger_engine, key, people["ana"])
    with pytest.raises(TaskTaken, match="is claimed by ana"):
        resolve_task(ledger_engine, key, people["ben"], "called MCARE")
    with pytest.raises(InvalidTaskAction, match="^note: "):
        resolve_task(ledger_engine, key, people["ana"], "   ")
    assert row(ledger_engine, key).status == "open"

    done = resolve_task(ledger_engine, key, people["cy"], "  claim reprocessed, ICN 123  ")
    assert done.task["status"] == "closed"
    assert done.task["resolution"] == "resolved by cy: claim reprocessed, ICN 123"
    assert (done.task["resolved_by"], done.task["resolution_note"], done.task["assignee"]) == (
        "cy", "claim reprocessed, ICN 123", "ana")  # fmt: skip
    with pytest.raises(TaskClosed):
        resolve_task(ledger_engine, key, people["ana"], "again")


def test_a_task_is_never_snoozed_past_its_due_date(ledger_engine: Engine):
    people = users(ledger_engine, ana="biller", ben="biller")
    key = open_task(ledger_engine, due_in=10)
    due = TODAY + timedelta(days=10)
    with pytest.raises(InvalidTaskAction, match=f"until: {due + timedelta(days=1)} is after the task's due date {due}"):  # fmt: skip
        snooze_task(ledger_engine, key, people["ana"], due + timedelta(days=1))
    with pytest.raises(InvalidTaskAction, match="is not after today"):
        snooze_task(ledger_engine, key, people["ana"], TODAY)
    assert row(ledger_engine, key).snoozed_until is None

    snoozed = snooze_task(ledger_engine, key, people["ana"], due)  # the due day itself is fine
    assert snoozed.changed and snoozed.task["snoozed_until"] == due.isoformat()
    assert snoozed.task["assignee"] is None  # snoozing does not claim
    assert not snooze_task(ledger_engine, key, people["ana"], due).changed
    claim_task(ledger_engine, key, people["ana"])
    with pytest.raises(TaskTaken):
        snooze_task(ledger_engine, key, people["ben"], TODAY + timedelta(days=2))
    listed = {task["key"]: task for task in worklist.tasks(ledger_engine)}
    assert listed[key]["snoozed_until"] == due.isoformat() and listed[key]["assignee"] == "ana"


def test_releasing_gives_the_task_back_to_the_worklist(ledger_engine: Engine):
    people = users(ledger_engine, ana="biller", ben="biller", cy="supervisor")
    key = open_task(ledger_engine)
    assert not release_task(ledger_engine, key, people["ana"]).changed  # nobody holds it
    claim_task(ledger_engine, key, people["ana"])
    with pytest.raises(TaskTaken):
        release_task(ledger_engine, key, people["ben"])
    released = release_task(ledger_engine, key, people["cy"])
    assert (released.task["assignee"], released.task["claimed_at"]) == (None, None)
    assert claim_task(ledger_engine, key, people["ben"]).task["assignee"] == "ben"


def test_a_task_is_reassigned_only_to_an_active_biller_or_supervisor(ledger_engine: Engine):
    people = users(ledger_engine, ana="biller", ben="biller", cy="supervisor", max="auditor",
                   root="admin", gone="biller")  # fmt: skip
    disable_user(ledger_engine, "gone", by="root")
    key = open_task(ledger_engine)
    claim_task(ledger_engine, key, people["ana"])
    for to, why in (("max", "is a auditor"), ("root", "is a admin"), ("gone", "is disabled"),
                    ("nobody", "is no such user")):  # fmt: skip
        with pytest.raises(InvalidTaskAction, match=f"^to: '{to}' {why}"):
            reassign_task(ledger_engine, key, people["cy"], to)
    moved = reassign_task(ledger_engine, key, people["cy"], "ben")
    assert moved.changed and moved.task["assignee"] == "ben"
    assert not reassign_task(ledger_engine, key, people["cy"], "ben").changed
    assert tasks_held(ledger_engine, "ben") == [key] and tasks_held(ledger_engine, "ana") == []


def test_every_action_is_an_audit_event_naming_who_did_it(ledger_engine: Engine):
    people = users(ledger_engine, ana="biller", ben="biller", cy="supervisor")
    key = open_task(ledger_engine)
    until = TODAY + timedelta(days=5)
    claim_task(ledger_engine, key, people["ana"])
    snooze_task(ledger_engine, key, people["ana"], until)
    release_task(ledger_engine, key, people["ana"])
    claim_task(ledger_engine, key, people["ben"])
    reassign_task(ledger_engine, key, people["cy"], "ana")
    resolve_task(ledger_engine, key, people["ana"], "appeal sent")
    events = audit_events(ledger_engine, CLAIM_WF)
    assert [(e["step"], e["kind"], e["detail"]["by"]) for e in events] == [
        (f"task:{key}:claim:1", "task_claimed", "ana"),
        (f"task:{key}:snooze:2", "task_snoozed", "ana"),
        (f"task:{key}:release:3", "task_released", "ana"),
        (f"task:{key}:claim:4", "task_claimed", "ben"),
        (f"task:{key}:reassign:5", "task_reassigned", "cy"),
        (f"task:{key}:resolve:6", "task_resolved", "ana"),
    ]
    assert all(e["detail"]["on"] == TODAY.isoformat() and e["detail"]["task"] == key
               for e in events)  # fmt: skip
    assert events[1]["detail"]["until"] == until.isoformat()
    assert (events[4]["detail"]["from"], events[4]["detail"]["to"]) == ("ben", "ana")
    assert events[5]["detail"]["note"] == "appeal sent"
    assert events[5]["detail"]["reason"] == "resolved by ana: appeal sent"
    assert verify_chain(ledger_engine).intact


def test_an_action_and_its_audit_event_are_one_transaction(
    ledger_engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    """The event is appended, then the transaction fails: neither the claim nor the event
    is left behind."""
    people = users(ledger_engine, ana="biller")
    key = open_task(ledger_engine)
    real_append = task_actions.append_audit_event

    def append_then_fail(*args, **kwargs):
        assert real_append(*args, **kwargs)
        raise RuntimeError("the machine stops here")

    monkeypatch.setattr(task_actions, "append_audit_event", append_then_fail)
    with pytest.raises(RuntimeError, match="the machine stops here"):
        claim_task(ledger_engine, key, people["ana"])
    assert row(ledger_engine, key).assignee is None
    assert audit_events(ledger_engine, CLAIM_WF) == []
    monkeypatch.undo()
    assert claim_task(ledger_engine, key, people["ana"]).changed
    assert len(audit_events(ledger_engine, CLAIM_WF)) == 1
    assert verify_chain(ledger_engine).intact


def test_the_engine_closing_a_claimed_task_keeps_who_had_it(ledger_engine: Engine):
    people = users(ledger_engine, ana="biller")
    key = open_task(ledger_engine, kind="correction_needed")
    claim_task(ledger_engine, key, people["ana"])
    closed = worklist.close_tasks(ledger_engine, workflow_id=CLAIM_WF,
                                  resolution="correction accepted")  # fmt: skip
    assert closed == 1
    task = row(ledger_engine, key)
    assert (task.status, task.resolution, task.assignee) == ("closed", "correction accepted", "ana")
    assert task.resolved_by is None  # the engine closed it, not a person
    assert tasks_held(ledger_engine, "ana") == []


def test_a_disabled_user_can_no_longer_act_with_an_object_from_before(ledger_engine: Engine):
    people = users(ledger_engine, ana="biller")
    key = open_task(ledger_engine)
    disable_user(ledger_engine, "ana", by="root")
    with pytest.raises(UserDisabled):
        claim_task(ledger_engine, key, people["ana"])
    assert row(ledger_engine, key).assignee is None


def test_a_key_is_found_from_a_unique_start_and_an_ambiguous_one_is_named(
    ledger_engine: Engine,
):
    first = open_task(ledger_engine, kind="appeal_due", due_in=20)
    second = open_task(ledger_engine, kind="appeal_due", due_in=40)
    third = open_task(ledger_engine, kind="under_paid")
    assert find_task_key(ledger_engine, first) == first
    assert find_task_key(ledger_engine, first[:-3]) == first
    assert find_task_key(ledger_engine, f"{CLAIM_WF}/under_") == third
    with pytest.raises(AmbiguousTaskKey, match=r"is the start of 2 task keys .*give more"):
        find_task_key(ledger_engine, f"{CLAIM_WF}/appeal_due/")
    assert second.startswith(f"{CLAIM_WF}/appeal_due/")
    with pytest.raises(TaskNotFound):
        find_task_key(ledger_engine, f"{CLAIM_WF}/under%")  # '%' is itself, not a wildcard
    with pytest.raises(TaskNotFound):
        find_task_key(ledger_engine, CLAIM_WF.upper())  # case counts, on SQLite too
    with pytest.raises(TaskNotFound):
        find_task_key(ledger_engine, "")


def test_an_older_ledger_gets_the_new_task_columns_on_open(tmp_path: Path):
    """A worklist_tasks table from before people worked it: opening the ledger adds the
    nullable columns, and its tasks can be claimed."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    with old.begin() as connection:
        connection.execute(text(
            "CREATE TABLE worklist_tasks (key VARCHAR PRIMARY KEY, encounter_id VARCHAR NOT NULL,"
            " workflow_id VARCHAR NOT NULL, payer_id VARCHAR NOT NULL, claim_control_number"
            " VARCHAR, kind VARCHAR NOT NULL, reason TEXT NOT NULL, due DATE, opened_on DATE NOT"
            " NULL, status VARCHAR NOT NULL, resolution VARCHAR NOT NULL, updated_at DATETIME"
            " NOT NULL)"
        ))  # fmt: skip
        connection.execute(text(
            "INSERT INTO worklist_tasks VALUES ('wf-1/underpaid/2099-01-01', 'E1', 'wf-1',"
            " 'MCARE', NULL, 'underpaid', 'paid 10.00 less', '2099-01-01', :today, 'open', '',"
            " :today)"
        ), {"today": date.today().isoformat()})  # fmt: skip
    old.dispose()
    try:
        engine = make_engine(url)
        ana = add_user(engine, "ana", "biller", by="root")[0]
        claimed = claim_task(engine, "wf-1/underpaid/2099-01-01", ana)
        assert claimed.task["assignee"] == "ana" and claimed.task["resolution_note"] is None
    finally:
        dispose_engine(url)


def test_a_snoozed_task_is_left_out_until_its_day_when_asked(ledger_engine: Engine):
    people = users(ledger_engine, ana="biller")
    key = open_task(ledger_engine, due_in=10)
    other = open_task(ledger_engine, kind="status_check", due_in=5)
    until = TODAY + timedelta(days=3)
    snooze_task(ledger_engine, key, people["ana"], until)

    def keys(on: date | None) -> set[str]:
        return {task["key"] for task in worklist.tasks(ledger_engine, snoozed_on=on)}

    assert keys(None) == keys(until) == keys(until + timedelta(days=1)) == {key, other}
    assert keys(TODAY) == keys(until - timedelta(days=1)) == {other}


def test_a_payer_task_that_comes_back_is_nobodys_and_not_snoozed(ledger_engine: Engine):
    people = users(ledger_engine, ana="biller")

    def payer_task() -> str:
        return worklist.open_task(
            ledger_engine, workflow_id="encounter-E9", encounter_id="E9", payer_id="ACME01",
            claim_control_number=None, kind="payer_unreachable", reason="no answer",
            due=TODAY + timedelta(days=5), opened_on=TODAY, per_payer=True,
        )  # fmt: skip

    key = payer_task()
    claim_task(ledger_engine, key, people["ana"])
    snooze_task(ledger_engine, key, people["ana"], TODAY + timedelta(days=2))
    worklist.close_tasks(ledger_engine, workflow_id="encounter-E9", resolution="the payer answered",
                         kind="payer_unreachable", payer_id="ACME01")  # fmt: skip
    assert row(ledger_engine, key).status == "closed"
    assert payer_task() == key  # the fault is back: the same task, open again
    again = row(ledger_engine, key)
    assert again.status == "open" and again.assignee is None and again.snoozed_until is None
