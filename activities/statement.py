"""The patient statement as a plain-text file: its layout. Its terms (due date, what the
patient owes by kind) are cob.statements'; the amounts cob.money's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cob.model import Encounter, Remittance
from cob.money import LineAccount, patient_balance
from cob.statements import payment_due, responsibility_by_kind


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def render_statement(
    encounter: Encounter,
    accounts: list[LineAccount],
    remittances: list[Remittance],
    payer_names: dict[str, str],
    statement_date: date,
) -> str:
    provider = encounter.billing_provider
    patient = encounter.patient
    total = patient_balance(accounts)
    due = payment_due(statement_date)
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
        for kind, amount in responsibility_by_kind(remittances, account.line_number).items():
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
