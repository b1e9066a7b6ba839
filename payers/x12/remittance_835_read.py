"""Read an 835 ERA (005010X221A1) into `Remittance`s and its PLB provider adjustments.

CAS groups are CO/OA/PI/PR only (a 5010 835 has no CR); a reversal is CLP02 22 with negated
amounts. A 4010 835 is refused, not read as if it were one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import get_args

from cob.model import Adjustment, ClaimStatusCode, LineAdjudication, Remittance
from cob.money import allowed_amount
from payers.x12.remittance_835_build import (
    SEQUENCE_BY_STATUS,
    VERSION,
    ZERO,
    ProviderAdjustment,
)
from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
    amount_element,
    date_element,
    transactions_of,
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


def amount_of(segment: Segment, number: int) -> Decimal:
    return amount_element(segment, number, empty=ZERO)


def adjustments_of(cas: Segment) -> list[Adjustment]:
    """CAS01 group, then up to six reason/amount/quantity triplets."""
    if cas[1] not in GROUPS:
        raise X12Error(f"CAS01 {cas[1]!r} is not a 5010 835 group code (CO, OA, PI, PR)",
                       "CAS", cas.position)  # fmt: skip
    found = []
    for n in range(2, 19, 3):
        if cas[n]:
            found.append(Adjustment(group=cas[1], reason=cas[n], amount=amount_of(cas, n + 1)))
        elif cas[n + 1]:
            raise X12Error(f"CAS{n + 1:02d} {cas[n + 1]} has no reason code in CAS{n:02d}",
                           "CAS", cas.position)  # fmt: skip
    return found


def claim_loops_of(txn: Transaction) -> tuple[list[Segment], list[ClaimLoop], list[Segment]]:
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


def first_segment(
    segments: list[Segment], segment_id: str, qualifier: str | None = None
) -> Segment | None:
    return next(
        (s for s in segments if s.id == segment_id and (qualifier is None or s[1] == qualifier)),
        None,
    )


def _line(svc: Segment, segments: list[Segment], n: int) -> LineAdjudication:
    adjustments = [a for cas in segments if cas.id == "CAS" for a in adjustments_of(cas)]
    control = next((s[2] for s in segments if s.id == "REF" and s[1] == "6R"), "")
    b6 = first_segment(segments, "AMT", "B6")
    charge, paid = amount_of(svc, 2), amount_of(svc, 3)
    allowed = amount_of(b6, 2) if b6 else allowed_amount(charge, adjustments)
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
    insured = first_segment(loop.segments, "NM1", "IL") or first_segment(loop.segments, "NM1", "QC")
    lines = [_line(svc, segments, n) for n, (svc, segments) in enumerate(loop.lines, start=1)]
    return Remittance(
        claim_control_number=clp[1], payer_id=payer_id, member_id=insured[9] if insured else "",
        payer_claim_number=clp[7], payer_sequence=SEQUENCE_BY_STATUS.get(clp[2], 0),
        status=clp[2], adjudication_date=paid_on, lines=lines,  # type: ignore[arg-type]
        claim_charge=amount_of(clp, 3), claim_paid=amount_of(clp, 4),
        claim_patient_responsibility=amount_of(clp, 5),
        claim_adjustments=[a for s in loop.segments if s.id == "CAS" for a in adjustments_of(s)],
        claim_remarks=_remarks(loop.segments), filing_indicator=clp[6],
    )  # fmt: skip


def provider_adjustments_of(plb: Segment) -> list[ProviderAdjustment]:
    """PLB03/04 ... PLB13/14: reason:reference and amount (positive reduces the payment)."""
    period = date_element(plb, 2) if plb[2] else None
    found = []
    for n in range(3, 14, 2):
        if not plb[n] and not plb[n + 1]:
            continue
        reason = plb.component(n, 1)
        if not reason:
            raise X12Error(f"PLB{n:02d}-1 (the adjustment reason) is missing", "PLB", plb.position)
        found.append(ProviderAdjustment(reason=reason, amount=amount_of(plb, n + 1),
                                        reference=plb.component(n, 2), provider_id=plb[1],
                                        period_end=period))  # fmt: skip
    return found


def read_advice(txn: Transaction) -> RemittanceAdvice:
    """One 835 transaction; X12Error names the segment when it cannot be read."""
    _check_guide(txn)
    header, claims, plbs = claim_loops_of(txn)
    bpr = first_segment(header, "BPR")
    if bpr is None:
        raise X12Error("the 835 has no BPR (financial information)", "ST", txn.st.position)
    trn, dated = first_segment(header, "TRN"), first_segment(header, "DTM", "405")
    payer = first_segment(header, "N1", "PR")
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
    payee = first_segment(header, "N1", "PE")
    return RemittanceAdvice(
        control=txn.st[2], payer_name=payer[2], payer_ids=ids, payee_id=payee[4] if payee else "",
        trace_number=trn[2] if trn is not None else "", payment=amount_of(bpr, 2), paid_on=paid_on,
        remittances=[_remittance(loop, payer_id, paid_on) for loop in claims],
        provider_adjustments=[a for plb in plbs for a in provider_adjustments_of(plb)],
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


def transactions_835(text: str) -> list[Transaction]:
    found = transactions_of(text)
    for txn in found:
        _check_guide(txn)
    if not found:
        raise X12Error("no 835 transaction in the file", "ST")
    return found
