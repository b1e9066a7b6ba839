"""Ledger writes, one per activity step. Activities run at least once (DESIGN.md), so every
function here is an upsert keyed by natural ids: running it twice with the same input leaves
exactly the same rows, updated_at included (it moves only when a value changes).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from cob import model
from cob.deadlines import Deadline, overdue
from cob.money import LineAccount, cents, patient_balance
from ledger import tables as t
from ledger.audit_chain import HEAD_ID, event_hash, lock_head
from ledger.db import in_transaction, upsert, utcnow
from ledger.tables import to_json


class EncounterNotRecorded(LookupError):
    """A write that updates the encounter row came before record_encounter."""


def _encounter_row(session: Session, encounter_id: str) -> t.Encounter:
    row = session.get(t.Encounter, encounter_id, with_for_update=True)
    if row is None:
        raise EncounterNotRecorded(f"encounter {encounter_id!r} is not in the ledger yet")
    return row


def record_encounter(
    engine: Engine, *, workflow_id: str, encounter: model.Encounter, status: str
) -> None:
    values = {
        "workflow_id": workflow_id,
        "patient_name": f"{encounter.patient.first_name} {encounter.patient.last_name}",
        "service_date": encounter.service_date,
        "total_charge": cents(encounter.total_charge),
        "status": status,
    }
    in_transaction(
        engine, lambda s: upsert(s, t.Encounter, {"encounter_id": encounter.encounter_id}, values)
    )


def record_coverages(
    engine: Engine,
    *,
    encounter_id: str,
    benefits: list[model.Benefits],
    order: model.PayerOrder | None,
    coverages: list[model.Coverage],
) -> None:
    """Coverage rows for the encounter (replacing its set); position from the payer order,
    active/reason from the 271s or the order's exclusions; order rules on the encounter."""
    by_key = {f"{b.payer_id}:{b.member_id}": b for b in benefits}
    ordered = [c.key for c in order.coverages] if order else []
    excluded = order.excluded if order else {}

    def work(session: Session) -> None:
        _encounter_row(session, encounter_id)
        keys = set()
        for coverage in coverages:
            benefit = by_key.get(coverage.key)
            reason = excluded.get(coverage.key) or (
                benefit.reason if benefit and not benefit.active else ""
            )
            key = {
                "encounter_id": encounter_id,
                "payer_id": coverage.payer_id,
                "member_id": coverage.member_id,
            }
            keys.add((coverage.payer_id, coverage.member_id))
            values = {
                "plan_type": str(coverage.plan_type),
                "position": ordered.index(coverage.key) + 1 if coverage.key in ordered else None,
                "active": benefit.active if benefit else coverage.key not in excluded,
                "inactive_reason": reason,
            }
            upsert(session, t.Coverage, key, values)
        stale = session.exec(select(t.Coverage).where(t.Coverage.encounter_id == encounter_id))
        for row in stale:
            if (row.payer_id, row.member_id) not in keys:
                session.delete(row)
        if order is not None:
            upsert(
                session,
                t.Encounter,
                {"encounter_id": encounter_id},
                {
                    "payer_order": to_json([c.payer_id for c in order.coverages]),
                    "order_rules": to_json([d.model_dump(mode="json") for d in order.decisions]),
                    "needs_manual_review": order.needs_manual_review,
                },
            )

    in_transaction(engine, work)


def _line_rows(ccn: str, remittance: model.Remittance | None) -> list[SQLModel]:
    rows: list[SQLModel] = []
    for line in remittance.lines if remittance else []:
        rows.append(
            t.LineAdjudication(
                claim_control_number=ccn,
                line_number=line.line_number,
                procedure_code=line.procedure_code,
                charge=cents(line.charge),
                allowed=cents(line.allowed),
                paid=cents(line.paid),
                remarks=",".join(line.remarks),
            )
        )
        rows.extend(
            t.LineAdjustment(
                claim_control_number=ccn,
                line_number=line.line_number,
                seq=seq,
                group_code=adjustment.group,
                reason_code=adjustment.reason,
                amount=cents(adjustment.amount),
            )
            for seq, adjustment in enumerate(line.adjustments, start=1)
        )
    return rows


def record_claim(
    engine: Engine,
    *,
    encounter_id: str,
    submission: model.ClaimSubmission,
    ack: model.ClaimAcknowledgment,
    remittance: model.Remittance | None,
) -> None:
    """The claim, its adjudicated lines and CAS adjustments (replacing the claim's set). A
    frequency-7 claim marks the claim it replaces (same payer claim number) as replaced."""
    ccn = submission.claim_control_number
    payer_id = submission.coverage.payer_id
    values = {
        "encounter_id": encounter_id,
        "payer_id": payer_id,
        "member_id": submission.coverage.member_id,
        "payer_sequence": submission.payer_sequence,
        "frequency": submission.frequency,
        "original_payer_claim_number": submission.original_payer_claim_number,
        "prior_authorization_number": submission.prior_authorization_number,
        "accepted": ack.accepted,
        "ack_status_code": ack.status_code,
        "ack_reason": ack.reason,
        "payer_claim_number": remittance.payer_claim_number
        if remittance
        else ack.payer_claim_number,
        "claim_status": remittance.status if remittance else None,
        "total_charge": cents(submission.encounter.total_charge),
        "total_paid": cents(remittance.paid) if remittance else None,
        "adjudication_date": remittance.adjudication_date if remittance else None,
    }

    def work(session: Session) -> None:
        upsert(session, t.Claim, {"claim_control_number": ccn}, values)
        session.exec(delete(t.LineAdjustment).where(t.LineAdjustment.claim_control_number == ccn))
        session.exec(
            delete(t.LineAdjudication).where(t.LineAdjudication.claim_control_number == ccn)
        )
        session.add_all(_line_rows(ccn, remittance))
        if submission.frequency == "7" and submission.original_payer_claim_number:
            # Only a claim not yet replaced by another: a later replacement of the same
            # original then replaces this one, and the chain keeps one claim that counts.
            originals = session.exec(
                select(t.Claim).where(
                    t.Claim.encounter_id == encounter_id,
                    t.Claim.payer_id == payer_id,
                    t.Claim.payer_claim_number == submission.original_payer_claim_number,
                    t.Claim.claim_control_number != ccn,
                    or_(t.Claim.replaced_by.is_(None), t.Claim.replaced_by == ccn),
                )
            ).all()
            for original in originals:
                key = {"claim_control_number": original.claim_control_number}
                upsert(session, t.Claim, key, {"replaced_by": ccn})

    in_transaction(engine, work)


def record_patient_balance(
    engine: Engine,
    *,
    encounter_id: str,
    accounts: list[LineAccount],
    statement_path: str | None,
    status: str,
) -> None:
    balance = cents(patient_balance(accounts))

    def work(session: Session) -> None:
        _encounter_row(session, encounter_id)
        upsert(
            session,
            t.PatientBalance,
            {"encounter_id": encounter_id},
            {
                "balance": balance,
                "lines": to_json([a.model_dump(mode="json") for a in accounts]),
                "statement_path": statement_path,
            },
        )
        upsert(
            session,
            t.Encounter,
            {"encounter_id": encounter_id},
            {
                "patient_responsibility": balance,
                "status": status,
                "statement_path": statement_path,
            },
        )

    in_transaction(engine, work)


def append_audit_event(
    engine: Engine, *, workflow_id: str, step: str, kind: str, detail: dict[str, Any]
) -> bool:
    """Insert once per (workflow_id, step); True if this call inserted it. Never updates.

    The event joins the audit chain (ledger/audit_chain.py) in the same transaction: the
    chain's head is locked first, then the step checked, the head read, the event inserted
    and the head moved, so racing appends form one line (no fork, no gap in seq)."""
    stored = to_json(detail)

    def work(session: Session) -> bool:
        lock_head(session, utcnow())  # the transaction's first statement: see lock_head
        taken = select(t.AuditEvent.id).where(
            t.AuditEvent.workflow_id == workflow_id, t.AuditEvent.step == step
        )
        if session.exec(taken).first() is not None:
            return False
        head = session.get(t.AuditChainHead, HEAD_ID)
        assert head is not None  # locked or added above
        seq = head.seq + 1
        event = t.AuditEvent(
            workflow_id=workflow_id,
            step=step,
            kind=kind,
            detail=stored,
            recorded_at=utcnow(),
            chain_seq=seq,
            prev_hash=head.hash,
        )
        event.hash = event_hash(event)
        session.add(event)
        head.seq, head.hash, head.updated_at = seq, event.hash, event.recorded_at
        if head.genesis_seq is None:
            head.genesis_seq = seq
        return True

    # A concurrent attempt that inserted the same step first (IntegrityError) is found by
    # the second try, which returns False.
    return in_transaction(engine, work)


def record_filing(
    engine: Engine, *, ccn: str, payer_id: str, filed_on: date, deadline: Deadline
) -> None:
    """The claim's proof of timely filing; rewritten whole by a retried attempt."""
    values = {
        "payer_id": payer_id,
        "filed_on": filed_on,
        "deadline": deadline.due,
        "rule": deadline.rule,
        "citation": deadline.citation,
        "on_time": not overdue(deadline, filed_on),
    }
    in_transaction(
        engine,
        lambda session: upsert(session, t.ClaimFiling, {"claim_control_number": ccn}, values),
    )


def set_aside_claims(engine: Engine, *, ccns: list[str]) -> None:
    """Claims a COB review took out of the money (their payer was billed in the wrong
    position and is billed again): marked `replaced_by` "cob_review", kept for the audit."""

    def work(session: Session) -> None:
        for ccn in ccns:
            if session.get(t.Claim, ccn) is not None:
                upsert(
                    session, t.Claim, {"claim_control_number": ccn}, {"replaced_by": "cob_review"}
                )

    in_transaction(engine, work)
