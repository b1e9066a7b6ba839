"""Baseline: the ledger's tables as make_engine created them with create_all before migrations
(ledger/tables.py at that time). A ledger make_engine made is stamped with this revision by
`cob db upgrade` when its schema has no difference from it (ledger/schema.py).

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STRING = sa.String()  # SQLModel's str: VARCHAR with no length
MONEY = sa.Numeric(12, 2)
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", STRING, nullable=False),
        sa.Column("genesis_seq", sa.Integer(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", STRING, nullable=False),
        sa.Column("step", STRING, nullable=False),
        sa.Column("kind", STRING, nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("chain_seq", sa.Integer(), nullable=True),
        sa.Column("prev_hash", STRING, nullable=True),
        sa.Column("hash", STRING, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workflow_id", "step", name="uq_audit_workflow_step"),
    )
    op.create_index(op.f("ix_audit_events_chain_seq"), "audit_events", ["chain_seq"], unique=True)
    op.create_index(
        op.f("ix_audit_events_workflow_id"), "audit_events", ["workflow_id"], unique=False
    )
    op.create_table(
        "claim_filings",
        sa.Column("claim_control_number", STRING, nullable=False),
        sa.Column("payer_id", STRING, nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("rule", STRING, nullable=False),
        sa.Column("citation", STRING, nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("claim_control_number"),
    )
    op.create_table(
        "claims",
        sa.Column("claim_control_number", STRING, nullable=False),
        sa.Column("encounter_id", STRING, nullable=False),
        sa.Column("payer_id", STRING, nullable=False),
        sa.Column("member_id", STRING, nullable=False),
        sa.Column("payer_sequence", sa.Integer(), nullable=False),
        sa.Column("frequency", STRING, nullable=False),
        sa.Column("original_payer_claim_number", STRING, nullable=True),
        sa.Column("prior_authorization_number", STRING, nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("ack_status_code", STRING, nullable=False),
        sa.Column("ack_reason", STRING, nullable=False),
        sa.Column("payer_claim_number", STRING, nullable=True),
        sa.Column("claim_status", STRING, nullable=True),
        sa.Column("total_charge", MONEY, nullable=False),
        sa.Column("total_paid", MONEY, nullable=True),
        sa.Column("adjudication_date", sa.Date(), nullable=True),
        sa.Column("replaced_by", STRING, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("claim_control_number"),
    )
    op.create_index(op.f("ix_claims_encounter_id"), "claims", ["encounter_id"], unique=False)
    op.create_index(
        op.f("ix_claims_payer_claim_number"), "claims", ["payer_claim_number"], unique=False
    )
    op.create_table(
        "coverages",
        sa.Column("encounter_id", STRING, nullable=False),
        sa.Column("payer_id", STRING, nullable=False),
        sa.Column("member_id", STRING, nullable=False),
        sa.Column("plan_type", STRING, nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("inactive_reason", STRING, nullable=False),
        sa.PrimaryKeyConstraint("encounter_id", "payer_id", "member_id"),
    )
    op.create_table(
        "encounters",
        sa.Column("encounter_id", STRING, nullable=False),
        sa.Column("workflow_id", STRING, nullable=False),
        sa.Column("patient_name", STRING, nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("total_charge", MONEY, nullable=False),
        sa.Column("status", STRING, nullable=False),
        sa.Column("payer_order", sa.Text(), nullable=False),
        sa.Column("order_rules", sa.Text(), nullable=False),
        sa.Column("needs_manual_review", sa.Boolean(), nullable=False),
        sa.Column("patient_responsibility", MONEY, nullable=True),
        sa.Column("statement_path", STRING, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("account_id", STRING, nullable=True),
        sa.PrimaryKeyConstraint("encounter_id"),
    )
    op.create_index(op.f("ix_encounters_account_id"), "encounters", ["account_id"], unique=False)
    op.create_index(op.f("ix_encounters_workflow_id"), "encounters", ["workflow_id"], unique=False)
    op.create_table(
        "history_archives",
        sa.Column("workflow_id", STRING, nullable=False),
        sa.Column("run_id", STRING, nullable=False),
        sa.Column("encounter_id", STRING, nullable=False),
        sa.Column("workflow_type", STRING, nullable=False),
        sa.Column("parent_workflow_id", STRING, nullable=True),
        sa.Column("status", STRING, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", STRING, nullable=False),
        sa.Column("history", sa.LargeBinary(), nullable=False),
        sa.Column("archived_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("workflow_id", "run_id"),
    )
    op.create_index(
        op.f("ix_history_archives_encounter_id"), "history_archives", ["encounter_id"], unique=False
    )
    op.create_table(
        "line_adjudications",
        sa.Column("claim_control_number", STRING, nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("procedure_code", STRING, nullable=False),
        sa.Column("charge", MONEY, nullable=False),
        sa.Column("allowed", MONEY, nullable=False),
        sa.Column("paid", MONEY, nullable=False),
        sa.Column("remarks", STRING, nullable=False),
        sa.PrimaryKeyConstraint("claim_control_number", "line_number"),
    )
    op.create_table(
        "line_adjustments",
        sa.Column("claim_control_number", STRING, nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("group_code", STRING, nullable=False),
        sa.Column("reason_code", STRING, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("claim_control_number", "line_number", "seq"),
    )
    op.create_table(
        "patient_accounts",
        sa.Column("guarantor_key", STRING, nullable=False),
        sa.Column("account_id", STRING, nullable=False),
        sa.Column("guarantor_name", STRING, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("guarantor_key"),
        sa.UniqueConstraint("account_id"),
    )
    op.create_table(
        "patient_balances",
        sa.Column("encounter_id", STRING, nullable=False),
        sa.Column("balance", MONEY, nullable=False),
        sa.Column("lines", sa.Text(), nullable=True),
        sa.Column("statement_path", STRING, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("encounter_id"),
    )
    op.create_table(
        "provider_adjustments",
        sa.Column("document_key", STRING, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("payer_id", STRING, nullable=False),
        sa.Column("provider_id", STRING, nullable=False),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("reason", STRING, nullable=False),
        sa.Column("reference", STRING, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("trace_number", STRING, nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("document_key", "seq"),
    )
    op.create_index(
        op.f("ix_provider_adjustments_payer_id"), "provider_adjustments", ["payer_id"], unique=False
    )
    op.create_table(
        "remittance_documents",
        sa.Column("claim_control_number", STRING, nullable=False),
        sa.Column("payer_id", STRING, nullable=False),
        sa.Column("document_key", STRING, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("claim_control_number", "payer_id", "document_key"),
    )
    op.create_table(
        "users",
        sa.Column("name", STRING, nullable=False),
        sa.Column("role", STRING, nullable=False),
        sa.Column("token_sha256", STRING, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("disabled_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_table(
        "worklist_tasks",
        sa.Column("key", STRING, nullable=False),
        sa.Column("encounter_id", STRING, nullable=False),
        sa.Column("workflow_id", STRING, nullable=False),
        sa.Column("payer_id", STRING, nullable=False),
        sa.Column("claim_control_number", STRING, nullable=True),
        sa.Column("kind", STRING, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("status", STRING, nullable=False),
        sa.Column("resolution", STRING, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("assignee", STRING, nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("resolved_by", STRING, nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        op.f("ix_worklist_tasks_assignee"), "worklist_tasks", ["assignee"], unique=False
    )
    op.create_index(
        op.f("ix_worklist_tasks_encounter_id"), "worklist_tasks", ["encounter_id"], unique=False
    )
    op.create_table(
        "x12_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", STRING, nullable=False),
        sa.Column("transaction", STRING, nullable=False),
        sa.Column("direction", STRING, nullable=False),
        sa.Column("payer_id", STRING, nullable=False),
        sa.Column("encounter_id", STRING, nullable=True),
        sa.Column("claim_control_number", STRING, nullable=True),
        sa.Column("era_cursor", STRING, nullable=True),
        sa.Column("problem", STRING, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index(
        op.f("ix_x12_documents_claim_control_number"),
        "x12_documents",
        ["claim_control_number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_x12_documents_encounter_id"), "x12_documents", ["encounter_id"], unique=False
    )
    op.create_index(
        op.f("ix_x12_documents_era_cursor"), "x12_documents", ["era_cursor"], unique=False
    )
    op.create_index(op.f("ix_x12_documents_payer_id"), "x12_documents", ["payer_id"], unique=False)


def downgrade() -> None:
    for table in [
        "x12_documents",
        "worklist_tasks",
        "users",
        "remittance_documents",
        "provider_adjustments",
        "patient_balances",
        "patient_accounts",
        "line_adjustments",
        "line_adjudications",
        "history_archives",
        "encounters",
        "coverages",
        "claims",
        "claim_filings",
        "audit_events",
        "audit_chain",
    ]:
        op.drop_table(table)  # its indexes go with it
