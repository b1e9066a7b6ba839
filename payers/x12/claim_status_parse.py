"""Read a 276 or 277 (005010X212) back into data. pyx12 4.0.0 has no 5010 276 map: the checks
here are its validation, each error naming the segment at fault. What X212 makes situational
is read when present and never demanded; a status at the information receiver (2200B) or
provider (2200C) level is attached to every claim below it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import ValidationError

from cob.claim_status import ClaimStatusReport, LevelStatus
from cob.model import Person, Relationship
from payers.x12.claim_status_build import (
    CATEGORIES,
    FUNCTIONAL_ID,
    LEVEL_NAMES,
    VERSION,
    StatusInquiry,
)
from payers.x12.parties import Level, levels
from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
    date_element,
    decimal_element,
    transactions_of,
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
