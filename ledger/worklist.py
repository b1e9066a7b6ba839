"""The billing team's worklist: tasks the engine opens when a deadline comes near or a
follow-up needs a person (industry practice; configurable), and closes when the claim moves on."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from ledger import tables as t
from ledger.db import in_transaction, upsert, utcnow
from ledger.queries import row_dict

ZERO = Decimal("0.00")
# tasks about records, not money: no amount is at stake
NO_MONEY_KINDS = frozenset({"archive_conflict"})


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
        rows = sorted(
            session.exec(query).all(), key=lambda r: (r.due or date.max, r.opened_on, r.key)
        )
        stakes = amounts_at_stake(session, rows)
    return [row_dict(row, at_stake=stakes[row.key]) for row in rows]


def amounts_at_stake(session: Session, rows: Iterable[t.WorklistTask]) -> dict[str, Decimal | None]:
    """What each task puts at stake, read from the ledger as it stands (so it follows the
    money as 835s post), by task key:

    - an underpaid claim: the shortfall, the sum over its lines of what the engine expected
      the payer to pay less what it paid (the encounter's `payment_review` audit event, which
      the engine records when the encounter closes; None until then);
    - any other task naming a claim the ledger holds: the claim's charge less what its payer
      paid (all of it while no 835 has come), as the engine states it in a correction task
      (cob.claims.amount_at_stake);
    - a task about the encounter (its order, a payer's eligibility) or a claim not in the
      ledger yet: the encounter's charge less what every claim not replaced has been paid;
    - a task about records (an archive conflict): None."""
    rows = list(rows)
    encounter_ids = {r.encounter_id for r in rows}
    claims = {
        c.claim_control_number: c
        for c in session.exec(select(t.Claim).where(col(t.Claim.encounter_id).in_(encounter_ids)))
    }
    encounters = {
        e.encounter_id: e
        for e in session.exec(
            select(t.Encounter).where(col(t.Encounter.encounter_id).in_(encounter_ids))
        )
    }
    shortfalls = _shortfalls(session, [e.workflow_id for e in encounters.values()])
    unpaid = {
        e.encounter_id: e.total_charge
        - sum(
            (
                c.total_paid or ZERO
                for c in claims.values()
                if c.encounter_id == e.encounter_id and c.replaced_by is None
            ),
            ZERO,
        )  # fmt: skip
        for e in encounters.values()
    }
    stakes: dict[str, Decimal | None] = {}
    for row in rows:
        claim = claims.get(row.claim_control_number) if row.claim_control_number else None
        encounter = encounters.get(row.encounter_id)
        if row.kind in NO_MONEY_KINDS:
            stakes[row.key] = None
        elif row.kind == "underpaid":
            key = (encounter.workflow_id, row.payer_id) if encounter else None
            stakes[row.key] = shortfalls.get(key) if key else None
        elif claim is not None:
            stakes[row.key] = claim.total_charge - (claim.total_paid or ZERO)
        else:
            stakes[row.key] = unpaid.get(row.encounter_id)
    return stakes


def _shortfalls(session: Session, workflow_ids: list[str]) -> dict[tuple[str, str], Decimal]:
    """(encounter workflow, payer) -> the payment review's shortfall: its lines' expected less
    paid where the payer paid less (step payment_review:<payer sequence>:<payer id>)."""
    found: dict[tuple[str, str], Decimal] = {}
    reviews = select(t.AuditEvent).where(
        t.AuditEvent.kind == "payment_review", col(t.AuditEvent.workflow_id).in_(workflow_ids)
    )
    for review in session.exec(reviews):
        payer = review.step.split(":", 2)[2]
        short = [
            Decimal(line["expected"]) - Decimal(line["paid"])
            for line in json.loads(review.detail)["lines"]
            if line.get("expected") is not None
        ]
        key = (review.workflow_id, payer)
        found[key] = found.get(key, ZERO) + sum((s for s in short if s > 0), ZERO)
    return found


def open_task_counts(engine: Engine) -> dict[str, int]:
    """How many tasks are open, by kind (the workers' tasks-open gauge: kinds, no ids)."""
    query = (
        select(t.WorklistTask.kind, func.count())
        .where(t.WorklistTask.status == "open")
        .group_by(t.WorklistTask.kind)
    )
    with Session(engine) as session:
        return {kind: count for kind, count in session.exec(query).all()}
