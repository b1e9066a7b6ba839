"""The ledger's tables: a projection of each encounter for reports and audits (DESIGN.md).

Temporal's history is the source of truth; these rows are rewritten by idempotent upserts
keyed by natural ids (encounter, claim control number, line), except AuditEvent, which is
append-only and keyed by (workflow id, step). JSON columns hold text so both SQLite and
PostgreSQL store them the same way.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import DateTime, LargeBinary, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

MONEY = Numeric(12, 2)
TIMESTAMP = DateTime(timezone=True)


def to_json(value: Any) -> str:
    """Deterministic JSON (sorted keys) with Decimal and dates as strings."""
    return json.dumps(value, default=_json_default, sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in ledger JSON: {value!r}")


class Encounter(SQLModel, table=True):
    __tablename__ = "encounters"

    encounter_id: str = Field(primary_key=True)
    workflow_id: str = Field(index=True)
    patient_name: str
    service_date: date
    total_charge: Decimal = Field(sa_type=MONEY)
    status: str  # started, billing, held, closed, ...
    payer_order: str = Field(default="[]", sa_type=Text)  # JSON: payer ids, primary first
    order_rules: str = Field(default="[]", sa_type=Text)  # JSON: OrderDecision list
    needs_manual_review: bool = False
    patient_responsibility: Decimal | None = Field(default=None, sa_type=MONEY)
    statement_path: str | None = None
    updated_at: datetime = Field(sa_type=TIMESTAMP)
    account_id: str | None = Field(default=None, index=True)  # the guarantor's, once billed


class Coverage(SQLModel, table=True):
    __tablename__ = "coverages"

    encounter_id: str = Field(primary_key=True)
    payer_id: str = Field(primary_key=True)
    member_id: str = Field(primary_key=True)
    plan_type: str
    position: int | None = None  # 1 = primary; None = not billed
    active: bool
    inactive_reason: str = ""


class Claim(SQLModel, table=True):
    __tablename__ = "claims"

    claim_control_number: str = Field(primary_key=True)
    encounter_id: str = Field(index=True)
    payer_id: str
    member_id: str
    payer_sequence: int
    frequency: str  # CLM05-3: 1 original, 7 replacement, 8 void
    original_payer_claim_number: str | None = None
    prior_authorization_number: str | None = None
    accepted: bool
    ack_status_code: str
    ack_reason: str = ""
    payer_claim_number: str | None = Field(default=None, index=True)
    claim_status: str | None = None  # CLP02; None until the 835 arrives
    total_charge: Decimal = Field(sa_type=MONEY)
    total_paid: Decimal | None = Field(default=None, sa_type=MONEY)
    adjudication_date: date | None = None
    # claim control number of the frequency-7 claim, or "cob_review" when a COB review set
    # the claim aside to bill its payer again in another position
    replaced_by: str | None = None
    updated_at: datetime = Field(sa_type=TIMESTAMP)


class LineAdjudication(SQLModel, table=True):
    __tablename__ = "line_adjudications"

    claim_control_number: str = Field(primary_key=True)
    line_number: int = Field(primary_key=True)
    procedure_code: str
    charge: Decimal = Field(sa_type=MONEY)
    allowed: Decimal = Field(sa_type=MONEY)
    paid: Decimal = Field(sa_type=MONEY)
    remarks: str = ""  # RARCs, comma separated


class LineAdjustment(SQLModel, table=True):
    __tablename__ = "line_adjustments"

    claim_control_number: str = Field(primary_key=True)
    line_number: int = Field(primary_key=True)
    seq: int = Field(primary_key=True)  # order within the line's CAS segments, from 1
    group_code: str
    reason_code: str
    amount: Decimal = Field(sa_type=MONEY)


class PatientBalance(SQLModel, table=True):
    __tablename__ = "patient_balances"

    encounter_id: str = Field(primary_key=True)
    balance: Decimal = Field(sa_type=MONEY)
    lines: str | None = Field(default=None, sa_type=Text)  # JSON: LineAccount list
    statement_path: str | None = None
    updated_at: datetime = Field(sa_type=TIMESTAMP)


class AuditEvent(SQLModel, table=True):
    """Append-only: our code inserts once per (workflow id, step), never updates or deletes.

    Each event carries the hash of the one before (ledger/audit_chain.py), so a changed or
    deleted row breaks the chain. Events recorded before the chain existed have no chain_seq.
    """

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("workflow_id", "step", name="uq_audit_workflow_step"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(index=True)
    step: str
    kind: str
    detail: str = Field(default="{}", sa_type=Text)  # JSON
    recorded_at: datetime = Field(sa_type=TIMESTAMP)
    # 1, 2, 3... in insertion order over the whole table; a unique index, not a constraint,
    # so an upgraded ledger gets it too (CREATE UNIQUE INDEX after ADD COLUMN)
    chain_seq: int | None = Field(default=None, index=True, unique=True)
    prev_hash: str | None = None  # hex SHA-256 of the event before (64 zeros for the first)
    hash: str | None = None  # hex SHA-256 of prev_hash + this event's canonical JSON


class AuditChainHead(SQLModel, table=True):
    """The audit chain's one head row (id 1): the last chained event's seq and hash, so
    deleting the last event(s) is detected too; moved in the transaction that appends."""

    __tablename__ = "audit_chain"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0  # chain_seq of the last chained event; 0 before the first
    hash: str  # its hash; 64 zeros before the first
    genesis_seq: int | None = None  # chain_seq of the first chained event
    updated_at: datetime = Field(sa_type=TIMESTAMP)


class X12Document(SQLModel, table=True):
    """Every X12 document sent to or received from a payer, byte for byte, for the audit
    trail. `key` names the exchange (workflow, step, activity attempt, transaction), so a
    retried write stores nothing twice and a retried attempt keeps its own copy."""

    __tablename__ = "x12_documents"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    transaction: str  # 270, 271, 278, 837, 999, 277CA, 276, 277, 835
    direction: str  # sent | received
    payer_id: str = Field(index=True)
    encounter_id: str | None = Field(default=None, index=True)
    claim_control_number: str | None = Field(default=None, index=True)
    era_cursor: str | None = Field(default=None, index=True)  # an 835 picked up from the ERA feed
    problem: str = ""  # why the document could not be used (unbalanced 835, ...)
    text: str = Field(sa_type=Text)
    recorded_at: datetime = Field(sa_type=TIMESTAMP)


class RemittanceDocument(SQLModel, table=True):
    """Which 835 carries the remittance of which claim (one 835 may carry many claims)."""

    __tablename__ = "remittance_documents"

    claim_control_number: str = Field(primary_key=True)
    payer_id: str = Field(primary_key=True)
    document_key: str = Field(primary_key=True)
    position: int  # the claim's order in the document, so the newest CLP wins


class ProviderAdjustment(SQLModel, table=True):
    """A provider-level adjustment of an 835 (PLB): money the payer added to or took from a
    payment outside any claim (interest, an overpayment recovery, a levy). Posted to the
    provider's account with its reason and reference, never to a claim (005010X221A1 PLB)."""

    __tablename__ = "provider_adjustments"

    document_key: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)  # order in the document, from 1
    payer_id: str = Field(index=True)  # '' when the 835's payer is not in the directory
    provider_id: str  # PLB01
    period_end: date | None = None  # PLB02
    reason: str  # PLB03-1, e.g. L6 interest, WO overpayment recovery
    reference: str = ""  # PLB03-2, e.g. the claim a recovery is for
    # positive reduces the payment (a recovery), negative increases it (interest)
    amount: Decimal = Field(sa_type=MONEY)
    trace_number: str = ""  # TRN02: the check or EFT it adjusted
    paid_on: date


class ClaimFiling(SQLModel, table=True):
    """Proof of timely filing (42 CFR 424.44; payer contracts): when the payer accepted the claim (277CA),
    the last day it could be filed, and the rule that set that day."""

    __tablename__ = "claim_filings"

    claim_control_number: str = Field(primary_key=True)
    payer_id: str
    filed_on: date  # the day the 277CA accepted it; a claim only generated is not filed
    deadline: date
    rule: str
    citation: str
    on_time: bool
    updated_at: datetime = Field(sa_type=TIMESTAMP)


class WorklistTask(SQLModel, table=True):
    """Work for the billing team that a deadline or a follow-up created: what, why and by
    when. Opened by the engine, keyed by (workflow, kind, due date) so a retried activity
    opens it once; closed by the engine when the claim moves on (industry practice)."""

    __tablename__ = "worklist_tasks"

    key: str = Field(primary_key=True)
    encounter_id: str = Field(index=True)
    workflow_id: str
    payer_id: str
    claim_control_number: str | None = None
    kind: str
    reason: str = Field(sa_type=Text)
    due: date | None = None  # the deadline the task is about
    opened_on: date  # in workflow time
    status: str = "open"  # open | closed
    resolution: str = ""
    updated_at: datetime = Field(sa_type=TIMESTAMP)
    # people working it (ledger/task_actions.py); nullable, so an older ledger gets them added
    assignee: str | None = Field(default=None, index=True)  # who claimed it; kept once closed
    claimed_at: datetime | None = Field(default=None, sa_type=TIMESTAMP)
    snoozed_until: date | None = None  # out of sight until that day, never past `due`
    resolved_by: str | None = None
    resolution_note: str | None = Field(default=None, sa_type=Text)


class HistoryArchive(SQLModel, table=True):
    """A closed workflow run's history, kept past the server's retention (ledger/archives.py):
    gzip of the JSON the server returned, payloads still encrypted; inserted once, never changed."""

    __tablename__ = "history_archives"

    workflow_id: str = Field(primary_key=True)
    run_id: str = Field(primary_key=True)
    encounter_id: str = Field(index=True)
    workflow_type: str  # EncounterWorkflow, PayerClaimWorkflow, AppealWorkflow
    parent_workflow_id: str | None = None
    status: str  # how the run closed: completed, failed, terminated, ...
    closed_at: datetime = Field(sa_type=TIMESTAMP)
    event_count: int
    size: int  # bytes of the uncompressed history
    sha256: str  # hex digest of the uncompressed history
    history: bytes = Field(sa_type=LargeBinary)  # gzip of the history's JSON
    archived_at: datetime = Field(sa_type=TIMESTAMP)


class User(SQLModel, table=True):
    """A person of the billing team (ledger/users.py): a role, and the SHA-256 of the token
    they sign in with (the token itself is shown once and never stored)."""

    __tablename__ = "users"

    name: str = Field(primary_key=True)  # [a-z][a-z0-9._-]{1,39}: no patient data
    role: str  # biller | supervisor | auditor | admin
    token_sha256: str = Field(unique=True)  # hex
    created_at: datetime = Field(sa_type=TIMESTAMP)
    disabled_at: datetime | None = Field(default=None, sa_type=TIMESTAMP)


class PatientAccount(SQLModel, table=True):
    """One guarantor's patient account (ledger/accounts.py): the id the account's workflow and
    statements carry, and who it bills. The guarantor's key and name are patient data: kept
    here, never in an id, a log line or a search attribute."""

    __tablename__ = "patient_accounts"

    guarantor_key: str = Field(primary_key=True)  # cob.guarantor.guarantor_key
    account_id: str = Field(unique=True)
    guarantor_name: str
    created_at: datetime = Field(sa_type=TIMESTAMP)
