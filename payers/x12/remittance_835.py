"""835 ERA (005010X221A1): build, parse and balance-check (DOMAIN.md §3.6).

One ST/SE transaction per adjudication date (DTM*405 / BPR16 carry it), so build -> parse
gives back the same `Remittance` objects. CAS groups are CO/OA/PI/PR only (5010 835); a
reversal is CLP02 22 with negated amounts. pyx12 validates the structure, `check_835_balance`
the arithmetic it does not check.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from cob.model import Adjustment, LineAdjudication, Remittance
from payers.x12.segments import Segment, X12Error, build_interchange, parse_interchange, seg

VERSION = "005010X221A1"
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
SEQUENCE_BY_STATUS = {"1": 1, "2": 2, "3": 3, "19": 1, "20": 2}


@dataclass(frozen=True)
class ProviderAdjustment:
    """A PLB reason/amount: positive reduces the payment (WO recovery), negative adds (L6)."""

    reason: str  # PLB03-1, e.g. L6, WO, FB
    amount: Decimal
    reference: str = ""  # PLB03-2, e.g. the original ICN being recouped


def money(amount: Decimal) -> str:
    """Canonical X12 amount: 2 decimals at most, no trailing zeros (100, 22.5, -80)."""
    text = f"{Decimal(amount).quantize(CENT):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _amount(segment: Segment, number: int) -> Decimal:
    raw = segment[number]
    try:
        return Decimal(raw or "0").quantize(CENT)
    except ArithmeticError:
        raise X12Error(
            f"element {number:02d} {raw!r} is not an amount", segment.id, segment.position
        ) from None


def _d8(value: date) -> str:
    return value.strftime("%Y%m%d")


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
                x for a in items[start : start + 6] for x in (a.reason, money(a.amount), "")
            ]
            out.append(seg("CAS", group, *triplets))
    return out


def _claim(remit: Remittance, filing_indicator: str, patient: tuple[str, str] | None,
           service_date: date | None) -> list[Segment]:  # fmt: skip
    charge = sum((line.charge for line in remit.lines), ZERO)
    patient_share = sum(
        (a.amount for ln in remit.lines for a in ln.adjustments if a.group == "PR"), ZERO
    )
    last, first = patient or ("", "")
    out = [
        seg("CLP", remit.claim_control_number, remit.status, money(charge), money(remit.paid),
            money(patient_share), filing_indicator, remit.payer_claim_number),
        seg("NM1", "QC", "1", last, first, "", "", "", "MI", remit.member_id),
    ]  # fmt: skip
    for line in remit.lines:
        out.append(seg("SVC", f"HC:{line.procedure_code}", money(line.charge), money(line.paid)))
        if service_date is not None:
            out.append(seg("DTM", "472", _d8(service_date)))
        out += _cas_segments(line.adjustments)
        out.append(seg("REF", "6R", line.line_number))
        out.append(seg("AMT", "B6", money(line.allowed)))
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
        method = ("I", money(total), "C", "CHK") if total else ("H", "0", "C", "NON")
        body = [
            seg("BPR", *method, *[""] * 11, _d8(paid_on)),
            seg("TRN", "1", f"{control_number}-{n}", "1" + payer_id.rjust(9, "0")[-9:]),
            seg("DTM", "405", _d8(paid_on)),
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
                     for x in (f"{p.reason}:{p.reference}" if p.reference else p.reason, money(p.amount))]  # fmt: skip
            body.append(seg("PLB", payee_npi, f"{paid_on.year}1231", *pairs))
        transactions.append(("835", body))
    # ST03 is Not Used in X221A1 (pyx12 rejects it).
    return build_interchange(
        "HP", VERSION, transactions, payer_id, payee_npi, control_number, when, version_in_st=False
    )


# --- parsing and balancing ----------------------------------------------------------------


def _transactions(text: str):
    interchange = parse_interchange(text)
    found = [t for t in interchange.transactions if t.code == "835"]
    if not found:
        raise X12Error("no 835 transaction in the interchange", "ST")
    return interchange.separators, found


def _claims(
    body: list[Segment],
) -> list[tuple[Segment, list[Segment], list[tuple[Segment, list[Segment]]]]]:
    """(CLP, claim-level segments, [(SVC, line segments)]) for each claim of a transaction."""
    claims: list = []
    for segment in body:
        if segment.id == "CLP":
            claims.append((segment, [], []))
        elif segment.id == "SVC" and claims:
            claims[-1][2].append((segment, []))
        elif segment.id in ("PLB", "SE"):
            break
        elif claims:
            (claims[-1][2][-1][1] if claims[-1][2] else claims[-1][1]).append(segment)
    return claims


def _cas_total(segments: list[Segment]) -> Decimal:
    return sum((_amount(s, i) for s in segments if s.id == "CAS" for i in range(3, 19, 3)), ZERO)


def parse_835(text: str) -> list[Remittance]:
    separators, transactions = _transactions(text)
    out = []
    for txn in transactions:
        first = {s.id + (s[1] if s.id in ("DTM", "REF") else ""): s for s in reversed(txn.body)}
        payer_ref = first.get("REF2U") or first.get("N1")
        payer_id = payer_ref[2] if payer_ref.id == "REF" else payer_ref[4]
        dated = first.get("DTM405")
        raw_date = dated[2] if dated else first["BPR"][16]
        try:
            paid_on = datetime.strptime(raw_date, "%Y%m%d").date()
        except ValueError:
            raise X12Error(
                f"{raw_date!r} is not a CCYYMMDD date", "DTM", dated.position if dated else None
            ) from None
        for clp, claim_segments, lines in _claims(txn.body):
            patient = next((s for s in claim_segments if s.id == "NM1" and s[1] == "QC"), None)
            adjudicated = []
            for n, (svc, line_segments) in enumerate(lines, start=1):
                adjustments = [
                    Adjustment(group=cas[1], reason=cas[i], amount=_amount(cas, i + 1))
                    for cas in line_segments if cas.id == "CAS" for i in range(2, 19, 3) if cas[i]
                ]  # fmt: skip
                number = next(
                    (s[2] for s in line_segments if s.id == "REF" and s[1] == "6R"), str(n)
                )
                allowed = next(
                    (_amount(s, 2) for s in line_segments if s.id == "AMT" and s[1] == "B6"), None
                )
                if allowed is None:
                    allowed = _amount(svc, 2) - sum(
                        (a.amount for a in adjustments if a.group != "PR"), ZERO
                    )
                adjudicated.append(LineAdjudication(
                    line_number=int(number), procedure_code=svc.components(1, separators)[-1],
                    charge=_amount(svc, 2), allowed=allowed, paid=_amount(svc, 3), adjustments=adjustments,
                    remarks=[s[2] for s in line_segments if s.id == "LQ" and s[1] == "HE"],
                ))  # fmt: skip
            try:
                out.append(Remittance(
                    claim_control_number=clp[1], payer_id=payer_id, member_id=patient[9] if patient else "",
                    payer_claim_number=clp[7], payer_sequence=SEQUENCE_BY_STATUS.get(clp[2], 0),
                    status=clp[2], adjudication_date=paid_on, lines=adjudicated,
                ))  # fmt: skip
            except ValueError as exc:
                raise X12Error(f"cannot read the claim: {exc}", "CLP", clp.position) from None
    return out


def check_835_balance(text: str) -> None:
    """Raise X12Error on the first SVC, CLP or BPR that does not balance (DOMAIN.md §3.6)."""
    _, transactions = _transactions(text)
    for txn in transactions:
        bpr = next((s for s in txn.body if s.id == "BPR"), None)
        if bpr is None:
            raise X12Error("the 835 has no BPR", "ST", txn.st.position)
        claims_paid = ZERO
        for clp, claim_segments, lines in _claims(txn.body):
            adjusted, lines_paid = _cas_total(claim_segments), ZERO
            for svc, line_segments in lines:
                charge, paid, line_cas = _amount(svc, 2), _amount(svc, 3), _cas_total(line_segments)
                if charge - line_cas != paid:
                    raise X12Error(f"SVC02 {charge} - CAS {line_cas} = {charge - line_cas}, "
                                   f"but SVC03 is {paid}", "SVC", svc.position)  # fmt: skip
                adjusted += line_cas
                lines_paid += paid
            charge, paid = _amount(clp, 3), _amount(clp, 4)
            if charge - adjusted != paid:
                raise X12Error(f"CLP03 {charge} - CAS {adjusted} = {charge - adjusted}, "
                               f"but CLP04 is {paid}", "CLP", clp.position)  # fmt: skip
            if lines and lines_paid != paid:
                raise X12Error(
                    f"CLP04 {paid} differs from the SVC03 total {lines_paid}", "CLP", clp.position
                )
            claims_paid += paid
        plb = sum((_amount(s, i) for s in txn.body if s.id == "PLB" for i in range(4, 15, 2)), ZERO)
        if _amount(bpr, 2) != claims_paid - plb:
            raise X12Error(f"BPR02 {_amount(bpr, 2)} differs from CLP04 total {claims_paid} - PLB {plb} = "
                           f"{claims_paid - plb}", "BPR", bpr.position)  # fmt: skip
