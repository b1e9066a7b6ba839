"""Read a 270 or 271 (005010X279A1) back into data (building them: `payers.x12.eligibility`).

pyx12 has no 5010 270/271 map (DOMAIN.md §3.7), so these structural checks are the validation:
one transaction of the right type and guide, one inquiry (HL 20/21/22, optionally 23), and the
segments the codec needs, each error naming the segment and, where it exists, its position.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cob.model import Benefits, CobMethod, Person, PlanType, Relationship
from cob.money import ZERO, cents
from payers.x12.eligibility import (
    COB_METHOD,
    PLAN_TYPE,
    RELATIONSHIP,
    VERSION,
    EligibilityInquiry,
)
from payers.x12.parties import procedure_code
from payers.x12.segments import Segment, Separators, Transaction, X12Error, parse_interchange

DEDUCTIBLE_PERIOD = {"23": "deductible", "29": "deductible_remaining"}  # calendar year, remaining
Loops = dict[str, list[Segment]]  # HL03 level code -> that HL and the segments under it


def _transaction(text: str, code: str, functional_id: str) -> tuple[Transaction, Separators]:
    interchange = parse_interchange(text)  # envelope counts and control numbers
    transactions = interchange.transactions
    if len(transactions) != 1:
        extra = transactions[1].st.position if len(transactions) > 1 else None
        raise X12Error(f"one {code} per interchange; this one has {len(transactions)}", "ST", extra)
    txn, gs = transactions[0], interchange.groups[0].gs
    if txn.code != code:
        raise X12Error(f"ST01 {txn.code} is not a {code}", "ST", txn.st.position)
    if txn.version != VERSION or gs[8] != VERSION:
        raise X12Error(f"ST03/GS08 {txn.version}/{gs[8]} is not {VERSION}", "ST", txn.st.position)
    if gs[1] != functional_id:
        raise X12Error(f"GS01 {gs[1]} is not {functional_id} for a {code}", "GS", gs.position)
    return txn, interchange.separators


def _loops(txn: Transaction) -> Loops:
    """Segments grouped by HL level: 20 payer, 21 provider, 22 subscriber, 23 dependent."""
    loops: Loops = {}
    current: list[Segment] | None = None
    for segment in txn.body:
        if segment.id == "HL":
            if segment[3] in loops:
                raise X12Error(f"a second HL level {segment[3]}: one inquiry per transaction",
                               "HL", segment.position)  # fmt: skip
            current = loops[segment[3]] = [segment]
        elif current is not None:
            current.append(segment)
    for level in ("20", "21", "22"):
        if level not in loops:
            raise X12Error(f"no HL level {level} (payer, provider, subscriber all needed)", "HL")
    return loops


def _find(loop: list[Segment], segment_id: str, qualifier: str, what: str) -> Segment:
    found = next((s for s in loop if s.id == segment_id and s[1] == qualifier), None)
    if found is None:
        raise X12Error(f"no {segment_id}*{qualifier} ({what}) in the HL {loop[0][3]} loop at "
                       f"position {loop[0].position}", segment_id)  # fmt: skip
    return found


def _date(segment: Segment, number: int) -> date:
    try:
        return datetime.strptime(segment[number], "%Y%m%d").date()
    except ValueError:
        raise X12Error(f"{segment.id}{number:02d} {segment[number]!r} is not a CCYYMMDD date",
                       segment.id, segment.position) from None  # fmt: skip


def _person(name: Segment, dmg: Segment) -> Person:
    if not name[3] or not name[4]:
        raise X12Error("NM103/NM104 last and first name are required", "NM1", name.position)
    sex = dmg[3] or "U"
    if sex not in ("F", "M", "U"):
        raise X12Error(f"DMG03 {sex!r} is not F, M or U", "DMG", dmg.position)
    return Person.model_validate(
        {"last_name": name[3], "first_name": name[4], "birth_date": _date(dmg, 2), "sex": sex}
    )


def parse_270(text: str) -> EligibilityInquiry:
    """Exactly one inquiry per interchange."""
    txn, _ = _transaction(text, "270", "HS")
    loops = _loops(txn)
    subscriber_loop = loops["22"]
    patient_loop = loops.get("23", subscriber_loop)
    member = _find(subscriber_loop, "NM1", "IL", "subscriber")
    subscriber = _person(member, _find(subscriber_loop, "DMG", "D8", "subscriber birth date"))
    patient, relationship = subscriber, Relationship.SELF
    if "23" in loops:
        name = _find(patient_loop, "NM1", "03", "dependent")
        patient = _person(name, _find(patient_loop, "DMG", "D8", "dependent birth date"))
        ins = _find(patient_loop, "INS", "N", "dependent relationship")
        if ins[2] not in RELATIONSHIP:
            raise X12Error(f"INS02 {ins[2]!r} is not 01, 19 or G8", "INS", ins.position)
        relationship = RELATIONSHIP[ins[2]]
    _find(patient_loop, "EQ", "30", "health benefit plan coverage inquiry")
    provider = _find(loops["21"], "NM1", "1P", "provider")
    group = next((s[2] for s in subscriber_loop if s.id == "REF" and s[1] == "6P"), None)
    return EligibilityInquiry(
        trace_number=_find(patient_loop, "TRN", "1", "trace number")[2],
        payer_id=_find(loops["20"], "NM1", "PR", "payer")[9],
        provider_name=provider[3], provider_npi=provider[9], member_id=member[9],
        subscriber=subscriber, patient=patient, relationship=relationship, group_number=group,
        service_date=_date(_find(patient_loop, "DTP", "291", "service date"), 3),
    )  # fmt: skip


def _decimal(segment: Segment, number: int, what: str) -> Decimal:
    """Cents, half-up (DOMAIN.md §0), so 0.00 reads back as Decimal('0.00')."""
    text = segment[number]
    try:
        value = cents(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():  # also NaN: Decimal reads 'NaN' without complaint
        raise X12Error(f"EB{number:02d} {text!r} is not {what}", "EB", segment.position)
    return value


def _plan_type(segment: Segment) -> PlanType:
    if segment[4] not in PLAN_TYPE:
        raise X12Error(f"EB04 {segment[4]!r} is not an insurance type this codec reads "
                       f"({', '.join(PLAN_TYPE)})", "EB", segment.position)  # fmt: skip
    return PLAN_TYPE[segment[4]]


def _cob_method(segment: Segment) -> CobMethod:
    value = segment[1].removeprefix(COB_METHOD)
    if value not in CobMethod.__members__.values():
        raise X12Error(f"MSG01 COB method {value!r} is unknown", "MSG", segment.position)
    return CobMethod(value)


def _benefits(loop: list[Segment], separators: Separators, ids: dict[str, Any]) -> Benefits:
    """The EB/MSG segments of the patient's 2110 loops (conventions: eligibility docstring)."""
    terms: dict[str, Any] = {"prior_auth_procedures": [], "copay_procedures": []}
    coverage: Segment | None = None
    copays: list[tuple[Decimal, Segment]] = []
    last: Segment | None = None  # the EB a MSG belongs to
    for s in loop:
        if s.id == "MSG" and last is not None and last[1] == "1" and s[1].startswith(COB_METHOD):
            terms["cob_method"] = _cob_method(s)
        elif s.id == "MSG" and last is not None and last[1] == "6":
            terms["reason"] = s[1]
        if s.id != "EB":
            continue
        last, code = s, s[1]
        if code in ("1", "6") and not s[13]:
            coverage = coverage or s
        elif code == "1" and s[11] == "Y":
            terms["prior_auth_procedures"].append(procedure_code(s, 13, separators))
        elif code == "C" and s[6] in DEDUCTIBLE_PERIOD:
            terms[DEDUCTIBLE_PERIOD[s[6]]] = _decimal(s, 7, "an amount")
        elif code == "A":
            terms["coinsurance"] = _decimal(s, 8, "a percent")
        elif code == "B":
            copays.append((_decimal(s, 7, "an amount"), s))
            terms["copay_procedures"] += [procedure_code(s, 13, separators)] if s[13] else []
        else:
            raise X12Error(f"EB01 {code!r} (EB06 {s[6]!r}, EB11 {s[11]!r}) is not one this codec "
                           "reads: 1, 6, A, B, C with EB06 23/29", "EB", s.position)  # fmt: skip
    if coverage is None:
        raise X12Error("no EB*1 or EB*6 (coverage status) for the patient", "EB")
    for copay, s in copays[1:]:
        if copay != copays[0][0]:
            raise X12Error(f"EB07 copay {copay} differs from the first copay {copays[0][0]}: "
                           "Benefits holds one copay", "EB", s.position)  # fmt: skip
    terms["copay"] = copays[0][0] if copays else ZERO
    return Benefits(**ids, active=coverage[1] == "1", plan_type=_plan_type(coverage), **terms)


def parse_271(
    text: str, *, default_plan_type: PlanType = PlanType.COMMERCIAL
) -> tuple[str, Benefits]:
    """(trace number from TRN*2, benefits). An AAA answer has no EB04: `default_plan_type`."""
    txn, separators = _transaction(text, "271", "HB")
    loops = _loops(txn)
    patient_loop = loops.get("23", loops["22"])
    trace = _find(patient_loop, "TRN", "2", "the inquiry's trace number")[2]
    member_id = _find(loops["22"], "NM1", "IL", "subscriber")[9]
    ids: dict[str, Any] = {
        "payer_id": _find(loops["20"], "NM1", "PR", "payer")[9],
        "member_id": member_id,
    }
    rejection = next((s for s in loops["22"] + loops.get("23", []) if s.id == "AAA"), None)
    if rejection is None:
        return trace, _benefits(patient_loop, separators, ids)
    reason = (f"member id {member_id} not found (AAA 72)" if rejection[3] == "72"
              else f"the payer rejected the inquiry (AAA {rejection[3]})")  # fmt: skip
    return trace, Benefits(**ids, active=False, plan_type=default_plan_type, reason=reason)
