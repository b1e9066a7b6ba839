"""270/271 eligibility (005010X279A1): one inquiry for one coverage, and the payer's answer.

The 270 asks EQ*30 (health benefit plan coverage) for one patient on one date of service
(ASC X12 005010X279A1 loop 2110C EQ). The 271 echoes the 270's HL structure, NM1s and DMGs, returns
the trace as TRN*2, and answers in EB segments read into `cob.model.Benefits`:

    EB*1*IND*30*<type>                      active (EB*6 inactive, then MSG*<reason>)
    MSG*COB METHOD <cob_method>             right after the EB*1 (see below)
    MSG*COB ALLOWABLE <allowable_basis>     next, only when the basis is not higher_of
    EB*C*IND*30***23*<amount>               deductible for the calendar year (EB06 23)
    EB*C*IND*30***29*<amount>               deductible remaining (EB06 29); both always
    EB*A*IND*30*****<percent>               the patient's coinsurance, EB08 .2 = 20%
    EB*B*IND*30***27*<amount>******HC:<px>  a copay per visit (EB06 27), one per procedure
    EB*1*IND*30*<type>*******Y**HC:<px>     a procedure needing prior authorization (EB11 Y)

Conventions, where X12 has no element for what the engine needs:
- EB04 insurance type (element 1336; code values from pyx12's X092 271 map): commercial C1,
  medicare MB (Part B: professional services), medicare_supplement MI (Medigap Part B),
  medicaid MC, workers_comp WC, no_fault AP (auto policy), liability OT (other: the list has
  no liability code). No 1336 code means TRICARE, so tricare uses CH, the claim filing code the
  837P uses for it (SBR09), unverified: a strict receiver may reject CH in EB04.
- The COB method rides in a 2110C MSG*COB METHOD <value> after the first EB*1, and the plan's
  allowable-expense basis (own, primary) in a second MSG*COB ALLOWABLE <value>; an answer
  without it means higher_of, so every 271 written before it reads as it did.
- A member id the payer does not know is answered with AAA*N**72*C in 2100C and no EB: build_271
  writes it when an inactive answer's reason starts with "member id" and ends with "not found"
  (optionally followed by " (AAA 72)"); parse_271 reads it back as "member id <id> not found
  (AAA 72)". Such an answer has no EB04, so parse_271 reports `default_plan_type`.
- An inactive answer carries only its reason: the benefit terms parse back as their defaults.
- The trace (TRN) sits at the patient's level: 2000C when the patient is the subscriber, else
  2000D (X12 RFI 1661 on X279A1). The dependent's INS02 is 01 spouse, 19 child, G8 other
  (the 4010 X092 map lists 01/19/34; the 5010 list was not verified).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from cob.model import (
    AllowableBasis,
    Benefits,
    Coverage,
    Person,
    PlanType,
    Provider,
    Relationship,
)
from payers.x12.claim_837p import SUBSCRIBER_RELATIONSHIP
from payers.x12.parties import MemberInquiry
from payers.x12.segments import Segment, amount_text, build_interchange, d8_text, seg

VERSION = "005010X279A1"
ORIGINATOR = "9COBENGINE"  # TRN03: "9" + a user-assigned id; the engine assigns the traces
COB_METHOD = "COB METHOD "
COB_ALLOWABLE = "COB ALLOWABLE "
INSURANCE_TYPE = {
    PlanType.COMMERCIAL: "C1", PlanType.MEDICARE: "MB", PlanType.MEDICARE_SUPPLEMENT: "MI",
    PlanType.MEDICAID: "MC", PlanType.TRICARE: "CH", PlanType.WORKERS_COMP: "WC",
    PlanType.NO_FAULT: "AP", PlanType.LIABILITY: "OT",
}  # fmt: skip
PLAN_TYPE = {code: plan for plan, code in INSURANCE_TYPE.items()}
RELATIONSHIP = {c: r for r, c in SUBSCRIBER_RELATIONSHIP.items() if r != Relationship.SELF}
DELIMITERS = "*~:^\r\n"


class EligibilityInquiry(MemberInquiry):
    """What a 270 carries (005010X279A1); EQ*30 is always asked."""

    group_number: str | None = None


def inquiry_for(
    coverage: Coverage, patient: Person, service_date: date, provider: Provider, trace_number: str
) -> EligibilityInquiry:
    """The 270 for one coverage; names upper-cased as X12 writes them, so it round-trips."""
    is_self = coverage.relationship == Relationship.SELF
    subscriber = patient if is_self else coverage.subscriber
    if subscriber is None:
        raise ValueError(f"coverage {coverage.key}: a {coverage.relationship} patient needs "
                         "the coverage's subscriber for the 270")  # fmt: skip
    return EligibilityInquiry(
        trace_number=trace_number, payer_id=coverage.payer_id, provider_name=provider.name.upper(),
        provider_npi=provider.npi, member_id=coverage.member_id, subscriber=_upper(subscriber),
        patient=_upper(patient), relationship=coverage.relationship,
        group_number=coverage.group_number, service_date=service_date,
    )  # fmt: skip


def _upper(person: Person) -> Person:
    return person.model_copy(
        update={"first_name": person.first_name.upper(), "last_name": person.last_name.upper()}
    )


def _plain(text: str, what: str) -> str:
    if any(c in text for c in DELIMITERS):
        raise ValueError(f"{what} {text!r} holds an X12 delimiter ({DELIMITERS!r})")
    return text


def _dmg(person: Person) -> Segment:
    return seg("DMG", "D8", d8_text(person.birth_date), person.sex)


def _loops(
    inquiry: EligibilityInquiry, trace_type: str, payer_id: str, member_id: str,
    rejection: list[Segment], answer: list[Segment],
) -> list[Segment]:  # fmt: skip
    """HL 20/21/22 (and 23 for a dependent), with `answer` (EQ or EBs) in the patient's loop."""
    people = [p for p in (inquiry.subscriber, inquiry.patient) if p is not None]
    names = [n for p in people for n in (p.last_name, p.first_name)]
    texts = [inquiry.trace_number, inquiry.provider_name, inquiry.group_number or "", *names]
    for text in [*texts, payer_id, member_id]:
        _plain(text, "element")
    dependent = inquiry.relationship != Relationship.SELF
    trace = seg("TRN", trace_type, inquiry.trace_number, ORIGINATOR)
    sub = inquiry.subscriber  # None: a dependent's subscriber named by member id alone
    sub_name = (sub.last_name, sub.first_name) if sub else ("", "")
    out = [
        seg("HL", 1, "", "20", 1),
        seg("NM1", "PR", "2", payer_id, "", "", "", "", "PI", payer_id),  # no payer names: id
        seg("HL", 2, 1, "21", 1),
        seg("NM1", "1P", "2", inquiry.provider_name, "", "", "", "", "XX", inquiry.provider_npi),
        seg("HL", 3, 2, "22", int(dependent)),
        *([] if dependent else [trace]),
        seg("NM1", "IL", "1", *sub_name, "", "", "", "MI", member_id),
        *([seg("REF", "6P", inquiry.group_number)] if inquiry.group_number else []),
        *rejection,  # 2100C AAA sits after REF/N4, before DMG
        *([_dmg(sub)] if sub else []),
    ]
    if dependent:
        patient = inquiry.patient
        out += [seg("HL", 4, 3, "23", 0), trace,
                seg("NM1", "03", "1", patient.last_name, patient.first_name), _dmg(patient),
                seg("INS", "N", SUBSCRIBER_RELATIONSHIP[inquiry.relationship])]  # fmt: skip
    return [*out, seg("DTP", "291", "D8", d8_text(inquiry.service_date)), *answer]


def build_270(inquiry: EligibilityInquiry, when: datetime, control_number: int) -> str:
    """From the provider (ISA06 = NPI) to the payer; BHT03 repeats the trace for the 271."""
    body = [
        seg("BHT", "0022", "13", inquiry.trace_number, d8_text(when), when.strftime("%H%M")),
        *_loops(inquiry, "1", inquiry.payer_id, inquiry.member_id, [], [seg("EQ", "30")]),
    ]
    return build_interchange("HS", VERSION, [("270", body)], inquiry.provider_npi,
                             inquiry.payer_id, control_number, when)  # fmt: skip


def _unknown_member(benefits: Benefits) -> bool:
    reason = benefits.reason.removesuffix(" (AAA 72)")
    return not benefits.active and reason.startswith("member id") and reason.endswith("not found")


def _percent(value: Decimal) -> str:
    text = amount_text(value)  # 0.2 -> .2, the X12 decimal style (EB08)
    return text[1:] if text.startswith("0.") else text


def _answer(benefits: Benefits) -> list[Segment]:
    """The 2110C/2110D EB loops for `benefits` (module docstring)."""
    kind = INSURANCE_TYPE[benefits.plan_type]
    if not benefits.active:
        reason = _plain(benefits.reason[:264], "reason")  # MSG01 is at most 264 characters
        return [seg("EB", "6", "IND", "30", kind), *([seg("MSG", reason)] if reason else [])]

    def eb(code: str, *rest: str | None) -> Segment:
        return seg("EB", code, "IND", "30", *rest)

    copays: list[str | None] = [*benefits.copay_procedures] or (
        [None] if benefits.copay > 0 else []
    )
    return [
        eb("1", kind),
        seg("MSG", COB_METHOD + benefits.cob_method.value),
        *([seg("MSG", COB_ALLOWABLE + benefits.allowable_basis.value)]
          if benefits.allowable_basis != AllowableBasis.HIGHER_OF else []),
        eb("C", "", "", "23", amount_text(benefits.deductible)),
        eb("C", "", "", "29", amount_text(benefits.deductible_remaining)),
        eb("A", "", "", "", "", _percent(benefits.coinsurance)),
        *[eb("B", "", "", "27", amount_text(benefits.copay), "", "", "", "", "",
             f"HC:{_plain(p, 'procedure')}" if p else None) for p in copays],
        *[eb("1", kind, "", "", "", "", "", "", "Y", "", f"HC:{_plain(p, 'procedure')}")
          for p in benefits.prior_auth_procedures],
    ]  # fmt: skip


def build_271(
    inquiry: EligibilityInquiry, benefits: Benefits, when: datetime, control_number: int
) -> str:
    """The payer's answer; the NM1 ids are the answer's (a payer may correct a member id)."""
    unknown = _unknown_member(benefits)
    body = [
        seg("BHT", "0022", "11", inquiry.trace_number, d8_text(when), when.strftime("%H%M")),
        *_loops(inquiry, "2", benefits.payer_id, benefits.member_id,
                [seg("AAA", "N", "", "72", "C")] if unknown else [],
                [] if unknown else _answer(benefits)),
    ]  # fmt: skip
    return build_interchange("HB", VERSION, [("271", body)], benefits.payer_id,
                             inquiry.provider_npi, control_number, when)  # fmt: skip
