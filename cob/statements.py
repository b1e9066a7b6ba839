"""The patient statement's terms: when the patient is billed, by when the statement is due, and
how what the patient owes is labelled. The statement's layout is activities/statement.py's.

Industry practice unless a source is named: no single federal rule sets a statement's terms
for every provider; a practice's own policy may replace them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from cob.model import Remittance
from cob.money import ZERO

PAYMENT_DUE_DAYS = 30  # the first statement's due date (industry practice; configurable)

# X12 CARC on a PR adjustment -> what the patient's share is called on the statement; any
# other PR reason (e.g. CARC 96, 204) is a service the plan does not cover.
PR_KINDS = {"1": "deductible", "2": "coinsurance", "3": "copay"}
NOT_COVERED = "not covered"


def statement_held(remittance: Remittance | None) -> bool:
    """Whether a payer's claim holds the patient's statement: it never adjudicated (no 835:
    authorization not granted, a rejection not fixed). The later payers are not billed and the
    patient is billed only after the last payer in the order has adjudicated (industry
    practice: a pending payer's share is not the patient's yet)."""
    return remittance is None


def statement_due(patient_balance: Decimal) -> bool:
    """Whether the patient gets a statement, once no payer is pending: something is owed."""
    return patient_balance > ZERO


def payment_due(statement_date: date) -> date:
    """The statement's due date: PAYMENT_DUE_DAYS calendar days after the statement date."""
    return statement_date + timedelta(days=PAYMENT_DUE_DAYS)


def responsibility_by_kind(remittances: list[Remittance], line_number: int) -> dict[str, Decimal]:
    """What the patient owes on one line, by kind (deductible, coinsurance, copay, not
    covered), from the PR adjustments of the last payer that adjudicated the line: the last
    payer's PR is what the patient owes (cob.money.open_balance)."""
    split: dict[str, Decimal] = {}
    for remittance in reversed(remittances):
        line = next((ln for ln in remittance.lines if ln.line_number == line_number), None)
        if line is None:
            continue
        for adj in line.adjustments:
            if adj.group == "PR":
                kind = PR_KINDS.get(adj.reason, NOT_COVERED)
                split[kind] = split.get(kind, ZERO) + adj.amount
        break
    return split
