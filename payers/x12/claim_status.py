"""276/277 claim status inquiry and response (005010X212): build them and read them back.

The engine polls with a 276 when a claim was accepted (277CA A2) but no 835 has come, and acts
on the 277's STC01 category (DOMAIN.md §3.5): wait (P*), await the 835 (F*), resubmit (A4) or
search with other keys (D0). One 2200 loop per claim: the trace goes out as TRN*1 and comes back
as TRN*2; REF*EJ is our claim control number (CLM01), REF*1K the payer's.

The 276 says only whether the patient is the subscriber (a 2000E dependent level or not), not
how they are related, so a dependent reads back as Relationship.OTHER. pyx12 has no 5010 276 map
(DOMAIN.md §3.7): the checks here are its validation.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal

from pydantic import ValidationError

from cob.model import Model, Person, Relationship
from payers.x12.claim_837p import amount, d8
from payers.x12.parties import MemberInquiry
from payers.x12.segments import (
    Segment,
    Separators,
    X12Error,
    build_interchange,
    parse_interchange,
    seg,
)

VERSION = "005010X212"
FUNCTIONAL_ID = {"276": "HR", "277": "HN"}  # GS01, DOMAIN.md §3.1
CATEGORIES = frozenset(  # STC01-1 code set, DOMAIN.md §3.5
    "A0 A1 A2 A3 A4 A5 A6 A7 A8 D0 E0 E1 E2 E3 E4 F0 F1 F2 F3 F3F F3N F4 F5 P0 P1 P2 P3 P4 P5 "
    "R0 R1 RQ X0".split() + [f"R{n}" for n in range(3, 18)]
)  # fmt: skip
AMOUNT = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")
# HL03 22 forgets the previous claim's subscriber and dependent; 23 only the dependent
FORGET = {"22": ("NM1*IL", "NM1*QC", "DMG 2000D", "DMG 2000E"), "23": ("NM1*QC", "DMG 2000E")}


class StatusInquiry(MemberInquiry):
    """One 2200 loop of a 276: which claim we ask about, and who we are."""

    claim_control_number: str  # REF*EJ (CLM01 of the claim)
    payer_claim_number: str | None = None  # REF*1K when known
    charge: Decimal  # AMT*T3


class ClaimStatus(Model):
    """One 2200 loop of a 277: the payer's answer to the inquiry with the same trace number."""

    trace_number: str
    claim_control_number: str
    payer_claim_number: str | None = None
    category: str  # STC01-1, DOMAIN.md §3.5
    status_code: str  # STC01-2
    effective_date: date  # STC02
    charge: Decimal  # STC04
    paid: Decimal = Decimal("0.00")  # STC05 (finalized claims)
    message: str = ""  # STC12 (X212 marks it Not Used; see build_277)

    @property
    def finalized(self) -> bool:
        return self.category.startswith("F")

    @property
    def pending(self) -> bool:
        return self.category.startswith("P") or self.category in ("A1", "A2")

    @property
    def not_found(self) -> bool:
        return self.category in ("A4", "D0")


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
    out += [seg("DMG", "D8", d8(sub.birth_date), sub.sex)] if demographics else []
    out.append(seg("NM1", "IL", "1", sub.last_name, sub.first_name, "", "", "", "MI",
                   inquiry.member_id))  # fmt: skip
    if dependent:
        out.append(seg("HL", hl + 1, hl, "23"))
        out += [seg("DMG", "D8", d8(pat.birth_date), pat.sex)] if demographics else []
        out.append(seg("NM1", "QC", "1", pat.last_name, pat.first_name))
    return out, hl + 1 + int(dependent)


def _service_date(day: date) -> Segment:
    return seg("DTP", "472", "RD8", f"{d8(day)}-{d8(day)}")  # RD8 is valid in 276 and 277


def _claim_refs(payer_claim_number: str | None, claim_control_number: str) -> list[Segment]:
    payers = [seg("REF", "1K", payer_claim_number)] if payer_claim_number else []
    return [*payers, seg("REF", "EJ", claim_control_number)]


def build_276(inquiries: list[StatusInquiry], when: datetime, control_number: int) -> str:
    first = _check_parties(inquiries)
    body = [seg("BHT", "0010", "13", control_number, d8(when), when.strftime("%H%M"))]
    body += _header(first)
    hl = 4
    for i in inquiries:
        levels, hl = _levels(i, hl, demographics=True)
        body += [*levels, seg("TRN", "1", i.trace_number),
                 *_claim_refs(i.payer_claim_number, i.claim_control_number),
                 seg("AMT", "T3", amount(i.charge)), _service_date(i.service_date)]  # fmt: skip
    return build_interchange(
        "HR", VERSION, [("276", body)], first.provider_npi, first.payer_id, control_number, when
    )


def build_277(
    inquiries: list[StatusInquiry], statuses: list[ClaimStatus], when: datetime, control_number: int
) -> str:
    """statuses[i] answers inquiries[i]. STC05 is written for finalized (or paid) claims; STC12
    only when there is a message (X212 marks it Not Used, so strict validators reject it)."""
    first = _check_parties(inquiries)
    if len(statuses) != len(inquiries):
        raise ValueError(f"{len(statuses)} statuses for {len(inquiries)} inquiries")
    body = [seg("BHT", "0010", "08", control_number, d8(when), when.strftime("%H%M"), "DG")]
    body += _header(first)
    hl = 4
    for i, status in zip(inquiries, statuses, strict=True):
        if status.trace_number != i.trace_number:
            raise ValueError(f"status trace {status.trace_number} answers no inquiry here "
                             f"(expected {i.trace_number})")  # fmt: skip
        if status.category not in CATEGORIES:
            raise ValueError(f"{status.category!r} is not a claim status category (DOMAIN §3.5)")
        paid = amount(status.paid) if status.finalized or status.paid else ""
        levels, hl = _levels(i, hl, demographics=False)
        stc01 = f"{status.category}:{status.status_code}"
        body += [*levels, seg("TRN", "2", status.trace_number),
                 seg("STC", stc01, d8(status.effective_date), "", amount(status.charge), paid,
                     *[""] * 6, status.message),
                 *_claim_refs(status.payer_claim_number, status.claim_control_number),
                 _service_date(i.service_date)]  # fmt: skip
    return build_interchange(
        "HN", VERSION, [("277", body)], first.payer_id, first.provider_npi, control_number, when
    )


Loop = tuple[dict[str, Segment], str, list[Segment]]  # segments above it by key, HL03, 2200 body


def _claim_loops(text: str, code: str, trace_type: str) -> tuple[Separators, list[Loop]]:
    """Each 2200D/E loop (its TRN up to the next HL or 2220 SVC) with the NM1/DMG segments of
    the levels above it, keyed 'NM1*PR', 'NM1*IL', 'DMG 2000D', ..."""
    interchange = parse_interchange(text)
    loops: list[Loop] = []
    for group in interchange.groups:
        for txn in group.transactions:
            if txn.code != code:
                raise X12Error(f"ST01 is {txn.code}; a {code} was expected", "ST", txn.st.position)
            if txn.version != VERSION:
                raise X12Error(f"ST03 is {txn.version!r}, not {VERSION}", "ST", txn.st.position)
            if group.gs[1] != FUNCTIONAL_ID[code]:
                raise X12Error(f"GS01 is {group.gs[1]!r}, not {FUNCTIONAL_ID[code]}", "GS",
                               group.gs.position)  # fmt: skip
            above: dict[str, Segment] = {}
            level, claim, lines = "", None, False
            for s in txn.body:
                if s.id == "HL":
                    level, claim = s[3], None
                    for key in FORGET.get(level, ()):
                        above.pop(key, None)
                elif s.id == "TRN" and level in FORGET:
                    if s[1] != trace_type:
                        raise X12Error(f"TRN01 is {s[1]!r}; a {code} uses {trace_type}", "TRN",
                                       s.position)  # fmt: skip
                    claim, lines = [s], False
                    loops.append((dict(above), level, claim))
                elif claim is not None:
                    lines = lines or s.id == "SVC"
                    claim += [] if lines else [s]
                elif s.id in ("STC", "REF", "AMT", "DTP") and level in FORGET:
                    raise X12Error(f"no TRN*{trace_type} opens this claim loop", s.id, s.position)
                elif s.id == "NM1":
                    above[f"NM1*{s[1]}"] = s
                elif s.id == "DMG":
                    above["DMG 2000D" if level == "22" else "DMG 2000E"] = s
    return interchange.separators, loops


def _find(segments: list[Segment], segment_id: str, qualifier: str | None = None) -> Segment | None:
    return next((s for s in segments if s.id == segment_id and qualifier in (None, s[1])), None)


def _required(found: Segment | None, what: str, trn: Segment) -> Segment:
    if found is None:
        raise X12Error(f"the claim with trace {trn[2]!r} has no {what}", "TRN", trn.position)
    return found


def _claim_numbers(claim: list[Segment]) -> tuple[str, str | None]:
    """REF*EJ (ours, required) and REF*1K (the payer's, when it has one)."""
    payers = _find(claim, "REF", "1K")
    return _required(_find(claim, "REF", "EJ"), "REF*EJ", claim[0])[2], payers[
        2
    ] if payers else None


def _amount(segment: Segment, n: int) -> Decimal:
    if not AMOUNT.fullmatch(segment[n]):
        raise X12Error(f"{segment.id}{n:02d} {segment[n]!r} is not an amount", segment.id,
                       segment.position)  # fmt: skip
    return Decimal(segment[n])


def _date(segment: Segment, n: int, qualifier: str = "D8") -> date:
    """D8 CCYYMMDD, or the first day of an RD8 CCYYMMDD-CCYYMMDD period."""
    value = segment[n].split("-")[0] if qualifier == "RD8" else segment[n]
    with suppress(ValueError):
        if qualifier in ("D8", "RD8") and re.fullmatch(r"\d{8}", value):
            return datetime.strptime(value, "%Y%m%d").date()
    raise X12Error(f"{segment.id}{n:02d} {segment[n]!r} is not a {qualifier} date", segment.id,
                   segment.position)  # fmt: skip


def _person(above: dict[str, Segment], name: str, demographics: str, trn: Segment) -> Person:
    nm1 = _required(above.get(name), name, trn)
    dmg = _required(above.get(demographics), demographics, trn)
    try:
        fields = {"first_name": nm1[4], "last_name": nm1[3], "sex": dmg[3] or "U"}
        return Person.model_validate(fields | {"birth_date": _date(dmg, 2)})
    except ValidationError as error:
        problem = error.errors()[0]
        raise X12Error(f"{problem['loc'][0]}: {problem['msg']}", "NM1", nm1.position) from error


def parse_276(text: str) -> list[StatusInquiry]:
    """One StatusInquiry per 2200D/E loop, in file order."""
    inquiries = []
    for above, level, claim in _claim_loops(text, "276", "1")[1]:
        trn, (ours, payers) = claim[0], _claim_numbers(claim)
        subscriber = _person(above, "NM1*IL", "DMG 2000D", trn)
        provider = _required(above.get("NM1*1P"), "NM1*1P", trn)
        dtp = _required(_find(claim, "DTP", "472"), "DTP*472", trn)
        inquiries.append(StatusInquiry(
            trace_number=trn[2], claim_control_number=ours, payer_claim_number=payers,
            payer_id=_required(above.get("NM1*PR"), "NM1*PR", trn)[9],
            provider_name=provider[3], provider_npi=provider[9], member_id=above["NM1*IL"][9],
            subscriber=subscriber,
            patient=_person(above, "NM1*QC", "DMG 2000E", trn) if level == "23" else subscriber,
            relationship=Relationship.OTHER if level == "23" else Relationship.SELF,
            charge=_amount(_required(_find(claim, "AMT", "T3"), "AMT*T3", trn), 2),
            service_date=_date(dtp, 3, dtp[2]),
        ))  # fmt: skip
    return inquiries


def parse_277(text: str) -> list[ClaimStatus]:
    """One ClaimStatus per 2200D/E loop, in file order; the first (claim-level) STC counts."""
    separators, loops = _claim_loops(text, "277", "2")
    statuses = []
    for _, _, claim in loops:
        trn, (ours, payers) = claim[0], _claim_numbers(claim)
        stc = _required(_find(claim, "STC"), "STC", trn)
        category, status_code = (stc.components(1, separators) + [""])[:2]
        if category not in CATEGORIES:
            raise X12Error(f"STC01-1 {category!r} is not a claim status category (DOMAIN.md §3.5)",
                           "STC", stc.position)  # fmt: skip
        if not status_code:
            raise X12Error("STC01-2 (claim status code) is missing", "STC", stc.position)
        statuses.append(ClaimStatus(
            trace_number=trn[2], claim_control_number=ours, payer_claim_number=payers,
            category=category, status_code=status_code, effective_date=_date(stc, 2),
            charge=_amount(stc, 4), paid=_amount(stc, 5) if stc[5] else Decimal("0.00"),
            message=stc[12],
        ))  # fmt: skip
    return statuses
