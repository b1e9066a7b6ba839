"""The 277CA claim acknowledgment (005010X214): per claim, whether it entered adjudication (STC
category A2) or was rejected (A3/A6/A7/A8, STC01-1). The claim control number (CLM01) travels
in the patient-level TRN*2, the payer's claim number in REF*1K, and a rejection's text in
STC12; the information receiver (2200B) and billing provider (2200C) levels carry statuses
too, and a rejection there rejects every claim below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from cob.model import ClaimAcknowledgment
from payers.x12.claim_status_build import CATEGORIES
from payers.x12.parties import Level, levels
from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
    amount_text,
    build_interchange,
    free_text,
    seg,
    transactions_of,
)

ACK_277CA = "005010X214"
REJECTED = {"A3", "A4", "A6", "A7", "A8"}  # STC01-1: not entered into adjudication (X214)
# A2 accepted into adjudication; A5 split "upon acceptance into the adjudication system", so
# accepted too (its parts come back under the payer's claim numbers).
ACCEPTED = {"A2", "A5"}
# Every other known category is no decision on the claim, and the engine must not take one:
# A0 forwarded to another entity (that entity's 277CA decides), A1 received but "does not mean
# that the claim has been accepted for adjudication", E* the answer was not possible, P*/F*/R*
# belong in a 277 claim status answer. Such a claim is read as not acknowledged, so the claim
# workflow resends it once and then opens a worklist task (industry practice; configurable).
LEVEL_NAMES = {"21": "2200B", "19": "2200C"}  # HL03 -> the loop its STC sits in (X214)


def _category(ack: ClaimAcknowledgment) -> tuple[str, str]:
    """(STC01-1, STC01-2): the ack's own code when it agrees with `accepted`, else A2 / A7."""
    if ack.accepted:
        return (ack.status_code if ack.status_code not in REJECTED else "A2"), "20"
    return (ack.status_code if ack.status_code in REJECTED else "A7"), "21"


def build_277ca(
    acks: list[ClaimAcknowledgment], payer_name: str, payer_id: str, submitter_name: str,
    submitter_id: str, provider_name: str, provider_npi: str, when: datetime, control_number: int,
    patients: dict[str, tuple[str, str, str]] | None = None,  # ccn -> (last, first, member id)
    charges: dict[str, Decimal] | None = None,  # ccn -> claim charge (STC04)
    service_dates: dict[str, date] | None = None,  # ccn -> DTP*472
) -> str:  # fmt: skip
    if not acks:
        raise ValueError("a 277CA needs at least one claim acknowledgment")
    patients, charges, service_dates = patients or {}, charges or {}, service_dates or {}
    today = when.strftime("%Y%m%d")
    charge = {a.claim_control_number: Decimal(charges.get(a.claim_control_number, 0)) for a in acks}
    ok = [a.claim_control_number for a in acks if a.accepted]
    bad = [a.claim_control_number for a in acks if not a.accepted]
    totals = [seg("QTY", "90", len(ok))] if ok else []
    totals += [seg("QTY", "AA", len(bad))] if bad else []
    totals += [seg("AMT", "YU", amount_text(sum(charge[c] for c in ok)))] if ok else []
    totals += [seg("AMT", "YY", amount_text(sum(charge[c] for c in bad)))] if bad else []
    body = [
        seg("BHT", "0085", "08", f"{control_number}", today, when.strftime("%H%M"), "TH"),
        seg("HL", 1, "", "20", 1),
        seg("NM1", "PR", "2", payer_name, "", "", "", "", "PI", payer_id),
        seg("TRN", "1", f"{control_number}"),
        seg("DTP", "050", "D8", today),
        seg("DTP", "009", "D8", today),
        seg("HL", 2, 1, "21", 1),
        seg("NM1", "41", "2", submitter_name, "", "", "", "", "46", submitter_id),
        seg("TRN", "2", f"{control_number}"),
        seg("STC", "A1:19:PR", today, "WQ", amount_text(sum(charge.values()))),
        *totals,
        seg("HL", 3, 2, "19", 1),
        seg("NM1", "85", "2", provider_name, "", "", "", "", "XX", provider_npi),
        seg("TRN", "1", "0"),
        seg("STC", "A1:19:PR", "", "WQ", amount_text(sum(charge.values()))),  # STC02 Not Used here
        *[seg("QTY", "QA" if s[1] == "90" else "QC", s[2]) for s in totals if s.id == "QTY"],
        *[s for s in totals if s.id == "AMT"],
    ]
    for n, ack in enumerate(acks, start=4):
        ccn = ack.claim_control_number
        last, first, member = patients.get(ccn, ("UNKNOWN", "", "UNKNOWN"))
        category, status = _category(ack)
        served = service_dates.get(ccn, when.date()).strftime("%Y%m%d")
        body += [
            seg("HL", n, 3, "PT"),
            seg("NM1", "QC", "1", last, first, "", "", "", "MI", member),
            seg("TRN", "2", ccn),
            seg("STC", f"{category}:{status}", today, "WQ", amount_text(charge[ccn]),
                *[""] * 7, free_text(ack.reason)),
        ]  # fmt: skip
        body += [seg("REF", "1K", ack.payer_claim_number)] if ack.payer_claim_number else []
        body.append(seg("DTP", "472", "D8", served))
    return build_interchange(
        "HN", ACK_277CA, [("277", body)], payer_id, submitter_id, control_number, when
    )


@dataclass(frozen=True)
class Status:
    """One status composite of an STC (STC01, or STC10/STC11) and where it was read."""

    level: str  # 2200B, 2200C or 2200D
    category: str  # its first component (STC01-1)
    code: str  # its second (STC01-2)
    message: str  # STC12
    stc: Segment

    @property
    def composite(self) -> str:
        return f"{self.category}:{self.code}"


def _statuses(segments: list[Segment], level: str) -> list[Status]:
    return [
        Status(level, s.component(n, 1), s.component(n, 2), s[12], s)
        for s in segments if s.id == "STC"
        for n in (1, 10, 11) if n == 1 or s[n]
    ]  # fmt: skip


@dataclass
class _Claim:
    trn: Segment  # TRN*2: TRN02 is the claim control number
    above: list[Status]  # of the 2200B and 2200C levels it sits under, the higher first
    segments: list[Segment]  # of its 2200D loop, up to its first service line (SVC)


def _claims(txn: Transaction) -> tuple[list[_Claim], list[Status]]:
    """The claims of a 277CA (each TRN at a patient level, HL03 PT, opens one) and the
    statuses of its 2200B and 2200C levels."""
    if txn.version != ACK_277CA:
        raise X12Error(f"ST03/GS08 is {txn.version!r}: a 277CA is {ACK_277CA}", "ST",
                       txn.st.position)  # fmt: skip
    claims: list[_Claim] = []
    higher: list[Status] = []
    for level in levels(txn):
        if level.code in LEVEL_NAMES:
            higher += _statuses(level.segments, LEVEL_NAMES[level.code])
        if level.code == "PT":
            claims += _patient_claims(level)
    return claims, higher


def _patient_claims(level: Level) -> list[_Claim]:
    above = [st for code in ("21", "19") for up in [level.above(code)] if up
             for st in _statuses(up.segments, LEVEL_NAMES[code])]  # fmt: skip
    claims: list[_Claim] = []
    lines = False  # inside a 2220D service line loop
    for segment in level.segments:
        if segment.id == "TRN":
            claims.append(_Claim(segment, above, []))
            lines = False
        elif segment.id in ("STC", "REF") and not claims:
            raise X12Error("a claim status before its TRN*2", segment.id, segment.position)
        elif segment.id == "SVC" or lines:
            lines = True
        elif claims:
            claims[-1].segments.append(segment)
    return claims


def _decide(claim: _Claim) -> tuple[ClaimAcknowledgment, Status | None]:
    """The claim's acknowledgment and the status that decides it: a rejection at 2200B or
    2200C rejects it; else its own (2200D) statuses: any rejection, else acceptance (A2, A5);
    anything else, or an unknown category anywhere above or on it, is no decision."""
    ccn = claim.trn[2]
    own = _statuses(claim.segments, "2200D")
    ref = next((s for s in claim.segments if s.id == "REF" and s[1] == "1K"), None)
    number = ref[2] if ref else None
    for status in claim.above:
        if status.category in REJECTED:
            reason = f"rejected at {status.level} (STC {status.composite})"
            reason += f": {status.message}" if status.message else ""
            return ClaimAcknowledgment(claim_control_number=ccn, accepted=False,
                                       status_code=status.category, reason=reason), status  # fmt: skip
    rejected = next((st for st in own if st.category in REJECTED), None)
    if rejected:
        return ClaimAcknowledgment(
            claim_control_number=ccn, accepted=False, payer_claim_number=number,
            status_code=rejected.category, reason=rejected.message,
        ), rejected  # fmt: skip
    unknown = next((st for st in claim.above + own if st.category not in CATEGORIES), None)
    accepted = next((st for st in own if st.category in ACCEPTED), None)
    if accepted and not unknown:
        return ClaimAcknowledgment(
            claim_control_number=ccn, accepted=True, payer_claim_number=number,
            status_code=accepted.category, reason=accepted.message,
        ), accepted  # fmt: skip
    if unknown:
        at = unknown.stc
        why = (f"STC {unknown.composite!r} at {unknown.level} (position {at.position}): "
               f"{unknown.category!r} is not a claim status category")  # fmt: skip
    elif own:
        at = own[0].stc
        why = f"STC {own[0].composite} (position {at.position}) neither accepts nor rejects it"
    else:
        at, why = claim.trn, f"no STC for the claim (TRN at position {claim.trn.position})"
    decider = unknown or (own[0] if own else None)
    return ClaimAcknowledgment(
        claim_control_number=ccn, accepted=False, payer_claim_number=number,
        status_code=decider.category if decider else "", acknowledged=False,
        reason=f"the 277CA is no decision on claim {ccn}: {why}",
    ), decider  # fmt: skip


def _decisions(text: str) -> list[tuple[ClaimAcknowledgment, Status | None]]:
    return [_decide(claim) for t in transactions_of(text) if t.code == "277"
            for claim in _claims(t)[0]]  # fmt: skip


def parse_277ca(text: str) -> list[ClaimAcknowledgment]:
    """One ClaimAcknowledgment per claim (a TRN*2 at a patient level), in file order, from
    every 277 of every interchange in `text`. A claim the 277CA does not decide on comes
    back not accepted and not acknowledged, its category kept in status_code."""
    return [ack for ack, _ in _decisions(text)]


def summarize_277ca(txn: Transaction) -> dict:
    """A 277CA as plain data for `cob x12 read`."""
    claims, higher = _claims(txn)
    decided = [_decide(claim) for claim in claims]
    return {
        "claims": [
            {"claim_control_number": ack.claim_control_number,
             "category": status.category if status else "",
             "status_code": status.code if status else "", "accepted": ack.accepted}
            for ack, status in decided
        ],
        "levels": [{"level": st.level, "category": st.category, "status_code": st.code}
                   for st in higher],
    }  # fmt: skip
