"""The billing team's worklist: tasks the engine opens when a deadline comes near or a
follow-up needs a person (DOMAIN.md §4.6), and closes when the claim moves on."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger import tables as t
from ledger.db import in_transaction, upsert, utcnow
from ledger.queries import row_dict


def task_key(workflow_id: str, kind: str, due: date | None) -> str:
    return f"{workflow_id}/{kind}/{due.isoformat() if due else '-'}"


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
) -> str:
    """Open a task once: a retried attempt finds it and leaves it as it is (a closed task
    stays closed). Returns its key."""
    key = task_key(workflow_id, kind, due)

    def work(session: Session) -> None:
        if session.get(t.WorklistTask, key) is None:
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
    engine: Engine, *, workflow_id: str, resolution: str, kind: str | None = None
) -> int:
    """Close the workflow's open tasks (of `kind`, or all) with the reason; how many were
    closed."""

    def work(session: Session) -> int:
        query = select(t.WorklistTask).where(
            t.WorklistTask.workflow_id == workflow_id, t.WorklistTask.status == "open"
        )
        if kind is not None:
            query = query.where(t.WorklistTask.kind == kind)
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
    engine: Engine, *, encounter_id: str | None = None, include_closed: bool = False
) -> list[dict[str, Any]]:
    """Tasks by due date (then opening day), the soonest first."""
    query = select(t.WorklistTask)
    if encounter_id:
        query = query.where(t.WorklistTask.encounter_id == encounter_id)
    if not include_closed:
        query = query.where(t.WorklistTask.status == "open")
    with Session(engine) as session:
        rows = session.exec(query).all()
    rows = sorted(rows, key=lambda r: (r.due or date.max, r.opened_on, r.key))
    return [row_dict(row) for row in rows]
