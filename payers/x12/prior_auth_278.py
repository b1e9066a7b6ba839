"""278 prior authorization (005010X217): the provider's request and the payer's (UMO's) answer.

The X217 TR3 is licensed and was not read (the 5010 layout is unverified); the layout
follows X12's X217 example 1b (x12.org/examples/005010x217, as quoted in open-source code) and
the 4010 X094 map in pyx12:

    BHT*0007*13 request / BHT*0007*11 response; BHT03 = the trace number
    2000A HL*1**20*1   2010A NM1*X3*2*<payer id>*****PI*<payer id>  (no payer names: the id is it)
    2000B HL*2*1*21*1  2010B NM1*1P*2*<provider>*****XX*<npi>
    2000C HL*3*2*22*1  2010C NM1*IL*1*LAST*FIRST****MI*<member id>, [AAA], DMG*D8*<birth>*<sex>
    2000D HL*4*3*23*1  2010D NM1*QC*1*LAST*FIRST, DMG, INS*N*<01|19|G8>  (patient not subscriber)
    2000E HL*n*m*EV*1  TRN, UM*HS*I, [HCR], DTP*AAH*D8*<service date>, [MSG]
    2000F HL*n*m*SS*0  SV1*HC:<procedure>  (one per procedure, in order)

Choices where the guide or the brief leaves room:
- The service date is the 2000E event date DTP*AAH, as in example 1b (4010 put DTP*472 on the
  service level); parsing also accepts 472, and RD8 (the range's first day).
- The request's TRN*1*<trace>*<provider NPI>; the response echoes it as TRN*2.
- One event-level HCR (2000E) decides all services; the response echoes the SV1s.
- HCR01 written: approved with a number A1*<number>, without one NA (no action required); pended
  A4; denied A3 with HCR03 82 Not Medically Necessary (the 4010 X094A1 HCR03 list; meaning
  from X12 element 901 as listed in open-source code; X217 takes HCR03 from an external code
  list, unverified). Read only: A2 (certified in part) and A6 (modified) are approved, CT (contact
  payer) pended, C (cancelled) denied, the meaning put before the MSG text.
- An unknown member is a request-validation error, not a review decision: a denial with no
  number whose reason says the member id was not found (the payer simulator's wording) is
  written AAA*N**72*C in 2010C (invalid/missing subscriber id; correct and resubmit), no HCR.
- `reason` travels as given in 2000E MSG01 (none when empty); names are not upper-cased, so a
  parsed request equals the one built.

Reading what others send, the situational parts are read when present and never demanded: the
subscriber's DMG when the patient is a dependent (then the subscriber may be named by member id
alone), the dependent's INS (without it, Relationship.OTHER), the UMO's and requester's entity
codes (2010A X3 or another payer code, 2010B 1P, FA, ...: the level's NM1 is read), the
response's TRN*2 (else BHT03, which echoes the request's trace), and the event-level HCR (else
the service-level HCRs, when they agree). Any AAA in a response is a rejection: AAA01 says only
whether the request itself was valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, TypeVar

from pydantic import Field, ValidationError

from cob.model import Model, Person, PriorAuthDecision, PriorAuthRequest, Relationship
from payers.x12.claim_837p import SUBSCRIBER_RELATIONSHIP
from payers.x12.eligibility_parse_271 import InquiryRejected
from payers.x12.parties import MemberInquiry, procedure_code
from payers.x12.segments import (
    Segment,
    Separators,
    Transaction,
    X12Error,
    build_interchange,
    d8_text,
    date_element,
    parse_interchange,
    seg,
)

VERSION = "005010X217"
REQUEST, RESPONSE = "13", "11"  # BHT02
DENIAL_REASON = "82"  # HCR03 Not Medically Necessary (4010 X094A1 list)
M = TypeVar("M", bound=Model)
Status = Literal["approved", "denied", "pended"]
# HCR01 -> (status, meaning put before the MSG text); X12 element 306
ACTIONS: dict[str, tuple[Status, str]] = {
    "A1": ("approved", ""), "NA": ("approved", ""), "A4": ("pended", ""), "A3": ("denied", ""),
    "A2": ("approved", "certified in part"), "A6": ("approved", "modified"),
    "CT": ("pended", "contact payer"), "C": ("denied", "cancelled"),
}  # fmt: skip
AAA_REASONS = {"72": "invalid member id", "75": "subscriber not found"}  # AAA03
UNKNOWN_MEMBER = re.compile(r"member id\b.*\bnot found|invalid member id", re.IGNORECASE)
RELATIONSHIP = {code: rel for rel, code in SUBSCRIBER_RELATIONSHIP.items()}
DELIMITERS = "*~^\n"  # the element, segment and repetition separators written


class PriorAuthInquiry(MemberInquiry):
    """What a 278 request carries; the trace (TRN*1 in 2000E) is the encounter id."""

    procedure_codes: list[str] = Field(min_length=1)  # one 2000F loop each, in order


def inquiry_for(request: PriorAuthRequest, provider_name: str) -> PriorAuthInquiry:
    """The 278 for `request`; with no provider name given or on the request, the NPI stands in."""
    provider_name = provider_name or request.provider_name or request.provider_npi
    coverage = request.coverage
    is_self = coverage.relationship == Relationship.SELF
    subscriber = request.patient if is_self else coverage.subscriber
    if subscriber is None:
        raise ValueError(f"coverage {coverage.key} is a {coverage.relationship} coverage "
                         "and names no subscriber")  # fmt: skip
    return PriorAuthInquiry(
        trace_number=request.encounter_id, payer_id=coverage.payer_id, provider_name=provider_name,
        provider_npi=request.provider_npi, member_id=coverage.member_id, subscriber=subscriber,
        patient=request.patient, relationship=coverage.relationship,
        service_date=request.service_date, procedure_codes=list(request.procedure_codes),
    )  # fmt: skip


def _check_text(body: list[Segment]) -> list[Segment]:
    """Refuse names, ids or reasons that would split a segment once written."""
    for segment in body:
        for n, element in enumerate(segment.elements, start=1):
            if any(c in element for c in DELIMITERS):
                raise ValueError(f"{segment.id}{n:02d} {element!r} contains an X12 delimiter")
    return body


def _person_segments(code: str, person: Person | None, member_id: str | None) -> list[Segment]:
    """NM1 and DMG; a subscriber not named (a dependent's, by member id alone) has no DMG."""
    ids = ("MI", member_id) if member_id else ()
    name = (person.last_name, person.first_name) if person else ("", "")
    dmg = [seg("DMG", "D8", d8_text(person.birth_date), person.sex)] if person else []
    return [seg("NM1", code, "1", *name, "", "", "", *ids), *dmg]


def _body(inq: PriorAuthInquiry, when: datetime, purpose: str, aaa: Segment | None = None,
          hcr: Segment | None = None, reason: str = "") -> list[Segment]:  # fmt: skip
    subscriber = _person_segments("IL", inq.subscriber, inq.member_id)
    body = [
        seg("BHT", "0007", purpose, inq.trace_number, d8_text(when), when.strftime("%H%M")),
        seg("HL", 1, "", "20", 1),
        seg("NM1", "X3", "2", inq.payer_id, "", "", "", "", "PI", inq.payer_id),
        seg("HL", 2, 1, "21", 1),
        seg("NM1", "1P", "2", inq.provider_name, "", "", "", "", "XX", inq.provider_npi),
        seg("HL", 3, 2, "22", 1),
        subscriber[0], *([aaa] if aaa else []), *subscriber[1:],  # 2010C: NM1, AAA, DMG
    ]  # fmt: skip
    event = 4
    if inq.relationship != Relationship.SELF:
        body += [seg("HL", 4, 3, "23", 1), *_person_segments("QC", inq.patient, None),
                 seg("INS", "N", SUBSCRIBER_RELATIONSHIP[inq.relationship])]  # fmt: skip
        event = 5
    body += [
        seg("HL", event, event - 1, "EV", 1),
        seg("TRN", "2" if purpose == RESPONSE else "1", inq.trace_number, inq.provider_npi),
        seg("UM", "HS", "I"),  # health services review, initial (UM01 HS, UM02 I)
        *([hcr] if hcr else []),
        seg("DTP", "AAH", "D8", d8_text(inq.service_date)),
        *([seg("MSG", reason)] if reason else []),
    ]
    for n, code in enumerate(inq.procedure_codes, start=event + 1):
        body += [seg("HL", n, event, "SS", 0), seg("SV1", f"HC:{code}")]
    return _check_text(body)


def build_278_request(inquiry: PriorAuthInquiry, when: datetime, control_number: int) -> str:
    body = _body(inquiry, when, REQUEST)
    return build_interchange("HI", VERSION, [("278", body)], inquiry.provider_npi,
                             inquiry.payer_id, control_number, when)  # fmt: skip


def _hcr(decision: PriorAuthDecision) -> Segment:
    """PriorAuthDecision -> HCR (005010X217 loop 2000E); see the module docstring for the mapping."""
    number = decision.authorization_number
    if decision.status == "approved":
        return seg("HCR", "A1", number) if number else seg("HCR", "NA")
    if decision.status == "pended":
        return seg("HCR", "A4", number)
    return seg("HCR", "A3", number, DENIAL_REASON)


def build_278_response(
    inquiry: PriorAuthInquiry, decision: PriorAuthDecision, when: datetime, control_number: int
) -> str:
    if decision.payer_id != inquiry.payer_id:
        raise ValueError(f"the decision is payer {decision.payer_id}'s, the request went to "
                         f"{inquiry.payer_id}")  # fmt: skip
    if len(decision.reason) > 264:
        raise ValueError(f"the reason is {len(decision.reason)} characters; MSG01 holds 264")
    unknown_member = (decision.status == "denied" and not decision.authorization_number
                      and UNKNOWN_MEMBER.search(decision.reason) is not None)  # fmt: skip
    aaa = seg("AAA", "N", "", "72", "C") if unknown_member else None
    hcr = None if unknown_member else _hcr(decision)
    body = _body(inquiry, when, RESPONSE, aaa, hcr, decision.reason)
    return build_interchange("HI", VERSION, [("278", body)], inquiry.payer_id,
                             inquiry.provider_npi, control_number, when)  # fmt: skip


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
