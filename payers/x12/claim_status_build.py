"""Write the 276 claim status inquiry and the 277 answer (005010X212). One 2200 loop per claim:
the trace goes out as TRN*1 and comes back as TRN*2; REF*EJ is our claim control number
(CLM01), REF*1K the payer's. Reading them back: `payers.x12.claim_status_parse`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from cob.claim_status import ClaimStatusReport, StatusLevel
from cob.model import Relationship
from payers.x12.parties import MemberInquiry
from payers.x12.segments import (
    Segment,
    amount_text,
    build_interchange,
    d8_text,
    seg,
)

VERSION = "005010X212"
FUNCTIONAL_ID = {"276": "HR", "277": "HN"}  # GS01 (005010X212)
CATEGORIES = frozenset(  # STC01-1: X12 External Code Source 507
    "A0 A1 A2 A3 A4 A5 A6 A7 A8 D0 E0 E1 E2 E3 E4 F0 F1 F2 F3 F3F F3N F4 F5 P0 P1 P2 P3 P4 P5 "
    "R0 R1 RQ X0".split() + [f"R{n}" for n in range(3, 18)]
)  # fmt: skip
LEVEL_NAMES: dict[str, StatusLevel] = {"21": "2200B", "19": "2200C"}  # HL03 -> STC loop, X212


class StatusInquiry(MemberInquiry):
    """One 2200 loop of a 276: which claim we ask about, and who we are."""

    claim_control_number: str  # REF*EJ (CLM01 of the claim); "" when not sent
    payer_claim_number: str | None = None  # REF*1K when known
    charge: Decimal | None  # AMT*T3; None when not sent (situational in X212)


def _check_parties(inquiries: list[StatusInquiry]) -> StatusInquiry:
    """One interchange goes from one provider to one payer: 2000A-2000C are written once."""
    if not inquiries:
        raise ValueError("a 276/277 needs at least one claim")
    parties = {(i.payer_id, i.provider_name, i.provider_npi) for i in inquiries}
    if len(parties) > 1:
        raise ValueError(f"the inquiries must share payer and provider; got {sorted(parties)}")
    for i in inquiries:
        if i.relationship == Relationship.SELF and i.patient != i.subscriber:
            raise ValueError(f"claim {i.claim_control_number}: self, yet patient != subscriber")
    return inquiries[0]


def _header(first: StatusInquiry) -> list[Segment]:
    """2000A payer, 2000B information receiver (the provider itself), 2000C service provider."""
    return [
        seg("HL", 1, "", "20", 1),
        seg("NM1", "PR", "2", first.payer_id, "", "", "", "", "PI", first.payer_id),
        seg("HL", 2, 1, "21", 1),
        seg("NM1", "41", "2", first.provider_name, "", "", "", "", "46", first.provider_npi),
        seg("HL", 3, 2, "19", 1),
        seg("NM1", "1P", "2", first.provider_name, "", "", "", "", "XX", first.provider_npi),
    ]


def _levels(inquiry: StatusInquiry, hl: int, demographics: bool) -> tuple[list[Segment], int]:
    """2000D subscriber [and 2000E dependent] for one claim, DMG only in the 276; next HL id."""
    dependent = inquiry.relationship != Relationship.SELF
    sub, pat = inquiry.subscriber, inquiry.patient
    out = [seg("HL", hl, 3, "22", int(dependent))]
    out += [seg("DMG", "D8", d8_text(sub.birth_date), sub.sex)] if demographics and sub else []
    out.append(seg("NM1", "IL", "1", sub.last_name if sub else "", sub.first_name if sub else "",
                   "", "", "", "MI", inquiry.member_id))  # fmt: skip
    if dependent:
        out.append(seg("HL", hl + 1, hl, "23"))
        out += [seg("DMG", "D8", d8_text(pat.birth_date), pat.sex)] if demographics else []
        out.append(seg("NM1", "QC", "1", pat.last_name, pat.first_name))
    return out, hl + 1 + int(dependent)


def _service_date(day: date) -> Segment:
    return seg("DTP", "472", "RD8", f"{d8_text(day)}-{d8_text(day)}")  # RD8 is valid in 276 and 277


def _claim_refs(payer_claim_number: str | None, claim_control_number: str) -> list[Segment]:
    payers = [seg("REF", "1K", payer_claim_number)] if payer_claim_number else []
    return [*payers, seg("REF", "EJ", claim_control_number)]


def build_276(inquiries: list[StatusInquiry], when: datetime, control_number: int) -> str:
    first = _check_parties(inquiries)
    body = [seg("BHT", "0010", "13", control_number, d8_text(when), when.strftime("%H%M"))]
    body += _header(first)
    hl = 4
    for i in inquiries:
        levels, hl = _levels(i, hl, demographics=True)
        body += [*levels, seg("TRN", "1", i.trace_number),
                 *_claim_refs(i.payer_claim_number, i.claim_control_number),
                 *([seg("AMT", "T3", amount_text(i.charge))] if i.charge is not None else []),
                 _service_date(i.service_date)]  # fmt: skip
    return build_interchange(
        "HR", VERSION, [("276", body)], first.provider_npi, first.payer_id, control_number, when
    )


def build_277(
    inquiries: list[StatusInquiry],
    statuses: list[ClaimStatusReport],
    when: datetime,
    control_number: int,
) -> str:
    """statuses[i] answers inquiries[i]. STC05 is written for finalized (or paid) claims; STC12
    only when there is a message (X212 marks it Not Used, so strict validators reject it)."""
    first = _check_parties(inquiries)
    if len(statuses) != len(inquiries):
        raise ValueError(f"{len(statuses)} statuses for {len(inquiries)} inquiries")
    body = [seg("BHT", "0010", "08", control_number, d8_text(when), when.strftime("%H%M"), "DG")]
    body += _header(first)
    hl = 4
    for i, status in zip(inquiries, statuses, strict=True):
        if status.trace_number != i.trace_number:
            raise ValueError(f"status trace {status.trace_number} answers no inquiry here "
                             f"(expected {i.trace_number})")  # fmt: skip
        if status.category not in CATEGORIES:
            raise ValueError(f"{status.category!r} is not a claim status category (STC01-1)")
        paid = amount_text(status.paid) if status.finalized or status.paid else ""
        charge = amount_text(status.charge) if status.charge is not None else ""
        levels, hl = _levels(i, hl, demographics=False)
        stc01 = f"{status.category}:{status.status_code}"
        body += [*levels, seg("TRN", "2", status.trace_number),
                 seg("STC", stc01, d8_text(status.effective_date), "", charge, paid,
                     *[""] * 6, status.message),
                 *_claim_refs(status.payer_claim_number, status.claim_control_number),
                 _service_date(i.service_date)]  # fmt: skip
    return build_interchange(
        "HN", VERSION, [("277", body)], first.payer_id, first.provider_npi, control_number, when
    )
