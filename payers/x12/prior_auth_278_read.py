"""Read a 278 prior authorization (005010X217): the provider's request and the payer's (UMO's)
answer, laid out as `payers.x12.prior_auth_278` sets out. Writing them:
`payers.x12.prior_auth_278_build`.

Reading what others send, the situational parts are read when present and never demanded: the
subscriber's DMG when the patient is a dependent (then the subscriber may be named by member id
alone), the dependent's INS (without it, Relationship.OTHER), the UMO's and requester's entity
codes (2010A X3 or another payer code, 2010B 1P, FA, ...: the level's NM1 is read), the
response's TRN*2 (else BHT03, which echoes the request's trace), and the event-level HCR (else
the service-level HCRs, when they agree). Any AAA in a response is a rejection: AAA01 says only
whether the request itself was valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, TypeVar

from pydantic import ValidationError

from cob.model import Model, Person, PriorAuthDecision, Relationship
from payers.x12.claim_837p import SUBSCRIBER_RELATIONSHIP
from payers.x12.eligibility_parse_271 import InquiryRejected
from payers.x12.parties import procedure_code
from payers.x12.prior_auth_278_build import REQUEST, RESPONSE, VERSION, PriorAuthInquiry
from payers.x12.segments import (
    Segment,
    Separators,
    Transaction,
    X12Error,
    date_element,
    parse_interchange,
)

M = TypeVar("M", bound=Model)
Status = Literal["approved", "denied", "pended"]
# HCR01 -> (status, meaning put before the MSG text); X12 element 306
ACTIONS: dict[str, tuple[Status, str]] = {
    "A1": ("approved", ""), "NA": ("approved", ""), "A4": ("pended", ""), "A3": ("denied", ""),
    "A2": ("approved", "certified in part"), "A6": ("approved", "modified"),
    "CT": ("pended", "contact payer"), "C": ("denied", "cancelled"),
}  # fmt: skip
AAA_REASONS = {"72": "invalid member id", "75": "subscriber not found"}  # AAA03
RELATIONSHIP = {code: rel for rel, code in SUBSCRIBER_RELATIONSHIP.items()}


@dataclass
class _Loop:
    """One HL and the segments up to the next HL."""

    hl: Segment
    segments: list[Segment] = field(default_factory=list)

    def find(self, segment_id: str, *qualifiers: str) -> Segment | None:
        return next((s for s in self.segments if s.id == segment_id
                     and (not qualifiers or s[1] in qualifiers)), None)  # fmt: skip

    def need(self, segment_id: str, *qualifiers: str) -> Segment:
        found = self.find(segment_id, *qualifiers)
        if found is None:
            what = segment_id + (f"*{'/'.join(qualifiers)}" if qualifiers else "")
            raise X12Error(f"the HL*{self.hl[3]} loop at position {self.hl.position} has no "
                           f"{what}", segment_id)  # fmt: skip
        return found


def _read(text: str, purpose: str) -> tuple[Separators, Transaction, list[_Loop]]:
    """The first transaction and its HL loops, after checking it is a 278 of this purpose."""
    interchange = parse_interchange(text)
    if not interchange.transactions:
        raise X12Error("the interchange holds no transaction", "GS")
    txn = interchange.transactions[0]
    return interchange.separators, txn, _loops(txn, purpose)


def _loops(txn: Transaction, purpose: str | None) -> list[_Loop]:
    """The HL loops of a 278 of this purpose (BHT02 13 request, 11 response; None: either)."""
    if txn.code != "278":
        raise X12Error(f"ST01 is {txn.code}, not 278", "ST", txn.st.position)
    if txn.version != VERSION:
        raise X12Error(f"ST03 is {txn.version!r}, not {VERSION}", "ST", txn.st.position)
    bht = txn.body[0] if txn.body else txn.se
    wanted = (purpose,) if purpose else (REQUEST, RESPONSE)
    if bht.id != "BHT" or bht[2] not in wanted:
        kind = {REQUEST: "request", RESPONSE: "response"}.get(purpose or "", "request or response")
        raise X12Error(f"a 278 {kind} starts with BHT*0007*{'/'.join(wanted)}", bht.id,
                       bht.position)  # fmt: skip
    loops: list[_Loop] = []
    for segment in txn.body[1:]:
        if segment.id == "HL":
            loops.append(_Loop(segment))
        elif not loops:
            raise X12Error("a segment before the first HL", segment.id, segment.position)
        else:
            loops[-1].segments.append(segment)
    return loops


def _level(loops: list[_Loop], code: str, name: str) -> _Loop:
    found = next((loop for loop in loops if loop.hl[3] == code), None)
    if found is None:
        raise X12Error(f"no {name} loop (HL03 {code})", "HL")
    return found


def _date(segment: Segment, n: int) -> date:
    """Element n as a date under the qualifier that precedes it (DMG01, DTP02)."""
    return date_element(segment, n, segment[n - 1])


def _model(model: type[M], at: Segment, **fields: object) -> M:
    """`model(**fields)`, a validation failure reported at segment `at`."""
    try:
        return model(**fields)
    except ValidationError as error:
        problem = error.errors()[0]
        raise X12Error(f"{problem['loc'][0]}: {problem['msg']}", at.id, at.position) from error


def _person(loop: _Loop, code: str) -> Person:
    nm1, dmg = loop.need("NM1", code), loop.need("DMG")
    return _model(Person, nm1, last_name=nm1[3], first_name=nm1[4], birth_date=_date(dmg, 2),
                  sex=dmg[3] or "U")  # fmt: skip


def _named(loop: _Loop) -> Segment:
    """The level's NM1, whatever its entity code (X217 allows several for UMO and requester)."""
    return loop.need("NM1")


def parse_278_request(text: str) -> PriorAuthInquiry:
    separators, txn, loops = _read(text, REQUEST)
    payer = _named(_level(loops, "20", "UMO"))
    provider = _level(loops, "21", "requester").find("NM1") or Segment("NM1")
    subscriber_loop, event = _level(loops, "22", "subscriber"), _level(loops, "EV", "patient event")
    dependent = next((loop for loop in loops if loop.hl[3] == "23"), None)
    subscriber: Person | None = None
    if dependent is None or subscriber_loop.find("DMG"):  # situational for a dependent
        subscriber = _person(subscriber_loop, "IL")
    patient, relationship = subscriber, Relationship.SELF
    if dependent is not None:
        patient, ins = _person(dependent, "QC"), dependent.find("INS", "N")
        relationship = RELATIONSHIP.get(ins[2], Relationship.SELF) if ins else Relationship.OTHER
        if ins and relationship == Relationship.SELF:
            raise X12Error(f"INS02 {ins[2]!r} is not a dependent relationship (01, 19, G8)",
                           "INS", ins.position)  # fmt: skip
    event.need("UM")
    services = [loop for loop in loops if loop.hl[3] == "SS"]
    if not services:
        raise X12Error("the request has no service loop (HL03 SS), so no SV1", "SV1")
    return _model(
        PriorAuthInquiry, txn.st, trace_number=event.need("TRN", "1")[2], payer_id=payer[9],
        provider_name=provider[3], provider_npi=provider[9],
        member_id=subscriber_loop.need("NM1", "IL")[9], subscriber=subscriber, patient=patient,
        relationship=relationship, service_date=_date(event.need("DTP", "AAH", "472"), 3),
        procedure_codes=[procedure_code(loop.need("SV1"), 1, separators) for loop in services],
    )  # fmt: skip


def _decision_hcr(event: _Loop, loops: list[_Loop]) -> Segment:
    """The event-level HCR, else the service-level HCRs when they all say the same."""
    hcr = event.find("HCR")
    if hcr is not None:
        return hcr
    services = [h for loop in loops if loop.hl[3] == "SS" for h in [loop.find("HCR")] if h]
    if not services:
        raise X12Error(f"the patient event loop at position {event.hl.position} has neither an "
                       "HCR decision nor an AAA rejection", "HCR")  # fmt: skip
    differing = next((h for h in services if h.elements[:2] != services[0].elements[:2]), None)
    if differing is not None:
        raise X12Error(f"service-level HCR {differing[1]}*{differing[2]} differs from "
                       f"{services[0][1]}*{services[0][2]}: one decision is read per request",
                       "HCR", differing.position)  # fmt: skip
    return services[0]


def parse_278_response(text: str) -> tuple[str, PriorAuthDecision]:
    """(trace number, decision); an AAA anywhere is a rejected request, so a denial."""
    _, txn, loops = _read(text, RESPONSE)
    payer_id = _named(_level(loops, "20", "UMO"))[9]
    event = _level(loops, "EV", "patient event")
    trn = event.find("TRN", "2")
    trace = trn[2] if trn else txn.body[0][3]  # BHT03 echoes the request's trace
    message = (event.find("MSG") or Segment("MSG"))[1]
    rejection = next((s for loop in loops for s in loop.segments if s.id == "AAA"), None)
    if rejection is not None and (rejection[3] == "42" or rejection[4] == "P"):
        at = next(loop for loop in loops if rejection in loop.segments)
        raise InquiryRejected(rejection, f"HL*{at.hl[3]}")  # the payer cannot answer now
    if rejection is not None:
        code = rejection[3]
        reason = message or AAA_REASONS.get(code, f"request rejected (AAA03 {code})")
        return trace, PriorAuthDecision(payer_id=payer_id, status="denied", reason=reason)
    hcr = _decision_hcr(event, loops)
    if hcr[1] not in ACTIONS:
        raise X12Error(f"HCR01 {hcr[1]!r} is not a certification action code "
                       f"({' '.join(ACTIONS)})", "HCR", hcr.position)  # fmt: skip
    status, meaning = ACTIONS[hcr[1]]
    reason = f"{meaning}: {message}" if meaning and message else meaning or message
    return trace, PriorAuthDecision(payer_id=payer_id, status=status,
                                    authorization_number=hcr[2] or None, reason=reason)  # fmt: skip


def summarize_278(txn: Transaction) -> dict:
    """A 278 as plain data for `cob x12 read`: every HCR, event level first, in file order."""
    loops = _loops(txn, None)
    kind = "request" if txn.body[0][2] == REQUEST else "response"
    return {
        "kind": kind,
        "decisions": [{"action": s[1], "authorization_number": s[2]}
                      for loop in loops for s in loop.segments if s.id == "HCR"],
    }  # fmt: skip
