"""The billing team's worklist: tasks the engine opens when a deadline comes near or a
follow-up needs a person (industry practice; configurable), and closes when the claim moves on."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger import tables as t
from ledger.db import in_transaction, upsert, utcnow
from ledger.queries import row_dict


def task_key(workflow_id: str, kind: str, due: date | None, payer_id: str | None = None) -> str:
    """One task per workflow, kind and due date; with `payer_id`, one per payer too (an
    encounter asks several payers at once)."""
    about = f"{kind}/{payer_id}" if payer_id else kind
    return f"{workflow_id}/{about}/{due.isoformat() if due else '-'}"


def open_task(
    engine: Engine,
    *,
    workflow_id: str,
    encounter_id: str,
    payer_id: str,
    claim_control_number: str | None,
    kind: str,
    reason: str,
    due: date | None,
    opened_on: date,
    per_payer: bool = False,
) -> str:
    """Open a task once: a retried attempt finds it and leaves it as it is (a closed task
    stays closed). A payer's task (`per_payer`: a payer fault, closed when the payer answers)
    is opened again when the fault comes back before its due date changes. Returns its key."""
    key = task_key(workflow_id, kind, due, payer_id if per_payer else None)

    def work(session: Session) -> None:
        found = session.get(t.WorklistTask, key)
        if found is not None and per_payer and found.status == "closed":
            # the payer's fault is back: new work, so nobody holds it yet and no snooze stands
            upsert(session, t.WorklistTask, {"key": key},
                   {"status": "open", "reason": reason, "resolution": "", "assignee": None,
                    "claimed_at": None, "snoozed_until": None, "resolved_by": None,
                    "resolution_note": None})  # fmt: skip
        elif found is None:
            session.add(
                t.WorklistTask(
                    key=key, encounter_id=encounter_id, workflow_id=workflow_id,
                    payer_id=payer_id, claim_control_number=claim_control_number, kind=kind,
                    reason=reason, due=due, opened_on=opened_on, updated_at=utcnow(),
                )
            )  # fmt: skip

    in_transaction(engine, work)
    return key


def close_tasks(
    engine: Engine,
    *,
    workflow_id: str,
    resolution: str,
    kind: str | None = None,
    payer_id: str | None = None,
) -> int:
    """Close the workflow's open tasks (of `kind` and `payer_id` where given, or all) with
    the reason; how many were closed."""

    def work(session: Session) -> int:
        query = select(t.WorklistTask).where(
            t.WorklistTask.workflow_id == workflow_id, t.WorklistTask.status == "open"
        )
        if kind is not None:
            query = query.where(t.WorklistTask.kind == kind)
        if payer_id is not None:
            query = query.where(t.WorklistTask.payer_id == payer_id)
        rows = session.exec(query).all()
        for row in rows:
            upsert(
                session,
                t.WorklistTask,
                {"key": row.key},
                {"status": "closed", "resolution": resolution},
            )
        return len(rows)

    return in_transaction(engine, work)


def tasks(
    engine: Engine,
    *,
    encounter_id: str | None = None,
    include_closed: bool = False,
    snoozed_on: date | None = None,
) -> list[dict[str, Any]]:
    """Tasks by due date (then opening day), the soonest first. With `snoozed_on` (a day),
    a task snoozed past that day is left out until it comes back."""
    query = select(t.WorklistTask)
    if encounter_id:
        query = query.where(t.WorklistTask.encounter_id == encounter_id)
    if not include_closed:
        query = query.where(t.WorklistTask.status == "open")
    if snoozed_on is not None:
        snoozed = col(t.WorklistTask.snoozed_until)
        query = query.where(snoozed.is_(None) | (snoozed <= snoozed_on))
    with Session(engine) as session:
        rows = session.exec(query).all()
    rows = sorted(rows, key=lambda r: (r.due or date.max, r.opened_on, r.key))
    return [row_dict(row) for row in rows]
