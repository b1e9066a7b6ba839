"""Read a 271 eligibility answer (005010X279A1) into `cob.model.Benefits`. A 271 may answer
several patients, each in its own HL 22 (or HL 23 under it), in one or several transactions.
The TRN (without it the trace is BHT03, which the 271 echoes) and EB04 insurance type are
read when present and never demanded. EB codes not read into `Benefits` (EB*L primary care
provider, EB*R other payer, EB*D benefit description, ...) are kept on the answer.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from cob.model import AllowableBasis, Benefits, CobMethod, PlanType
from cob.money import ZERO, cents
from payers.x12.eligibility import (
    COB_ALLOWABLE,
    COB_METHOD,
    ORIGINATOR,
    PLAN_TYPE,
)
from payers.x12.eligibility_parse_270 import checked_transaction, people_of
from payers.x12.parties import Level, levels, procedure_code
from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
    transactions_of,
)

DEDUCTIBLE_PERIOD = {"23": "deductible", "29": "deductible_remaining"}  # calendar year, remaining
# EB01 1-5 are active coverage (5: pending investigation), 6-8 inactive (element 1390)
COVERAGE = {"1": True, "2": True, "3": True, "4": True, "5": True,
            "6": False, "7": False, "8": False}  # fmt: skip
READ = {*COVERAGE, "A", "B", "C"}  # the EB01 codes Benefits holds
OUT_OF_NETWORK = "N"  # EB12
PAYER_LEVELS = {"20": "2100A", "21": "2100B"}  # HL03 -> the loop its AAA sits in


class InquiryRejected(X12Error):
    """The payer answered the 271 at its own or the receiver's level (AAA in 2100A/2100B):
    it rejected the inquiry itself, and no patient is answered. AAA03 is the reason code,
    AAA04 whether to resubmit."""

    def __init__(self, aaa: Segment, loop: str):
        self.code, self.follow_up, self.loop = aaa[3], aaa[4], loop
        super().__init__(
            f"the payer rejected the inquiry at {loop}: AAA03 {aaa[3]} (AAA01 {aaa[1]}, "
            f"AAA04 {aaa[4]})",
            "AAA",
            aaa.position,
        )

    @property
    def payer_busy(self) -> bool:
        """AAA03 42 "unable to respond at current time" or AAA04 P "please resubmit original
        transaction" (anywhere), or AAA04 R "resubmission allowed" where no patient is
        answered: the payer's system is not answering, which is asked again, never decided
        on (005010X279A1 AAA segment notes)."""
        return (
            self.code == "42"
            or self.follow_up == "P"
            or (self.follow_up == "R" and self.loop in PAYER_LEVELS.values())
        )


@dataclass
class PatientAnswer:
    """One patient a 271 answers about: a subscriber (HL 22) or a dependent (HL 23 under it)."""

    trace: str  # TRN*2 (ours first), else the transaction's BHT03
    payer_id: str  # 2100A NM109
    subscriber_id: str  # 2100C NM109: the coverage's member id
    segments: list[Segment]  # the patient's 2100 and 2110 loops
    rejection: Segment | None  # an AAA of its 2100 loops (or the subscriber's)
    errors: list[str] = field(default_factory=list)  # every AAA03 about this patient

    @property
    def eligibility_codes(self) -> list[str]:
        return _eligibility_codes(self.segments)

    @property
    def unread_codes(self) -> list[str]:
        """EB01 codes kept here but not read into Benefits (EB*L, EB*R, EB*D, EB*CB, ...)."""
        return [code for code in self.eligibility_codes if code not in READ]

    def coverage(self) -> Segment | None:
        return _coverage(self.segments)


def _eligibility_codes(segments: list[Segment]) -> list[str]:
    return sorted({s[1] for s in segments if s.id == "EB"})


def _coverage(segments: list[Segment]) -> Segment | None:
    """The EB that says active or not: EB01 1-8 without a procedure (EB13), preferring one
    for service type 30 (health benefit plan coverage)."""
    found = [s for s in segments if s.id == "EB" and s[1] in COVERAGE and not s[13]]
    plan = [s for s in found if "30" in _repeats(s, 3)]
    return next(iter(plan or found), None)


def _repeats(segment: Segment, number: int) -> list[str]:
    """A repeated element (EB03 service types 1^33^98) split on the ISA11 separator."""
    repetition = segment.separators.repetition
    return segment[number].split(repetition) if repetition else [segment[number]]


def _trace(levels_: list[Level], bht03: str) -> str:
    trns = [s for level in levels_ for s in level.segments if s.id == "TRN" and s[1] == "2"]
    ours = [s for s in trns if s[3] == ORIGINATOR]
    return (ours or trns)[0][2] if trns else bht03


def _before_eb(segments: list[Segment]) -> list[Segment]:
    """The 2100 loop: what comes before the first EB (its 2110 loops)."""
    first = next((n for n, s in enumerate(segments) if s.id == "EB"), len(segments))
    return segments[:first]


def _patients(txn: Transaction) -> list[PatientAnswer]:
    """Each patient of a 270 or 271: a subscriber without dependents (or with EBs of its
    own), and each dependent, in file order."""
    body = txn.body
    bht03 = body[0][3] if body and body[0].id == "BHT" else ""
    answers = []
    for level in levels(txn):
        if level.code != "22":
            continue
        dependents = [child for child in level.children if child.code == "23"]
        own = any(s.id == "EB" for s in level.segments)
        for patient in ([level] if own or not dependents else []) + dependents:
            answers.append(_patient(level, patient, bht03))
    return answers


def _patient(subscriber: Level, patient: Level, bht03: str) -> PatientAnswer:
    source = subscriber.above("20")
    payer = source.find("NM1") if source else None
    member = subscriber.find("NM1", "IL")
    if member is None:
        raise X12Error(f"no NM1*IL (subscriber) in the HL 22 loop at position "
                       f"{subscriber.hl.position}", "NM1")  # fmt: skip
    scope = [subscriber] if patient is subscriber else [subscriber, patient]
    aaa = [s for level in scope for s in level.segments if s.id == "AAA"]
    in_2100 = [s for level in scope for s in _before_eb(level.segments) if s.id == "AAA"]
    has_coverage = any(s.id == "EB" and s[1] in COVERAGE for s in patient.segments)
    rejection = next(iter(in_2100 or ([] if has_coverage else aaa)), None)
    return PatientAnswer(
        trace=_trace(scope[::-1], bht03), payer_id=payer[9] if payer else "",
        subscriber_id=member[9], segments=patient.segments, rejection=rejection,
        errors=[s[3] for s in aaa],
    )  # fmt: skip


def _decimal(segment: Segment, number: int, what: str) -> Decimal:
    """Cents, half-up (industry practice), so 0.00 reads back as Decimal('0.00')."""
    text = segment[number]
    try:
        value = cents(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():  # also NaN: Decimal reads 'NaN' without complaint
        raise X12Error(f"EB{number:02d} {text!r} is not {what}", "EB", segment.position)
    return value


def _plan_type(segment: Segment, default: PlanType) -> PlanType:
    if not segment[4]:  # EB04 is situational: the coverage the engine asked about
        return default
    if segment[4] not in PLAN_TYPE:
        raise X12Error(f"EB04 {segment[4]!r} is not an insurance type this codec reads "
                       f"({', '.join(PLAN_TYPE)})", "EB", segment.position)  # fmt: skip
    return PLAN_TYPE[segment[4]]


def _cob_method(segment: Segment) -> CobMethod:
    value = segment[1].removeprefix(COB_METHOD)
    if value not in CobMethod.__members__.values():
        raise X12Error(f"MSG01 COB method {value!r} is unknown", "MSG", segment.position)
    return CobMethod(value)


def _allowable_basis(segment: Segment) -> AllowableBasis:
    value = segment[1].removeprefix(COB_ALLOWABLE)
    if value not in AllowableBasis.__members__.values():
        raise X12Error(f"MSG01 COB allowable basis {value!r} is unknown", "MSG", segment.position)
    return AllowableBasis(value)


def _benefits(answer: PatientAnswer, ids: dict[str, Any], default: PlanType) -> Benefits:
    """The EB/MSG segments of the patient's 2110 loops (conventions: eligibility docstring).
    Out-of-network terms (EB12 N) and EB codes Benefits has no place for are left out."""
    terms: dict[str, Any] = {"prior_auth_procedures": [], "copay_procedures": []}
    coverage = answer.coverage()
    copays: list[tuple[Decimal, Segment]] = []
    last: Segment | None = None  # the EB a MSG belongs to
    for s in answer.segments:
        if s.id == "MSG" and last is not None and last[1] == "1" and s[1].startswith(COB_METHOD):
            terms["cob_method"] = _cob_method(s)
        elif (
            s.id == "MSG" and last is not None and last[1] == "1" and s[1].startswith(COB_ALLOWABLE)
        ):
            terms["allowable_basis"] = _allowable_basis(s)
        elif s.id == "MSG" and last is not None and COVERAGE.get(last[1]) is False:
            terms["reason"] = s[1]
        if s.id != "EB":
            continue
        last, code = s, s[1]
        if code == "1" and s[11] == "Y" and s[13]:
            terms["prior_auth_procedures"].append(procedure_code(s, 13, s.separators))
        elif s[12] == OUT_OF_NETWORK or (code in COVERAGE and not s[13]):
            continue
        elif code == "C" and s[6] in DEDUCTIBLE_PERIOD:
            terms[DEDUCTIBLE_PERIOD[s[6]]] = _decimal(s, 7, "an amount")
        elif code == "A" and s[8]:
            terms["coinsurance"] = _decimal(s, 8, "a percent")
        elif code == "B" and s[7]:
            copays.append((_decimal(s, 7, "an amount"), s))
            terms["copay_procedures"] += [procedure_code(s, 13, s.separators)] if s[13] else []
    if coverage is None:
        raise X12Error("no EB*1-8 (coverage status) for the patient", "EB")
    for copay, s in copays[1:]:
        if copay != copays[0][0]:
            raise X12Error(f"EB07 copay {copay} differs from the first copay {copays[0][0]}: "
                           "Benefits holds one copay", "EB", s.position)  # fmt: skip
    terms["copay"] = copays[0][0] if copays else ZERO
    return Benefits(**ids, active=COVERAGE[coverage[1]], plan_type=_plan_type(coverage, default),
                    **terms)  # fmt: skip


@dataclass
class Answer271:
    """What one 271 transaction says: each patient, and the AAA03 codes of its payer (2100A)
    and receiver (2100B) levels."""

    txn: Transaction
    patients: list[PatientAnswer]
    rejections: list[tuple[Segment, str]]  # (AAA, its loop) at 2100A/2100B

    @property
    def errors(self) -> list[str]:
        return [aaa[3] for aaa, _ in self.rejections]


def read_271(txn: Transaction) -> Answer271:
    checked_transaction(txn, "271", "HB")
    rejections = [(s, PAYER_LEVELS[level.code]) for level in levels(txn)
                  if level.code in PAYER_LEVELS for s in level.segments if s.id == "AAA"]  # fmt: skip
    return Answer271(txn, _patients(txn), rejections)


def parse_271(
    text: str, *, default_plan_type: PlanType = PlanType.COMMERCIAL, trace: str | None = None
) -> tuple[str, Benefits]:
    """(trace, benefits) of the one patient answered (with `trace`, the one with that trace)
    in every 271 of `text`. An AAA about the patient is an inactive answer with its code; an
    answer without EB04 reports `default_plan_type`. A payer that rejected the inquiry itself
    (AAA in 2100A/2100B, no patient) raises InquiryRejected with its AAA03."""
    answers = [read_271(txn) for txn in transactions_of(text)]
    patients = [p for a in answers for p in a.patients if trace is None or p.trace == trace]
    if not patients:
        payer_level = next((r for a in answers for r in a.rejections), None)
        if payer_level is not None:
            raise InquiryRejected(*payer_level)
        wanted = f" with trace {trace!r}" if trace is not None else ""
        raise X12Error(f"no subscriber level (HL 22) answers the inquiry{wanted}", "HL")
    if len(patients) > 1:
        raise X12Error(f"{len(patients)} patients are answered (traces "
                       f"{', '.join(p.trace for p in patients)}); one was asked about", "HL")  # fmt: skip
    patient = patients[0]
    ids: dict[str, Any] = {"payer_id": patient.payer_id, "member_id": patient.subscriber_id}
    rejection = patient.rejection
    if rejection is not None and (rejection[3] == "42" or rejection[4] == "P"):
        raise InquiryRejected(rejection, "2100C")  # the payer cannot answer now: no decision
    if rejection is None:
        return patient.trace, _benefits(patient, ids, default_plan_type)
    reason = (f"member id {patient.subscriber_id} not found (AAA 72)" if rejection[3] == "72"
              else f"the payer rejected the inquiry (AAA {rejection[3]})")  # fmt: skip
    return patient.trace, Benefits(**ids, active=False, plan_type=default_plan_type, reason=reason)


def summarize_271(txn: Transaction) -> dict:
    """A 271 as plain data for `cob x12 read`: per subscriber (HL 22) and dependent (HL 23)
    level, its NM109, whether its EBs say active (EB01 1-5) or inactive (6-8), its EB01 codes
    and the AAA03 codes in it; and the AAA03 codes at the payer and receiver levels."""
    answer = read_271(txn)
    people = []
    for level, member_id in people_of(txn):
        coverage = _coverage(level.segments)
        people.append({
            "member_id": member_id,
            "active": COVERAGE[coverage[1]] if coverage else None,
            "eligibility_codes": _eligibility_codes(level.segments),
            "errors": [s[3] for s in level.segments if s.id == "AAA"],
        })  # fmt: skip
    return {"subscribers": people, "errors": answer.errors}
