"""Write a 278 prior authorization (005010X217): the provider's request and the payer's (UMO's)
answer, with the loops and choices `payers.x12.prior_auth_278` sets out. Reading them back:
`payers.x12.prior_auth_278_read`.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import Field

from cob.model import Person, PriorAuthDecision, PriorAuthRequest, Relationship
from payers.x12.claim_837p import SUBSCRIBER_RELATIONSHIP
from payers.x12.parties import MemberInquiry
from payers.x12.segments import (
    Segment,
    build_interchange,
    d8_text,
    seg,
)

VERSION = "005010X217"
REQUEST, RESPONSE = "13", "11"  # BHT02
DENIAL_REASON = "82"  # HCR03 Not Medically Necessary (4010 X094A1 list)
UNKNOWN_MEMBER = re.compile(r"member id\b.*\bnot found|invalid member id", re.IGNORECASE)
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
    """PriorAuthDecision -> HCR (005010X217 loop 2000E); see `payers.x12.prior_auth_278` for the mapping."""
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
