"""Write an 835 ERA (005010X221A1): one ST/SE transaction per adjudication date (DTM*405 and
BPR16 carry it), so build -> parse gives back the same `Remittance` objects. ST03 is not used
in X221A1. Reading it back: `payers.x12.remittance_835_read`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from cob.model import Adjustment, Remittance
from payers.x12.segments import (
    Segment,
    amount_text,
    build_interchange,
    d8_text,
    seg,
)

VERSION = "005010X221A1"
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
SEQUENCE_BY_STATUS = {"1": 1, "2": 2, "3": 3, "19": 1, "20": 2, "21": 3}


@dataclass(frozen=True)
class ProviderAdjustment:
    """A PLB reason/amount: positive reduces the payment (WO recovery), negative adds (L6)."""

    reason: str  # PLB03-1, e.g. L6, WO, FB
    amount: Decimal
    reference: str = ""  # PLB03-2, e.g. the original ICN being recouped
    provider_id: str = ""  # PLB01, as read
    period_end: date | None = None  # PLB02, the provider's fiscal period, as read


def _cas_segments(adjustments: list[Adjustment]) -> list[Segment]:
    grouped: dict[str, list[Adjustment]] = defaultdict(list)
    for adjustment in adjustments:
        if adjustment.group not in ("CO", "OA", "PI", "PR"):
            raise ValueError(f"CAS group {adjustment.group} is not valid in a 5010 835")
        grouped[adjustment.group].append(adjustment)
    out = []
    for group, items in grouped.items():
        for start in range(0, len(items), 6):  # up to 6 reason/amount triplets per CAS
            triplets = [
                x for a in items[start : start + 6] for x in (a.reason, amount_text(a.amount), "")
            ]
            out.append(seg("CAS", group, *triplets))
    return out


def _claim(remit: Remittance, filing_indicator: str, patient: tuple[str, str] | None,
           service_date: date | None) -> list[Segment]:  # fmt: skip
    charge = remit.claim_charge
    if charge is None:
        charge = sum((line.charge for line in remit.lines), ZERO)
    patient_share = remit.claim_patient_responsibility
    if patient_share is None:
        patient_share = sum(
            (a.amount for ln in remit.lines for a in ln.adjustments if a.group == "PR"), ZERO
        )
    last, first = patient or ("", "")
    out = [
        seg("CLP", remit.claim_control_number, remit.status, amount_text(charge), amount_text(remit.paid),
            amount_text(patient_share), filing_indicator, remit.payer_claim_number),
        *_cas_segments(remit.claim_adjustments),
        seg("NM1", "QC", "1", last, first, "", "", "", "MI", remit.member_id),
    ]  # fmt: skip
    for line in remit.lines:
        out.append(
            seg(
                "SVC", f"HC:{line.procedure_code}", amount_text(line.charge), amount_text(line.paid)
            )
        )
        if service_date is not None:
            out.append(seg("DTM", "472", d8_text(service_date)))
        out += _cas_segments(line.adjustments)
        out.append(seg("REF", "6R", line.line_number))
        out.append(seg("AMT", "B6", amount_text(line.allowed)))
        out += [seg("LQ", "HE", remark) for remark in line.remarks]
    return out


def build_835(
    remittances: list[Remittance], payer_name: str, payer_id: str, payee_name: str,
    payee_npi: str, when: datetime, control_number: int,
    provider_adjustments: list[ProviderAdjustment] | None = None,
    patients: dict[str, tuple[str, str]] | None = None,  # claim control number -> (last, first)
    service_dates: dict[str, date] | None = None,  # claim control number -> DTM*472
    filing_indicator: str = "12",  # CLP06 (CI is not valid in an 835): 12 PPO, MB, MC, HM...
    payer_address: tuple[str, str, str, str] = ("1 PAYER WAY", "CHICAGO", "IL", "60601"),
    payer_phone: str = "8005551212",
) -> str:  # fmt: skip
    """An 835 interchange; provider adjustments (PLB) go in the last transaction."""
    if not remittances:
        raise ValueError("an 835 needs at least one remittance")
    by_date: dict[date, list[Remittance]] = defaultdict(list)
    for remit in remittances:
        if remit.payer_id != payer_id:
            raise ValueError(
                f"remittance {remit.claim_control_number} is from {remit.payer_id}, not {payer_id}"
            )
        by_date[remit.adjudication_date].append(remit)
    patients, service_dates = patients or {}, service_dates or {}
    transactions = []
    for n, (paid_on, group) in enumerate(sorted(by_date.items()), start=1):
        plbs = (provider_adjustments or []) if n == len(by_date) else []
        total = sum((r.paid for r in group), ZERO) - sum((p.amount for p in plbs), ZERO)
        if total < 0:
            raise ValueError(f"the payment total {total} is negative; carry it with a PLB FB")
        method = ("I", amount_text(total), "C", "CHK") if total else ("H", "0", "C", "NON")
        body = [
            seg("BPR", *method, *[""] * 11, d8_text(paid_on)),
            seg("TRN", "1", f"{control_number}-{n}", "1" + payer_id.rjust(9, "0")[-9:]),
            seg("DTM", "405", d8_text(paid_on)),
            seg("N1", "PR", payer_name),
            seg("N3", payer_address[0]),
            seg("N4", *payer_address[1:]),
            seg("REF", "2U", payer_id),
            seg("PER", "BL", "EDI DEPT", "TE", payer_phone),
            seg("N1", "PE", payee_name, "XX", payee_npi),
            seg("LX", "1"),
        ]
        for remit in group:
            ccn = remit.claim_control_number
            body += _claim(remit, filing_indicator, patients.get(ccn), service_dates.get(ccn))
        for start in range(0, len(plbs), 6):
            pairs = [x for p in plbs[start : start + 6]
                     for x in (f"{p.reason}:{p.reference}" if p.reference else p.reason, amount_text(p.amount))]  # fmt: skip
            body.append(seg("PLB", payee_npi, f"{paid_on.year}1231", *pairs))
        transactions.append(("835", body))
    # ST03 is Not Used in X221A1 (pyx12 rejects it).
    return build_interchange(
        "HP", VERSION, transactions, payer_id, payee_npi, control_number, when, version_in_st=False
    )
