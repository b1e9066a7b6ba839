"""Reading the ledger back: one encounter's summary, the money-invariant audit, the timeline.

Every result is plain JSON-able data (Decimals and dates as strings), ready for the CLI,
the HTTP API and reports.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from cob import model
from cob.money import ZERO, LineAccount, UnbalancedLine, account_line, patient_balance
from ledger import tables as t


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def row_dict(row: SQLModel, **overrides: Any) -> dict[str, Any]:
    """The row's columns in table order, JSON-ready, with `overrides` replacing or adding keys."""
    columns = row.__table__.columns  # type: ignore[attr-defined]
    return {c.name: _plain(getattr(row, c.name)) for c in columns} | {
        key: _plain(value) for key, value in overrides.items()
    }


def _remarks(line: t.LineAdjudication) -> list[str]:
    return [remark for remark in line.remarks.split(",") if remark]


def _claims(session: Session, encounter_id: str) -> list[t.Claim]:
    query = select(t.Claim).where(t.Claim.encounter_id == encounter_id)
    order = (t.Claim.payer_sequence, t.Claim.claim_control_number)
    return list(session.exec(query.order_by(*order)))


def _lines(session: Session, ccn: str) -> list[tuple[t.LineAdjudication, list[t.LineAdjustment]]]:
    lines = session.exec(
        select(t.LineAdjudication)
        .where(t.LineAdjudication.claim_control_number == ccn)
        .order_by(t.LineAdjudication.line_number)
    )
    adjustments = session.exec(
        select(t.LineAdjustment)
        .where(t.LineAdjustment.claim_control_number == ccn)
        .order_by(t.LineAdjustment.line_number, t.LineAdjustment.seq)
    ).all()
    return [(ln, [a for a in adjustments if a.line_number == ln.line_number]) for ln in lines]


def encounter_summary(engine: Engine, encounter_id: str) -> dict[str, Any] | None:
    with Session(engine) as session:
        encounter = session.get(t.Encounter, encounter_id)
        if encounter is None:
            return None
        coverages = session.exec(select(t.Coverage).where(t.Coverage.encounter_id == encounter_id))
        by_position = sorted(coverages, key=lambda c: (c.position is None, c.position, c.payer_id))
        claims = [
            row_dict(
                claim,
                lines=[
                    row_dict(
                        line, remarks=_remarks(line), adjustments=[row_dict(a) for a in adjustments]
                    )
                    for line, adjustments in _lines(session, claim.claim_control_number)
                ],
            )
            for claim in _claims(session, encounter_id)
        ]
        balance = session.get(t.PatientBalance, encounter_id)
        return row_dict(
            encounter,
            payer_order=json.loads(encounter.payer_order),
            order_rules=json.loads(encounter.order_rules),
            coverages=[row_dict(c) for c in by_position],
            claims=claims,
            balance=row_dict(balance, lines=json.loads(balance.lines or "null"))
            if balance
            else None,
        )


def _remittance(session: Session, claim: t.Claim) -> model.Remittance:
    """Rebuild the 835 claim from its rows (raises ValidationError on impossible values)."""
    lines = [
        model.LineAdjudication(
            line_number=line.line_number,
            procedure_code=line.procedure_code,
            charge=line.charge,
            allowed=line.allowed,
            paid=line.paid,
            adjustments=[
                model.Adjustment(group=a.group_code, reason=a.reason_code, amount=a.amount)
                for a in adjustments
            ],
            remarks=_remarks(line),
        )
        for line, adjustments in _lines(session, claim.claim_control_number)
    ]
    return model.Remittance(
        claim_control_number=claim.claim_control_number,
        payer_id=claim.payer_id,
        member_id=claim.member_id,
        payer_claim_number=claim.payer_claim_number or "",
        payer_sequence=claim.payer_sequence,
        status=claim.claim_status,
        adjudication_date=claim.adjudication_date,
        lines=lines,
    )


def _total_problems(
    encounter: t.Encounter | None, balance: t.PatientBalance | None, accounts: list[LineAccount]
) -> list[str]:
    problems = []
    charged = sum((a.charge for a in accounts), ZERO)
    if encounter and accounts and charged != encounter.total_charge:
        problems.append(f"lines charge {charged} != encounter total {encounter.total_charge}")
    # With no remittance at all (self-pay, every payer gone) the patient owes the charge.
    owed = patient_balance(accounts) if accounts else None
    if owed is None and encounter:
        owed = encounter.total_charge
    if balance and owed is not None and owed != balance.balance:
        problems.append(f"patient balance {balance.balance} != patient responsibility {owed}")
    if encounter and balance and encounter.patient_responsibility != balance.balance:
        problems.append(
            f"encounter patient responsibility {encounter.patient_responsibility} != "
            f"patient balance {balance.balance}"
        )
    return problems


def _encounter_problems(session: Session, encounter_id: str) -> list[str]:
    problems: list[str] = []
    remittances: list[model.Remittance] = []
    for claim in _claims(session, encounter_id):
        if claim.replaced_by is not None or claim.claim_status is None:
            continue  # replaced by a frequency-7 claim, or no 835 yet
        try:
            remittance = _remittance(session, claim)
        except ValidationError as error:
            problems.append(f"claim {claim.claim_control_number}: unreadable rows: {error}")
            continue
        if claim.total_paid != remittance.paid:
            problems.append(
                f"claim {claim.claim_control_number}: total paid {claim.total_paid} != "
                f"sum of line payments {remittance.paid}"
            )
        remittances.append(remittance)

    billed: dict[int, model.LineAdjudication] = {}
    for remittance in remittances:
        for line in remittance.lines:
            billed.setdefault(line.line_number, line)
    accounts: list[LineAccount] = []
    for number, line in sorted(billed.items()):
        try:
            accounts.append(account_line(number, line.procedure_code, line.charge, remittances))
        except UnbalancedLine as error:
            problems.append(str(error))

    encounter = session.get(t.Encounter, encounter_id)
    balance = session.get(t.PatientBalance, encounter_id)
    if len(accounts) == len(billed):  # every line accounted for, so the totals mean something
        problems += _total_problems(encounter, balance, accounts)
    return [f"encounter {encounter_id}: {problem}" for problem in problems]


def unbalanced_lines(engine: Engine, encounter_id: str | None = None) -> list[str]:
    """Re-check the money invariant (cob.money.account_line) from the rows, for every
    encounter or one; each problem is one readable sentence, and [] means balanced."""
    with Session(engine) as session:
        if encounter_id is None:
            ids = sorted(
                set(session.exec(select(t.Encounter.encounter_id)))
                | set(session.exec(select(t.Claim.encounter_id)))
            )
        elif session.get(t.Encounter, encounter_id) or _claims(session, encounter_id):
            ids = [encounter_id]
        else:
            return [f"encounter {encounter_id}: not in the ledger"]
        return [problem for one in ids for problem in _encounter_problems(session, one)]


def audit_events(engine: Engine, workflow_id: str) -> list[dict[str, Any]]:
    """The workflow's audit trail in insertion order."""
    with Session(engine) as session:
        events = session.exec(
            select(t.AuditEvent)
            .where(t.AuditEvent.workflow_id == workflow_id)
            .order_by(t.AuditEvent.id)
        )
        return [row_dict(event, detail=json.loads(event.detail)) for event in events]


def encounter_timeline(engine: Engine, workflow_id: str) -> list[dict[str, Any]]:
    """The audit trail of an encounter and its claim and appeal workflows, in the order the
    engine recorded it; `on` is the engine's own date for the step (its workflow clock) where
    the step carries one, else the day it was recorded. `workflow_id` is matched as written:
    a '%' or '_' in it is that character, never a LIKE wildcard, and case counts."""
    prefix = workflow_id + "/"
    column = col(t.AuditEvent.workflow_id)
    # LIKE finds the children (by an index where there is one); SQLite's LIKE ignores ASCII
    # case, so the prefix is compared exactly as well.
    children = column.startswith(prefix, autoescape=True) & (
        func.substr(column, 1, len(prefix)) == prefix
    )
    with Session(engine) as session:
        events = session.exec(
            select(t.AuditEvent)
            .where((t.AuditEvent.workflow_id == workflow_id) | children)
            .order_by(t.AuditEvent.id)
        )
        timeline = []
        for event in events:
            detail = json.loads(event.detail)
            on = detail.get("on") or detail.get("filed_on") or event.recorded_at.date().isoformat()
            timeline.append(row_dict(event, detail=detail, on=on))
        return timeline
