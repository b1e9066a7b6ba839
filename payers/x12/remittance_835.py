"""835 ERA (005010X221A1): build, parse and balance-check.

One ST/SE transaction per adjudication date (DTM*405 / BPR16 carry it), so build -> parse
gives back the same `Remittance` objects. CAS groups are CO/OA/PI/PR only (5010 835); a
reversal is CLP02 22 with negated amounts. pyx12 validates the structure, `check_835_balance`
the arithmetic it does not check.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import get_args

from cob.model import Adjustment, ClaimStatusCode, LineAdjudication, Remittance
from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
    amount_element,
    amount_text,
    build_interchange,
    d8_text,
    date_element,
    seg,
    transactions_of,
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
        out.append(seg("SVC", f"HC:{line.procedure_code}", amount_text(line.charge), amount_text(line.paid)))
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


# --- reading -------------------------------------------------------------------------------
# 005010X221A1 loops: header (BPR, TRN, DTM*405), 1000A payer (N1*PR, REF*2U), 1000B payee
# (N1*PE), 2000 (LX, TS3, TS2), 2100 claim (CLP, CAS, NM1, MIA, MOA, REF, DTM, AMT), 2110
# service line (SVC, DTM, CAS, REF, AMT, LQ), summary (PLB).

CLAIM_STATUSES = get_args(ClaimStatusCode)
GROUPS = ("CO", "OA", "PI", "PR")  # CAS01 in a 5010 835 (CR is not valid there)


@dataclass
class ClaimLoop:  # one 2100 loop and its 2110 lines, as segments
    clp: Segment
    segments: list[Segment] = field(default_factory=list)
    lines: list[tuple[Segment, list[Segment]]] = field(default_factory=list)


@dataclass
class RemittanceAdvice:
    """One 835 transaction as read: who paid whom, how much, for which claims."""

    control: str  # ST02
    payer_name: str  # 1000A N1*PR N102
    payer_ids: list[str]  # what a payer directory may know the payer by: REF*2U, N104, TRN03
    payee_id: str  # 1000B N1*PE N104 (NPI or TIN)
    trace_number: str  # TRN02: the check or EFT number
    payment: Decimal  # BPR02
    paid_on: date
    remittances: list[Remittance]
    provider_adjustments: list[ProviderAdjustment]
    claim_positions: list[int]  # each CLP's segment position, for messages


def _amount(segment: Segment, number: int) -> Decimal:
    return amount_element(segment, number, empty=ZERO)


def _adjustments(cas: Segment) -> list[Adjustment]:
    """CAS01 group, then up to six reason/amount/quantity triplets."""
    if cas[1] not in GROUPS:
        raise X12Error(f"CAS01 {cas[1]!r} is not a 5010 835 group code (CO, OA, PI, PR)",
                       "CAS", cas.position)  # fmt: skip
    found = []
    for n in range(2, 19, 3):
        if cas[n]:
            found.append(Adjustment(group=cas[1], reason=cas[n], amount=_amount(cas, n + 1)))
        elif cas[n + 1]:
            raise X12Error(f"CAS{n + 1:02d} {cas[n + 1]} has no reason code in CAS{n:02d}",
                           "CAS", cas.position)  # fmt: skip
    return found


def _claim_loops(txn: Transaction) -> tuple[list[Segment], list[ClaimLoop], list[Segment]]:
    """(header and 1000 segments, claims, PLB segments) of an 835 transaction."""
    header: list[Segment] = []
    claims: list[ClaimLoop] = []
    plbs: list[Segment] = []
    for segment in txn.body:
        if segment.id == "PLB":
            plbs.append(segment)
        elif plbs:
            raise X12Error("only PLB may follow the first PLB", segment.id, segment.position)
        elif segment.id == "CLP":
            claims.append(ClaimLoop(segment))
        elif not claims:
            header.append(segment)
        elif segment.id in ("LX", "TS3", "TS2"):
            continue  # a new 2000 loop (its number, the provider summary): a CLP follows
        elif segment.id == "SVC":
            claims[-1].lines.append((segment, []))
        elif claims[-1].lines:
            claims[-1].lines[-1][1].append(segment)
        else:
            claims[-1].segments.append(segment)
    return header, claims, plbs


def _first(segments: list[Segment], segment_id: str, qualifier: str | None = None) -> Segment | None:
    return next(
        (s for s in segments if s.id == segment_id and (qualifier is None or s[1] == qualifier)),
        None,
    )


def _line(svc: Segment, segments: list[Segment], n: int) -> LineAdjudication:
    adjustments = [a for cas in segments if cas.id == "CAS" for a in _adjustments(cas)]
    control = next((s[2] for s in segments if s.id == "REF" and s[1] == "6R"), "")
    b6 = _first(segments, "AMT", "B6")
    charge, paid = _amount(svc, 2), _amount(svc, 3)
    allowed = _amount(b6, 2) if b6 else charge - sum(
        (a.amount for a in adjustments if a.group != "PR"), ZERO
    )  # fmt: skip
    code = svc.component(1, 2)
    if not code:
        raise X12Error("SVC01-2 (the procedure code) is missing", "SVC", svc.position)
    number = int(control) if control.isdigit() and 0 < int(control) < 10000 else n
    return LineAdjudication(
        line_number=number, procedure_code=code, charge=charge, allowed=allowed, paid=paid,
        adjustments=adjustments, remarks=[s[2] for s in segments if s.id == "LQ" and s[1] == "HE"],
        control_number="" if control.isdigit() else control,
    )  # fmt: skip


def _remarks(segments: list[Segment]) -> list[str]:
    """Claim-level remark codes: MOA03-07 (outpatient), MIA05 and MIA20-23 (inpatient)."""
    found = []
    for s in segments:
        numbers = (3, 4, 5, 6, 7) if s.id == "MOA" else (5, 20, 21, 22, 23) if s.id == "MIA" else ()
        found += [s[n] for n in numbers if s[n]]
    return found


def _remittance(loop: ClaimLoop, payer_id: str, paid_on: date) -> Remittance:
    clp = loop.clp
    if not clp[1]:
        raise X12Error("CLP01 (the claim control number) is missing", "CLP", clp.position)
    if clp[2] not in CLAIM_STATUSES:
        raise X12Error(f"CLP02 {clp[2]!r} is not a 5010 claim status code "
                       f"({', '.join(CLAIM_STATUSES)})", "CLP", clp.position)  # fmt: skip
    insured = _first(loop.segments, "NM1", "IL") or _first(loop.segments, "NM1", "QC")
    lines = [_line(svc, segments, n) for n, (svc, segments) in enumerate(loop.lines, start=1)]
    return Remittance(
        claim_control_number=clp[1], payer_id=payer_id, member_id=insured[9] if insured else "",
        payer_claim_number=clp[7], payer_sequence=SEQUENCE_BY_STATUS.get(clp[2], 0),
        status=clp[2], adjudication_date=paid_on, lines=lines,  # type: ignore[arg-type]
        claim_charge=_amount(clp, 3), claim_paid=_amount(clp, 4),
        claim_patient_responsibility=_amount(clp, 5),
        claim_adjustments=[a for s in loop.segments if s.id == "CAS" for a in _adjustments(s)],
        claim_remarks=_remarks(loop.segments), filing_indicator=clp[6],
    )  # fmt: skip


def _provider_adjustments(plb: Segment) -> list[ProviderAdjustment]:
    """PLB03/04 ... PLB13/14: reason:reference and amount (positive reduces the payment)."""
    period = date_element(plb, 2) if plb[2] else None
    found = []
    for n in range(3, 14, 2):
        if not plb[n] and not plb[n + 1]:
            continue
        reason = plb.component(n, 1)
        if not reason:
            raise X12Error(f"PLB{n:02d}-1 (the adjustment reason) is missing", "PLB", plb.position)
        found.append(ProviderAdjustment(reason=reason, amount=_amount(plb, n + 1),
                                        reference=plb.component(n, 2), provider_id=plb[1],
                                        period_end=period))  # fmt: skip
    return found


def read_advice(txn: Transaction) -> RemittanceAdvice:
    """One 835 transaction; X12Error names the segment when it cannot be read."""
    _check_guide(txn)
    header, claims, plbs = _claim_loops(txn)
    bpr = _first(header, "BPR")
    if bpr is None:
        raise X12Error("the 835 has no BPR (financial information)", "ST", txn.st.position)
    trn, dated = _first(header, "TRN"), _first(header, "DTM", "405")
    payer = _first(header, "N1", "PR")
    if payer is None:
        raise X12Error("the 835 has no N1*PR (1000A payer identification)", "ST", txn.st.position)
    ids = [s[2] for s in header if s.id == "REF" and s[1] == "2U"]
    ids += [payer[4]] if payer[4] else []
    ids += [trn[3]] if trn is not None and trn[3] else []
    if dated is not None:
        paid_on = date_element(dated, 2)
    elif bpr[16]:
        paid_on = date_element(bpr, 16)
    else:
        raise X12Error("neither DTM*405 nor BPR16 dates the payment", "BPR", bpr.position)
    payer_id = ids[0] if ids else payer[2]
    payee = _first(header, "N1", "PE")
    return RemittanceAdvice(
        control=txn.st[2], payer_name=payer[2], payer_ids=ids, payee_id=payee[4] if payee else "",
        trace_number=trn[2] if trn is not None else "", payment=_amount(bpr, 2), paid_on=paid_on,
        remittances=[_remittance(loop, payer_id, paid_on) for loop in claims],
        provider_adjustments=[a for plb in plbs for a in _provider_adjustments(plb)],
        claim_positions=[loop.clp.position for loop in claims],
    )  # fmt: skip


def _check_guide(txn: Transaction) -> None:
    """An 835 under the 5010 guide (GS08 005010X221, with or without its A1 addendum): a 4010
    835 (004010X091) has other codes (CAS*CR) and is not read as if it were one."""
    if txn.code != "835":
        raise X12Error(f"ST01 {txn.code} is not an 835", "ST", txn.st.position)
    if not txn.version.startswith(VERSION[:10]):
        raise X12Error(f"GS08 {txn.version!r} is not the 5010 835 guide ({VERSION}): the engine "
                       "reads 5010 only", "GS", txn.gs.position)  # fmt: skip


def _transactions(text: str) -> list[Transaction]:
    found = transactions_of(text)
    for txn in found:
        _check_guide(txn)
    if not found:
        raise X12Error("no 835 transaction in the file", "ST")
    return found


def read_835(text: str) -> list[RemittanceAdvice]:
    """Every 835 transaction of every interchange in a file, balanced (check_balance)."""
    advices = []
    for txn in _transactions(text):
        check_balance(txn)
        advices.append(read_advice(txn))
    return advices


def read_claims(text: str) -> list[tuple[Remittance, int]]:
    """Every claim of every 835 in the file, in file order, with its CLP's position."""
    found = []
    for txn in _transactions(text):
        advice = read_advice(txn)
        found += zip(advice.remittances, advice.claim_positions, strict=True)
    return found


def parse_835(text: str) -> list[Remittance]:
    """Every claim of every 835 in the file, in file order."""
    return [remittance for remittance, _ in read_claims(text)]


def _cas_total(segments: list[Segment]) -> Decimal:
    return sum((a.amount for s in segments if s.id == "CAS" for a in _adjustments(s)), ZERO)


def check_balance(txn: Transaction) -> None:
    """The 005010X221A1 balancing rules; X12Error names the first SVC, CLP or BPR at fault:
    a line SVC02 − line CAS = SVC03; a claim CLP03 − claim CAS − Σ line CAS = CLP04 (lines
    or not); the transaction BPR02 = Σ CLP04 − Σ PLB amounts."""
    header, claims, plbs = _claim_loops(txn)
    bpr = _first(header, "BPR")
    if bpr is None:
        raise X12Error("the 835 has no BPR (financial information)", "ST", txn.st.position)
    claims_paid = ZERO
    for loop in claims:
        adjusted = _cas_total(loop.segments)
        for svc, segments in loop.lines:
            charge, paid, line_cas = _amount(svc, 2), _amount(svc, 3), _cas_total(segments)
            if charge - line_cas != paid:
                raise X12Error(f"SVC02 {charge} - CAS {line_cas} = {charge - line_cas}, "
                               f"but SVC03 is {paid}", "SVC", svc.position)  # fmt: skip
            adjusted += line_cas
        charge, paid = _amount(loop.clp, 3), _amount(loop.clp, 4)
        if charge - adjusted != paid:
            raise X12Error(f"CLP03 {charge} - CAS {adjusted} = {charge - adjusted}, "
                           f"but CLP04 is {paid}", "CLP", loop.clp.position)  # fmt: skip
        claims_paid += paid
    plb = sum((a.amount for s in plbs for a in _provider_adjustments(s)), ZERO)
    if _amount(bpr, 2) != claims_paid - plb:
        raise X12Error(f"BPR02 {_amount(bpr, 2)} differs from CLP04 total {claims_paid} - PLB "
                       f"{plb} = {claims_paid - plb}", "BPR", bpr.position)  # fmt: skip


def check_835_balance(text: str) -> None:
    """Raise X12Error on the first SVC, CLP or BPR that does not balance (check_balance)."""
    for txn in _transactions(text):
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
