"""835 ERA (005010X221A1): build (`remittance_835_build`), read (`remittance_835_read`) and
balance-check (`remittance_835_balance`); the entry points callers use live here, and every
name is importable from here as before.

One ST/SE transaction per adjudication date (DTM*405 / BPR16 carry it), so build -> parse
gives back the same `Remittance` objects. CAS groups are CO/OA/PI/PR only (5010 835); a
reversal is CLP02 22 with negated amounts. pyx12 validates the structure, `check_835_balance`
the arithmetic it does not check.
"""

from __future__ import annotations

from decimal import Decimal

from cob.model import Remittance
from payers.x12.remittance_835_balance import check_balance
from payers.x12.remittance_835_build import (
    CENT,
    SEQUENCE_BY_STATUS,
    VERSION,
    ZERO,
    ProviderAdjustment,
    build_835,
)
from payers.x12.remittance_835_read import (
    CLAIM_STATUSES,
    GROUPS,
    ClaimLoop,
    RemittanceAdvice,
    read_advice,
    transactions_835,
)
from payers.x12.segments import Transaction

__all__ = [
    "CENT",
    "CLAIM_STATUSES",
    "GROUPS",
    "SEQUENCE_BY_STATUS",
    "VERSION",
    "ZERO",
    "ClaimLoop",
    "ProviderAdjustment",
    "RemittanceAdvice",
    "build_835",
    "check_835_balance",
    "check_balance",
    "parse_835",
    "read_835",
    "read_advice",
    "read_claims",
    "summarize_835",
]


def read_835(text: str) -> list[RemittanceAdvice]:
    """Every 835 transaction of every interchange in a file, balanced (check_balance)."""
    advices = []
    for txn in transactions_835(text):
        check_balance(txn)
        advices.append(read_advice(txn))
    return advices


def read_claims(text: str) -> list[tuple[Remittance, int]]:
    """Every claim of every 835 in the file, in file order, with its CLP's position."""
    found = []
    for txn in transactions_835(text):
        advice = read_advice(txn)
        found += zip(advice.remittances, advice.claim_positions, strict=True)
    return found


def parse_835(text: str) -> list[Remittance]:
    """Every claim of every 835 in the file, in file order."""
    return [remittance for remittance, _ in read_claims(text)]


def check_835_balance(text: str) -> None:
    """Raise X12Error on the first SVC, CLP or BPR that does not balance (check_balance)."""
    for txn in transactions_835(text):
        check_balance(txn)


def _cents(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):f}"


def summarize_835(txn: Transaction) -> dict:
    """What the engine understood of one 835, for `cob x12 read`."""
    check_balance(txn)
    advice = read_advice(txn)
    return {
        "payer_name": advice.payer_name,
        "payer_ids": advice.payer_ids,
        "payee_id": advice.payee_id,
        "trace_number": advice.trace_number,
        "payment": _cents(advice.payment),
        "paid_on": advice.paid_on.isoformat(),
        "claims": [
            {
                "claim_control_number": r.claim_control_number,
                "status": r.status,
                "charge": _cents(r.claim_charge or ZERO),
                "paid": _cents(r.paid),
                "patient_responsibility": _cents(r.claim_patient_responsibility or ZERO),
                "payer_claim_number": r.payer_claim_number,
                "member_id": r.member_id,
                "lines": len(r.lines),
                "claim_adjustments": _cents(sum((a.amount for a in r.claim_adjustments), ZERO)),
                "line_adjustments": _cents(
                    sum((a.amount for ln in r.lines for a in ln.adjustments), ZERO)
                ),
                "adjustments": [
                    {"level": "claim", "group": a.group, "reason": a.reason, "amount": _cents(a.amount)}
                    for a in r.claim_adjustments
                ] + [
                    {"level": f"line {ln.line_number}", "group": a.group, "reason": a.reason,
                     "amount": _cents(a.amount)}
                    for ln in r.lines for a in ln.adjustments
                ],
                "remarks": r.claim_remarks,
            }
            for r in advice.remittances
        ],
        "provider_adjustments": [
            {"reason": p.reason, "reference": p.reference, "amount": _cents(p.amount),
             "provider_id": p.provider_id}
            for p in advice.provider_adjustments
        ],
    }  # fmt: skip
