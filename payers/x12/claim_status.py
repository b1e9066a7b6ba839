"""276/277 claim status inquiry and response (005010X212): build them and read them back.

The engine polls with a 276 when a claim was accepted (277CA A2) but no 835 has come, and acts
on the 277's STC01 category (ASC X12 005010X212 STC01): wait (P*), await the 835 (F*), resubmit (A4) or
search with other keys (D0). One 2200 loop per claim: the trace goes out as TRN*1 and comes back
as TRN*2; REF*EJ is our claim control number (CLM01), REF*1K the payer's.

The 276 says only whether the patient is the subscriber (a 2000E dependent level or not), not
how they are related, so a dependent reads back as Relationship.OTHER. pyx12 4.0.0 has no 5010 276
map: the checks here are its validation. What X212 makes situational is read when
present and never demanded: the service provider level (2000C, NM1*1P), the subscriber's DMG
when the patient is a dependent, REF*EJ, the claim's AMT*T3 (and its DTP*472 when the service
lines carry theirs). A 277 may answer at the information receiver (2200B) or provider (2200C)
level: such a status is attached to every claim below it, and one with no claim below it comes
back on its own, with that level's trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from pydantic import ValidationError

from cob.claim_status import ClaimStatusReport, LevelStatus, StatusLevel
from cob.model import Person, Relationship
from payers.x12.parties import Level, MemberInquiry, levels
from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
    amount_text,
    build_interchange,
    d8_text,
    date_element,
    decimal_element,
    seg,
    transactions_of,
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
    inquiries: list[StatusInquiry], statuses: list[ClaimStatusReport], when: datetime, control_number: int
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


def _checked(txn: Transaction, code: str) -> Transaction:
    """`txn`, once it is a `code` of this guide in a group of the right GS01."""
    if txn.code != code:
        raise X12Error(f"ST01 is {txn.code}; a {code} was expected", "ST", txn.st.position)
    if txn.version != VERSION:
        raise X12Error(f"ST03 is {txn.version!r}, not {VERSION}", "ST", txn.st.position)
    if txn.gs[1] != FUNCTIONAL_ID[code]:
        raise X12Error(f"GS01 is {txn.gs[1]!r}, not {FUNCTIONAL_ID[code]}", "GS",
                       txn.gs.position)  # fmt: skip
    return txn


def _transactions(text: str, code: str) -> list[Transaction]:
    """Every transaction in `text` (several interchanges, groups and STs), each checked."""
    return [_checked(txn, code) for txn in transactions_of(text)]


@dataclass
class _Claim:
    """One 2200D/E loop: its TRN and what follows, up to its first service line (SVC), and
    each 2210/2220 service line loop."""

    level: Level  # the subscriber (22) or dependent (23) level it sits in
    segments: list[Segment]
    lines: list[list[Segment]] = field(default_factory=list)

    @property
    def trn(self) -> Segment:
        return self.segments[0]


def _claims(level: Level, code: str, trace_type: str) -> list[_Claim]:
    claims: list[_Claim] = []
    for s in level.segments:
        if s.id == "TRN":
            if s[1] != trace_type:
                raise X12Error(f"TRN01 is {s[1]!r}; a {code} uses {trace_type}", "TRN",
                               s.position)  # fmt: skip
            claims.append(_Claim(level, [s]))
        elif not claims:
            if s.id in ("STC", "REF", "AMT", "DTP", "SVC"):
                raise X12Error(f"no TRN*{trace_type} opens this claim loop", s.id, s.position)
        elif s.id == "SVC":
            claims[-1].lines.append([s])
        elif claims[-1].lines:
            claims[-1].lines[-1].append(s)
        else:
            claims[-1].segments.append(s)
    return claims


def _all_claims(txn: Transaction, code: str, trace_type: str) -> list[_Claim]:
    return [claim for level in levels(txn) if level.code in ("22", "23")
            for claim in _claims(level, code, trace_type)]  # fmt: skip


def _find(segments: list[Segment], segment_id: str, qualifier: str | None = None) -> Segment | None:
    return next((s for s in segments if s.id == segment_id and qualifier in (None, s[1])), None)


def _required(found: Segment | None, what: str, trn: Segment) -> Segment:
    if found is None:
        raise X12Error(f"the claim with trace {trn[2]!r} has no {what}", "TRN", trn.position)
    return found


def _claim_numbers(claim: list[Segment]) -> tuple[str, str | None]:
    """REF*EJ (ours, "" when not sent: situational in X212) and REF*1K (the payer's)."""
    ours, payers = _find(claim, "REF", "EJ"), _find(claim, "REF", "1K")
    return (ours[2] if ours else ""), (payers[2] if payers else None)


def _person(nm1: Segment, dmg: Segment) -> Person:
    try:
        fields = {"first_name": nm1[4], "last_name": nm1[3], "sex": dmg[3] or "U"}
        return Person.model_validate(fields | {"birth_date": date_element(dmg, 2)})
    except ValidationError as error:
        problem = error.errors()[0]
        raise X12Error(f"{problem['loc'][0]}: {problem['msg']}", "NM1", nm1.position) from error


def _inquiry(claim: _Claim) -> StatusInquiry:
    trn, level = claim.trn, claim.level
    subscriber_level = level.above("22") or level
    member = _required(subscriber_level.find("NM1", "IL"), "NM1*IL", trn)
    subscriber_dmg = subscriber_level.find("DMG")
    if level.code == "23":
        name = _required(level.find("NM1", "QC"), "NM1*QC", trn)
        patient = _person(name, _required(level.find("DMG"), "DMG 2000E", trn))
        # the subscriber's DMG is situational when the patient is a dependent
        subscriber = _person(member, subscriber_dmg) if subscriber_dmg else None
    else:
        subscriber = patient = _person(member, _required(subscriber_dmg, "DMG 2000D", trn))
    source = level.above("20")
    payer = _required(source.find("NM1", "PR") if source else None, "NM1*PR", trn)
    provider_level = level.above("19")  # 2000C is situational
    provider = (provider_level.find("NM1", "1P") if provider_level else None) or Segment("NM1")
    dates = [d for d in [_find(claim.segments, "DTP", "472")] if d] or [
        d for line in claim.lines for d in [_find(line, "DTP", "472")] if d
    ]  # the claim's dates, else its first service line's
    dtp = _required(dates[0] if dates else None, "DTP*472 on the claim or a service line", trn)
    charge = _find(claim.segments, "AMT", "T3")
    ours, payers = _claim_numbers(claim.segments)
    try:
        return StatusInquiry(
            trace_number=trn[2], claim_control_number=ours, payer_claim_number=payers,
            payer_id=payer[9], provider_name=provider[3], provider_npi=provider[9],
            member_id=member[9], subscriber=subscriber, patient=patient,
            relationship=Relationship.OTHER if level.code == "23" else Relationship.SELF,
            charge=decimal_element(charge, 2) if charge else None, service_date=date_element(dtp, 3, dtp[2]),
        )  # fmt: skip
    except ValidationError as error:
        problem = error.errors()[0]
        raise X12Error(f"{problem['loc'][0]}: {problem['msg']}", "TRN", trn.position) from error


def parse_276(text: str) -> list[StatusInquiry]:
    """One StatusInquiry per 2200D/E loop, in file order, from every 276 in `text`."""
    return [_inquiry(claim) for txn in _transactions(text, "276")
            for claim in _all_claims(txn, "276", "1")]  # fmt: skip


def _stc(stc: Segment) -> tuple[str, str]:
    """(STC01-1, STC01-2), the category checked against the code set."""
    category, status_code = stc.component(1, 1), stc.component(1, 2)
    if category not in CATEGORIES:
        raise X12Error(f"STC01-1 {category!r} is not a claim status category "
                       "(X12 External Code Source 507)",
                       "STC", stc.position)  # fmt: skip
    if not status_code:
        raise X12Error("STC01-2 (claim status code) is missing", "STC", stc.position)
    return category, status_code


def _level_statuses(level: Level) -> list[LevelStatus]:
    """The STCs of a 2200B (HL03 21) or 2200C (HL03 19) loop."""
    trn = level.find("TRN") or Segment("TRN")
    found = []
    for stc in (s for s in level.segments if s.id == "STC"):
        category, status_code = _stc(stc)
        found.append(LevelStatus(
            level=LEVEL_NAMES[level.code], trace_number=trn[2], category=category,
            status_code=status_code, effective_date=date_element(stc, 2), message=stc[12],
        ))  # fmt: skip
    return found


def _status(claim: _Claim) -> ClaimStatusReport:
    trn = claim.trn
    stc = _required(_find(claim.segments, "STC"), "STC", trn)  # the first, claim-level STC
    category, status_code = _stc(stc)
    ours, payers = _claim_numbers(claim.segments)
    above = [status for code in ("21", "19") for up in [claim.level.above(code)] if up
             for status in _level_statuses(up)]  # fmt: skip
    return ClaimStatusReport(
        trace_number=trn[2], claim_control_number=ours, payer_claim_number=payers,
        category=category, status_code=status_code, effective_date=date_element(stc, 2),
        charge=decimal_element(stc, 4) if stc[4] else None,
        paid=decimal_element(stc, 5) if stc[5] else Decimal("0.00"), message=stc[12], above=above,
    )  # fmt: skip


def _statuses(txn: Transaction) -> list[ClaimStatusReport]:
    """Each claim's status and, in its place in the file, each 2200B/2200C status with no
    claim listed below it."""
    statuses = []
    for level in levels(txn):
        if level.code in LEVEL_NAMES and not any(
            below.code in ("22", "23") and below.find("TRN") for below in level.below()
        ):
            statuses += [
                ClaimStatusReport(
                    trace_number=s.trace_number, category=s.category, status_code=s.status_code,
                    effective_date=s.effective_date, message=s.message, level=s.level,
                )
                for s in _level_statuses(level)
            ]  # fmt: skip
        if level.code in ("22", "23"):
            statuses += [_status(claim) for claim in _claims(level, "277", "2")]
    return statuses


def parse_277(text: str) -> list[ClaimStatusReport]:
    """The answers of every 277 in `text`, in file order: one per 2200D/E claim loop (its first,
    claim-level STC counts, with the statuses of the levels above it attached), and one per
    2200B/2200C status that has no claim below it."""
    return [status for txn in _transactions(text, "277") for status in _statuses(txn)]


def summarize_276(txn: Transaction) -> dict:
    """A 276 as plain data for `cob x12 read`."""
    return {
        "inquiries": [
            {"trace_number": claim.trn[2],
             "claim_control_number": _claim_numbers(claim.segments)[0]}
            for claim in _all_claims(_checked(txn, "276"), "276", "1")
        ]
    }  # fmt: skip


def summarize_277(txn: Transaction) -> dict:
    """A 277 as plain data for `cob x12 read`: its claims (2200B/2200C statuses are not
    claims; parse_277 attaches them)."""
    return {
        "claims": [
            {"trace_number": s.trace_number, "claim_control_number": s.claim_control_number,
             "category": s.category, "status_code": s.status_code}
            for s in _statuses(_checked(txn, "277")) if s.level == "claim"
        ]
    }  # fmt: skip
