"""How encounters look on a terminal (rich tables)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from cob.money import ZERO
from contract.messages import EncounterStatus


def money(amount: Decimal | None) -> str:
    return "-" if amount is None else f"{amount:,.2f}"


def order_text(status: EncounterStatus) -> str:
    if not status.payer_order:
        return "self-pay (no active coverage)" if status.excluded else "self-pay"
    parts = [status.payer_order[0]]
    for decision, payer in zip(status.order_rules, status.payer_order[1:], strict=False):
        parts.append(f"> {payer} [{decision.rule}]")
    text = " ".join(parts) if len(parts) > 1 else f"{parts[0]} [only coverage]"
    if status.needs_manual_review:
        text += " (needs manual review)"
    return text


def paid_text(status: EncounterStatus) -> str:
    paid: dict[str, Decimal] = {}
    for line in status.lines:
        for payer, amount in line.paid_by_payer.items():
            paid[payer] = paid.get(payer, ZERO) + amount
    notes = [f"{c.payer_id}: {c.result} ({c.denial.explanation})" for c in status.claims
             if c.denial and c.denial.route != "post"]  # fmt: skip
    notes += [f"{c.payer_id}: corrected after {denial}, resubmitted"
              for c in status.claims for denial in c.corrected_denials]  # fmt: skip
    notes += [c.payment_review.summary() for c in status.claims
              if c.payment_review and c.payment_review.underpaid]  # fmt: skip
    text = ", ".join(f"{payer} {money(amount)}" for payer, amount in paid.items()) or "-"
    return "\n".join([text, *notes])


def short_path(path: str | None) -> str:
    if not path:
        return "-"
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def summary_table(rows: list[tuple[str, EncounterStatus]]) -> Table:
    table = Table(title="Encounters", show_lines=True)
    for column in ("encounter", "stage", "payer order [deciding rule]", "paid",
                   "adjustments", "patient", "statement", "workflow id"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for workflow_id, status in rows:
        adjustments = sum((line.adjustments for line in status.lines), ZERO)
        table.add_row(
            status.encounter_id,
            status.stage,
            escape(order_text(status)),
            escape(paid_text(status)),
            money(adjustments if status.lines else None),
            money(status.patient_responsibility),
            short_path(status.statement_path),
            workflow_id,
        )
    return table


def line_table(status: EncounterStatus) -> Table:
    table = Table(title=f"{status.encounter_id} by line")
    for column in ("line", "code", "charge", "paid by payer", "adjustments", "patient"):
        table.add_column(column)
    for line in status.lines:
        table.add_row(
            str(line.line_number),
            line.procedure_code,
            money(line.charge),
            ", ".join(f"{p} {money(a)}" for p, a in line.paid_by_payer.items()) or "-",
            money(line.adjustments),
            money(line.patient_responsibility),
        )
    return table
