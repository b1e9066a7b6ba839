"""The patient statement as a plain-text file (DOMAIN.md §6.3: what a statement must show)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from cob.model import Encounter, Remittance
from cob.money import ZERO, LineAccount

PAYMENT_DUE_DAYS = 30  # DOMAIN.md §6.2, statement 1: due date e.g. 30 days

PR_KINDS = {"1": "deductible", "2": "coinsurance", "3": "copay"}


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _responsibility_split(remittances: list[Remittance], line_number: int) -> dict[str, Decimal]:
    """Split what the patient owes by kind, from the last payer's PR adjustments."""
    split: dict[str, Decimal] = {}
    for remittance in reversed(remittances):
        line = next((ln for ln in remittance.lines if ln.line_number == line_number), None)
        if line is None:
            continue
        for adj in line.adjustments:
            if adj.group == "PR":
                kind = PR_KINDS.get(adj.reason, "not covered")
                split[kind] = split.get(kind, ZERO) + adj.amount
        break
    return split


def render_statement(
    encounter: Encounter,
    accounts: list[LineAccount],
    remittances: list[Remittance],
    payer_names: dict[str, str],
    statement_date: date,
) -> str:
    provider = encounter.billing_provider
    patient = encounter.patient
    total = sum((a.patient_responsibility for a in accounts), ZERO)
    due = statement_date + timedelta(days=PAYMENT_DUE_DAYS)
    out = [
        f"{provider.name}",
        f"{provider.address}  {provider.phone}".rstrip(),
        "",
        "PATIENT STATEMENT",
        f"Patient:         {patient.first_name} {patient.last_name}",
        f"Account:         {encounter.encounter_id}",
        f"Statement date:  {statement_date.isoformat()}",
        f"Due date:        {due.isoformat()}",
        f"Amount due:      {_money(total)}",
        "",
        f"Date of service {encounter.service_date.isoformat()}",
    ]
    for account in accounts:
        out.append(
            f"  Line {account.line_number}  {account.procedure_code}  charge {_money(account.charge)}"
        )
        for payer_id, paid in account.paid_by_payer.items():
            out.append(f"    paid by {payer_names.get(payer_id, payer_id)}: {_money(paid)}")
        out.append(f"    adjustments (not billed to you): {_money(account.adjustments)}")
        for kind, amount in _responsibility_split(remittances, account.line_number).items():
            out.append(f"    your {kind}: {_money(amount)}")
        out.append(f"    you owe: {_money(account.patient_responsibility)}")
    out += [
        "",
        f"Total due by {due.isoformat()}: {_money(total)}",
        "Pay online, by phone or by mail. Ask us about a payment plan or financial assistance.",
        "Questions or disputes about this bill: call the number above.",
        "You are protected from surprise billing under the No Surprises Act (45 CFR 149.430).",
    ]
    return "\n".join(out) + "\n"
