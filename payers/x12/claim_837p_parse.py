"""Read an 837P (005010X222A1) back into data, following the guide's loops.

The transaction is first cut along its hierarchy (HL 20 billing provider 2000A, 22 subscriber
2000B, 23 patient 2000C, each naming its parent in HL02) and its claims (2300, each under the
HL above it); then each claim is read on its own, so one bad claim is reported with the
segment at fault and the others are still read. Situational segments may be absent.
Composites split on the component separator the file's ISA16 declares.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from cob.model import (
    Adjustment,
    ClaimSubmission,
    Encounter,
    LineAdjudication,
    Person,
    PlanType,
    Provider,
    Relationship,
    Remittance,
)
from payers.x12.claim_837p import MSP_TYPE, SEQUENCE_LETTERS, SUBSCRIBER_RELATIONSHIP
from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
    date_element,
    decimal_element,
    transactions_of,
)

RELATIONSHIP = {code: rel for rel, code in SUBSCRIBER_RELATIONSHIP.items()}
MEDICARE_BASIS = {code: basis for basis, code in MSP_TYPE.items()}

# The 837P guides read. HIPAA adopted 005010X222A1 (45 CFR 162.1102); 005010X222A2 is how
# X12's later errata/addenda edition is spelled (the LinuxForHealth samples carry it), and
# every loop and segment read here is the same in both.
GUIDES_READ = ("005010X222A1", "005010X222A2")
# Other 837 guides, by the prefix of ST03/GS08: what they are, so a refusal can say it.
OTHER_837 = {
    "005010X222": ("an 837P", "professional, before the X222A1 errata"),
    "005010X223": ("an 837I", "institutional"),
    "005010X224": ("an 837D", "dental"),
    "004010X098": ("a 4010 837P", "professional"),
    "004010X096": ("a 4010 837I", "institutional"),
    "004010X097": ("a 4010 837D", "dental"),
}
ONLY = "only the 837P (005010X222A1) is read"

# SBR09 claim filing indicator (005010X222A1 code list) -> (meaning, plan type); None where no
# plan type the engine coordinates fits the code, so the claim is refused rather than guessed.
FILING_INDICATOR = {
    "11": ("other non-federal programs", None),
    "12": ("preferred provider organization", PlanType.COMMERCIAL),
    "13": ("point of service", PlanType.COMMERCIAL),
    "14": ("exclusive provider organization", PlanType.COMMERCIAL),
    "15": ("indemnity insurance", PlanType.COMMERCIAL),
    "16": ("HMO Medicare risk", PlanType.MEDICARE),  # Medicare Advantage: Medicare for COB
    "17": ("dental maintenance organization", None),  # dental cover, not for a medical claim
    "AM": ("automobile medical", PlanType.NO_FAULT),
    "BL": ("Blue Cross/Blue Shield", PlanType.COMMERCIAL),
    "CH": ("TRICARE", PlanType.TRICARE),
    "CI": ("commercial insurance", PlanType.COMMERCIAL),
    "DS": ("disability", None),
    "FI": ("Federal Employees Program", PlanType.COMMERCIAL),  # FEHB plans are group health plans
    "HM": ("health maintenance organization", PlanType.COMMERCIAL),
    "LM": ("liability medical", PlanType.LIABILITY),
    "MA": ("Medicare Part A", PlanType.MEDICARE),
    "MB": ("Medicare Part B", PlanType.MEDICARE),
    "MC": ("Medicaid", PlanType.MEDICAID),
    "OF": ("other federal program", None),
    "TV": ("Title V", None),
    "VA": ("Veterans Affairs plan", None),
    "WC": ("workers' compensation health claim", PlanType.WORKERS_COMP),
    "ZZ": ("mutually defined", None),
}
DIAGNOSIS_QUALIFIERS = ("ABK", "ABF", "BK", "BF")  # HI: ICD-10-CM, then ICD-9-CM (refused later)
# cob.model Encounter.encounter_id
ENCOUNTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")
UNKNOWN_BIRTH_DATE = date(1900, 1, 1)  # a subscriber who is not the patient and has no DMG


def encounter_id_of(claim_control_number: str) -> str:
    """CLM01 as an encounter id. A CLM01 the Encounter accepts is kept as it is; any other (a
    space, '#', '/', longer than 30) keeps its allowed characters, each run of others becoming
    '-', and ends with 6 hex digits of its SHA-256. Deterministic, so a batch imported twice
    starts nothing twice; and two CLM01s that differ only where characters were replaced still
    get different encounters."""
    if ENCOUNTER_ID.match(claim_control_number):
        return claim_control_number
    digest = hashlib.sha256(claim_control_number.encode(errors="surrogatepass")).hexdigest()[:6]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", claim_control_number).lstrip("-._")
    readable = readable[:23].rstrip("-._")
    return f"{readable}-{digest}" if readable else digest


@dataclass
class ParsedLineAdjudication:  # one 2430 loop
    payer_id: str
    paid: Decimal
    procedure_code: str
    units: str
    adjustments: list[Adjustment] = field(default_factory=list)
    adjudication_date: date | None = None


@dataclass
class ParsedLine:  # one 2400 loop
    line_number: int
    procedure_code: str
    modifiers: list[str]
    charge: Decimal
    units: int
    diagnosis_pointers: list[int]
    service_date: date | None = None
    adjudications: list[ParsedLineAdjudication] = field(default_factory=list)


@dataclass
class ParsedOtherPayer:  # one 2320/2330A/2330B set
    sequence: int
    relationship: Relationship
    group_number: str | None
    filing_indicator: str
    paid: Decimal = Decimal(0)
    claim_adjustments: list[Adjustment] = field(default_factory=list)
    subscriber_name: tuple[str, str] = ("", "")
    member_id: str = ""
    payer_id: str = ""
    payer_claim_number: str = ""
    adjudicated: bool = False  # AMT*D given: this payer has paid (or denied) the claim
    sbr: Segment | None = field(default=None, repr=False, compare=False)


@dataclass
class ParsedClaim:
    claim_control_number: str
    charge: Decimal
    place_of_service: str
    frequency: str
    payer_sequence: int
    relationship: Relationship
    filing_indicator: str
    group_number: str | None
    medicare_basis: str | None
    billing_provider: Provider
    subscriber: Person
    member_id: str
    payer_id: str
    patient: Person
    patient_address: str | None = None
    original_claim_number: str | None = None
    prior_authorization_number: str | None = None
    rendering_provider_npi: str | None = None
    diagnoses: list[str] = field(default_factory=list)
    lines: list[ParsedLine] = field(default_factory=list)
    other_payers: list[ParsedOtherPayer] = field(default_factory=list)
    # the claim's own segments (CLM and the loops under it), for check_837p_balance
    segments: list[Segment] = field(default_factory=list, repr=False, compare=False)

    def remittances(self) -> list[Remittance]:
        """The prior payers' adjudications as cob.model Remittances (allowed = charge - CO).
        A 2320 payer that has not adjudicated (no AMT*D, no 2430 line) has no remittance."""
        out = []
        for other in self.other_payers:
            lines, when = [], None
            for line in self.lines:
                for adj in (a for a in line.adjudications if a.payer_id == other.payer_id):
                    co = sum((a.amount for a in adj.adjustments if a.group == "CO"), Decimal(0))
                    lines.append(LineAdjudication(line_number=line.line_number, procedure_code=adj.procedure_code,
                                                  charge=line.charge, allowed=line.charge - co, paid=adj.paid,
                                                  adjustments=adj.adjustments))  # fmt: skip
                    when = when or adj.adjudication_date
            if not (other.adjudicated or lines):
                continue
            out.append(Remittance(
                claim_control_number=self.claim_control_number, payer_id=other.payer_id, member_id=other.member_id,
                payer_claim_number=other.payer_claim_number, payer_sequence=other.sequence, status="1",
                adjudication_date=when or self.lines[0].service_date, lines=lines,
                # 2320 AMT*D and CAS: what the payer paid and adjusted for the whole claim
                claim_charge=self.charge, claim_paid=other.paid if other.adjudicated else None,
                claim_adjustments=other.claim_adjustments))  # fmt: skip
        return out

    def require_plan_types(self) -> None:
        """X12Error naming the first 2320 SBR09 with no plan type. An encounter needs a plan
        type for every coverage (`cob import`); a payer reading the claim needs only the prior
        payments, so to_submission leaves such a payer out of the encounter's coverages (the
        engine writes ZZ for a prior payer whose coverage it does not hold)."""
        for other in self.other_payers:
            if other.sbr is not None:
                _filing_indicator(other.sbr)

    def encounter_data(self) -> dict[str, Any]:
        """The claim as encounter input, in JSON types and not yet checked: `cob import` checks
        it as `cob submit` checks a file (cob.validation), so a fault is named by its field
        (`patient.last_name`). A payer whose SBR09 has no plan type is left out (see
        require_plan_types)."""
        service_date = self.lines[0].service_date
        coverages: list[dict[str, Any]] = [{
            "payer_id": self.payer_id, "member_id": self.member_id,
            "plan_type": plan_type(self.filing_indicator), "group_number": self.group_number,
            "relationship": self.relationship, "effective_date": service_date,
            "subscriber": None if self.relationship == Relationship.SELF else _as_data(self.subscriber),
            "medicare_basis": MEDICARE_BASIS.get(self.medicare_basis or ""),
        }]  # fmt: skip
        for other in self.other_payers:
            if FILING_INDICATOR.get(other.filing_indicator, ("", None))[1] is None:
                continue
            last, first = other.subscriber_name
            coverages.append({
                "payer_id": other.payer_id, "member_id": other.member_id,
                "plan_type": plan_type(other.filing_indicator), "group_number": other.group_number,
                "relationship": other.relationship, "effective_date": service_date,
                # 2330A has no DMG: the patient's birth date stands in
                "subscriber": None if other.relationship == Relationship.SELF else
                {"last_name": last, "first_name": first, "birth_date": self.patient.birth_date},
            })  # fmt: skip
        data = {
            "encounter_id": encounter_id_of(self.claim_control_number),
            "patient": _as_data(self.patient), "patient_address": self.patient_address,
            "service_date": service_date, "place_of_service": self.place_of_service,
            "billing_provider": _as_data(self.billing_provider),
            "rendering_provider_npi": self.rendering_provider_npi, "diagnoses": self.diagnoses,
            "lines": [{"line_number": ln.line_number, "procedure_code": ln.procedure_code,
                       "modifiers": ln.modifiers, "charge": ln.charge, "units": ln.units,
                       "diagnosis_pointers": ln.diagnosis_pointers} for ln in self.lines],
            "coverages": coverages,
        }  # fmt: skip
        return to_jsonable_python(data)

    def to_submission(self) -> ClaimSubmission:
        """The claim as the engine's ClaimSubmission; pydantic's ValidationError names the
        encounter field the claim cannot fill (an over-long name, a 51st line)."""
        encounter = Encounter.model_validate(self.encounter_data())
        return ClaimSubmission(
            claim_control_number=self.claim_control_number, frequency=self.frequency,
            original_payer_claim_number=self.original_claim_number, payer_sequence=self.payer_sequence,
            encounter=encounter, coverage=encounter.coverages[0],
            prior_authorization_number=self.prior_authorization_number,
            prior_remittances=self.remittances())  # fmt: skip


def _as_data(model: Person | Provider) -> dict[str, Any]:
    """A Person or Provider the reader built as written (model_construct) as plain data."""
    return {name: getattr(model, name) for name in type(model).model_fields}


@dataclass
class UnreadClaim:
    """A claim (2300) that cannot be read; `error` names the segment at fault."""

    claim_control_number: str
    error: X12Error
    segments: list[Segment] = field(default_factory=list, repr=False)

    @property
    def reason(self) -> str:
        return str(self.error)


def plan_type(filing_indicator: str) -> PlanType:
    meaning, plan = FILING_INDICATOR.get(filing_indicator, ("", None))
    if plan is None:
        raise ValueError(
            f"SBR09 {filing_indicator!r} ({meaning or 'not a 5010 code'}) has no plan type"
        )
    return plan


def refusal_of_837(transaction: Transaction) -> str | None:
    """Why this transaction is not read as an 837P, in one line; None for an 837P."""
    st, guide = f"ST {transaction.st[2]}", transaction.version
    if transaction.code != "837":
        return f"{st} is transaction set {transaction.code or '(ST01 empty)'}, not an 837; {ONLY}"
    if guide in GUIDES_READ:
        return None
    if not guide:
        return f"{st} names no implementation guide (ST03 and GS08 are empty); {ONLY}"
    for prefix, (kind, what) in OTHER_837.items():
        if guide.startswith(prefix):
            return f"{st} is {kind} ({guide}, {what}); {ONLY}"
    return f"{st} names guide {guide!r}, not an 837 guide this reader knows; {ONLY}"


# --- the transaction's hierarchy -----------------------------------------------------------


@dataclass
class _Level:  # one HL loop: 2000A (20), 2000B (22) or 2000C (23)
    hl: Segment
    parent: _Level | None
    segments: list[Segment] = field(default_factory=list)  # up to its first claim or next HL
    problem: X12Error | None = None

    @property
    def code(self) -> str:
        return self.hl[3]

    def up_to(self, code: str) -> _Level | None:
        level: _Level | None = self
        while level is not None and level.code != code:
            level = level.parent
        return level


@dataclass
class _ClaimLoop:  # one 2300 loop: CLM first, up to the next CLM, HL or SE
    segments: list[Segment]
    level: _Level | None


PARENT_OF = {"20": "", "22": "20", "23": "22"}
LEVEL_NAME = {"20": "billing provider", "22": "subscriber", "23": "patient"}


def _hierarchy(transaction: Transaction) -> tuple[list[Segment], list[_ClaimLoop]]:
    """The header (BHT, 1000A, 1000B) and every claim with the HL it belongs to."""
    header: list[Segment] = []
    levels: dict[str, _Level] = {}
    claims: list[_ClaimLoop] = []
    level: _Level | None = None
    into = header
    for s in transaction.body:
        if s.id == "HL":
            parent = levels.get(s[2]) if s[2] else None
            level = _Level(s, parent)
            level.problem = _hl_problem(s, parent, levels)
            levels.setdefault(s[1], level)
            into = level.segments
        elif s.id == "CLM":
            claims.append(_ClaimLoop([s], level))
            into = claims[-1].segments
        else:
            into.append(s)
    return header, claims


def _hl_problem(hl: Segment, parent: _Level | None, levels: dict[str, _Level]) -> X12Error | None:
    def problem(message: str) -> X12Error:
        return X12Error(message, "HL", hl.position)

    if hl[3] not in PARENT_OF:
        return problem(f"HL03 {hl[3]!r} is not an 837P level (20, 22 or 23)")
    if hl[1] in levels:
        return problem(f"HL01 {hl[1]} is used twice (also at position {levels[hl[1]].hl.position})")
    wanted = PARENT_OF[hl[3]]
    if not wanted:
        return None
    if parent is None:
        return problem(f"HL02 {hl[2]!r} names no earlier HL; a {LEVEL_NAME[hl[3]]} level (HL03 "
                       f"{hl[3]}) needs its {LEVEL_NAME[wanted]} level ({wanted}) as parent")  # fmt: skip
    if parent.code != wanted:
        return problem(f"HL02 {hl[2]} names a {LEVEL_NAME.get(parent.code, parent.code)} level "
                       f"(HL03 {parent.code}); a {LEVEL_NAME[hl[3]]} level's parent is a "
                       f"{LEVEL_NAME[wanted]} level ({wanted})")  # fmt: skip
    return None


def _nm1_loops(segments: list[Segment]) -> dict[str, list[Segment]]:
    """A level's segments by NM1 loop: NM101 -> that NM1 and what follows it up to the next
    NM1; '' -> the segments before the first NM1 (SBR, PAT, PRV). The first of each wins."""
    loops: dict[str, list[Segment]] = {"": []}
    into = loops[""]
    for s in segments:
        if s.id == "NM1":
            into = [s]
            loops.setdefault(s[1], into)  # a repeated loop fills a list nobody keeps
        else:
            into.append(s)
    return loops


# --- element readers: each names the segment and element at fault --------------------------


def _dtp_day(s: Segment) -> date:
    """DTP03 as a date: D8, or the first day of an RD8 range."""
    if s[2] not in ("D8", "RD8"):
        raise X12Error(
            f"DTP02 {s[2]!r}: a date (D8) or a range (RD8) is expected", "DTP", s.position
        )
    return date_element(s, 3, s[2])


def _first(
    loop: list[Segment], segment_id: str, qualifiers: tuple[str, ...] = ()
) -> Segment | None:
    return next(
        (s for s in loop if s.id == segment_id and (not qualifiers or s[1] in qualifiers)), None
    )


def _address(loop: list[Segment]) -> str | None:
    n3, n4 = _first(loop, "N3"), _first(loop, "N4")
    return f"{n3[1]}, {n4[1]}, {n4[2]} {n4[3]}" if n3 and n4 else None


def _phone(loop: list[Segment]) -> str:
    for per in (s for s in loop if s.id == "PER"):
        for n in (3, 5, 7):  # PER03/05/07 qualify the number that follows them
            if per[n] == "TE":
                return per[n + 1]
    return ""


def _person(nm1: Segment, dmg: Segment | None, needs_birth_date: bool, what: str) -> Person:
    if dmg is None and needs_birth_date:
        raise X12Error(
            f"the {what} has no DMG: the patient's birth date is required", nm1.id, nm1.position
        )
    if not nm1[3]:
        raise X12Error(f"NM103: the {what}'s name is empty", nm1.id, nm1.position)
    birth_date = date_element(dmg, 2) if dmg is not None else UNKNOWN_BIRTH_DATE
    sex = dmg[3] if dmg is not None and dmg[3] in ("F", "M", "U") else "U"
    # as written: the encounter's checks (cob.validation) judge the content, naming the field
    return Person.model_construct(
        last_name=nm1[3], first_name=nm1[4] or nm1[3], birth_date=birth_date, sex=sex
    )


def _sequence(sbr: Segment) -> int:
    if not sbr[1] or sbr[1] not in SEQUENCE_LETTERS:
        raise X12Error(f"SBR01 {sbr[1]!r} is not a payer responsibility the engine orders "
                       f"({', '.join(SEQUENCE_LETTERS)})", "SBR", sbr.position)  # fmt: skip
    return SEQUENCE_LETTERS.index(sbr[1]) + 1


def _filing_indicator(sbr: Segment) -> str:
    """SBR09, refused when empty or when no plan type fits it."""
    code = sbr[9]
    if not code:
        raise X12Error("SBR09 (claim filing indicator) is empty", "SBR", sbr.position)
    try:
        plan_type(code)
    except ValueError as error:
        raise X12Error(str(error), "SBR", sbr.position) from None
    return code


def _adjustments(s: Segment) -> list[Adjustment]:
    try:
        return [Adjustment(group=s[1], reason=s[n], amount=decimal_element(s, n + 1))
                for n in range(2, 19, 3) if s[n]]  # fmt: skip
    except ValidationError:
        raise X12Error(f"CAS01 {s[1]!r} is not a claim adjustment group (CO, PR, OA, PI, CR)",
                       "CAS", s.position) from None  # fmt: skip


def _composite(
    s: Segment, n: int, parts: int, what: str, required: tuple[int, ...] = ()
) -> list[str]:
    """Composite element `n` split on ISA16, with at least `parts` components; `required`
    (1-based, all of the first `parts` when empty) must not be empty."""
    values = s.components(n)
    if len(values) < parts or not all(values[i - 1] for i in required or range(1, parts + 1)):
        raise X12Error(f"{s.id}{n:02d} {s[n]!r} is not {what}, split on {s.separators.component!r}"
                       " (the component separator ISA16 declares)", s.id, s.position)  # fmt: skip
    return values


# --- the levels and the claim ----------------------------------------------------------------


def _billing_provider(level: _Level, header: list[Segment]) -> Provider:
    loop = _nm1_loops(level.segments).get("85")
    if not loop:
        raise X12Error("the billing provider level has no 2010AA NM1*85", "HL", level.hl.position)
    nm1 = loop[0]
    name = f"{nm1[4]} {nm1[3]}".strip() if nm1[2] == "1" else nm1[3]
    if nm1[8] != "XX" or not re.fullmatch(r"\d{10}", nm1[9]):
        raise X12Error(f"NM109 {nm1[9]!r}: the billing provider's NPI (NM108 XX) must be 10 digits",
                       "NM1", nm1.position)  # fmt: skip
    ref = _first(loop, "REF", ("EI", "SY"))
    if ref is None:
        raise X12Error(
            "the billing provider has no tax id (2010AA REF*EI or REF*SY)", "NM1", nm1.position
        )
    if not re.fullmatch(r"\d{9}", ref[2]):
        raise X12Error(
            f"REF02 {ref[2]!r}: the billing provider's tax id must be 9 digits", "REF", ref.position
        )
    # 2010AA N3/N4 and a 1000A PER are required by the guide, and the claims the engine
    # writes for this encounter repeat them.
    address = _address(loop)
    if address is None:
        raise X12Error("the billing provider has no address (2010AA N3/N4)", "NM1", nm1.position)
    phone = _phone(loop) or _phone(_nm1_loops(header).get("41", []))
    if not phone:
        raise X12Error("no telephone number (PER TE) for the billing provider in 2010AA or the "
                       "submitter (1000A)", "NM1", nm1.position)  # fmt: skip
    # as written: the encounter's checks (cob.validation) judge the content, naming the field
    return Provider.model_construct(
        name=name or nm1[9], npi=nm1[9], tax_id=ref[2], address=address, phone=phone
    )


def _claim(loop: _ClaimLoop, header: list[Segment]) -> ParsedClaim:
    clm = loop.segments[0]
    level = loop.level
    if level is None or level.code not in ("22", "23"):
        under = "before any HL" if level is None else f"under HL {level.hl[1]} (HL03 {level.code})"
        raise X12Error(f"this claim is {under}; a claim belongs under a subscriber (22) or patient (23) HL",
                       "CLM", clm.position)  # fmt: skip
    chain = [
        lv for lv in (level.up_to("23"), level.up_to("22"), level.up_to("20")) if lv is not None
    ]
    for lv in chain:
        if lv.problem is not None:
            raise lv.problem
    patient_level, subscriber_level = level.up_to("23"), level.up_to("22")
    billing_level = level.up_to("20")
    if subscriber_level is None or billing_level is None:  # only a level with a problem lacks them
        raise X12Error(
            "this claim is not under a subscriber and billing provider HL", "CLM", clm.position
        )
    billing_provider = _billing_provider(billing_level, header)

    sub = _nm1_loops(subscriber_level.segments)
    sbr = _first(sub[""], "SBR")
    if sbr is None:
        raise X12Error("the subscriber level has no SBR", "HL", subscriber_level.hl.position)
    if not sub.get("IL"):
        raise X12Error(
            "the subscriber level has no 2010BA subscriber (NM1*IL)",
            "HL",
            subscriber_level.hl.position,
        )
    if not sub.get("PR"):
        raise X12Error(
            "the subscriber level has no 2010BB payer (NM1*PR)", "HL", subscriber_level.hl.position
        )
    subscriber_nm1, payer_nm1 = sub["IL"][0], sub["PR"][0]
    subscriber = _person(
        subscriber_nm1, _first(sub["IL"], "DMG"), patient_level is None, "subscriber"
    )
    if patient_level is None:
        patient, patient_address, relationship = subscriber, None, Relationship.SELF
    else:
        pat = _nm1_loops(patient_level.segments)
        if not pat.get("QC"):
            raise X12Error(
                "the patient level has no 2010CA patient (NM1*QC)", "HL", patient_level.hl.position
            )
        patient = _person(pat["QC"][0], _first(pat["QC"], "DMG"), True, "patient")
        patient_address = _address(pat["QC"])
        if patient_address is None:  # required in 2010CA, and the engine's claims repeat it
            raise X12Error(
                "the patient has no address (2010CA N3/N4)", "NM1", pat["QC"][0].position
            )
        pat_segment = _first(pat[""], "PAT")
        relationship = RELATIONSHIP.get(pat_segment[1] if pat_segment else "", Relationship.OTHER)

    if not clm[1]:
        raise X12Error("CLM01 (the claim's control number) is empty", "CLM", clm.position)
    place, _, frequency = _composite(clm, 5, 3, "facility code:qualifier:frequency", (1, 3))[:3]
    claim = ParsedClaim(
        claim_control_number=clm[1], charge=decimal_element(clm, 2), place_of_service=place, frequency=frequency,
        payer_sequence=_sequence(sbr), relationship=relationship, filing_indicator=_filing_indicator(sbr),
        group_number=sbr[3] or None, medicare_basis=sbr[5] or None, billing_provider=billing_provider,
        subscriber=subscriber, member_id=subscriber_nm1[9], payer_id=payer_nm1[9], patient=patient,
        patient_address=patient_address, segments=loop.segments)  # fmt: skip
    _claim_body(claim, loop.segments)
    return claim


def _claim_body(claim: ParsedClaim, segments: list[Segment]) -> None:
    """The 2300 loop and its 2310, 2320/2330 and 2400/2430 loops."""
    where = "2300"
    other: ParsedOtherPayer | None = None
    sbr: Segment | None = None  # the open 2320's SBR and whether its 2330A/2330B came
    seen: set[str] = set()
    lx: Segment | None = None
    line: ParsedLine | None = None
    svd: ParsedLineAdjudication | None = None

    def close_2320() -> None:
        if sbr is not None:
            for loop, code, what in (("2330A", "IL", "subscriber"), ("2330B", "PR", "payer")):
                if code not in seen:
                    raise X12Error(f"this 2320 (other subscriber) has no {loop} other {what} "
                                   f"(NM1*{code}), which 005010X222A1 requires", "SBR", sbr.position)  # fmt: skip

    def close_2400() -> None:
        if lx is not None and line is None:
            raise X12Error("this service line has no SV1", "LX", lx.position)

    for s in segments[1:]:
        if s.id == "SBR":
            close_2320()
            sbr, seen, where = s, set(), "2320"
            other = ParsedOtherPayer(sequence=_sequence(s), relationship=RELATIONSHIP.get(s[2], Relationship.OTHER),
                                     group_number=s[3] or None, filing_indicator=s[9], sbr=s)  # fmt: skip
            claim.other_payers.append(other)
        elif s.id == "LX":
            close_2320()
            close_2400()
            sbr, other, lx, line, svd, where = None, None, s, None, None, "2400"
        elif s.id == "NM1":
            if where in ("2300", "2310"):
                where = "2310"
                if s[1] == "82":  # 2310B rendering provider
                    claim.rendering_provider_npi = s[9] or None
            elif where.startswith(("2320", "2330")) and other is not None:
                where = {"IL": "2330A", "PR": "2330B"}.get(s[1], "2330")
                seen.add(s[1])
                if s[1] == "IL":
                    other.subscriber_name, other.member_id = (s[3], s[4]), s[9]
                elif s[1] == "PR":
                    other.payer_id = s[9]
            else:
                where = "2420"
        elif s.id == "REF" and where == "2300" and s[1] in ("F8", "G1"):
            if s[1] == "F8":
                claim.original_claim_number = s[2]
            else:
                claim.prior_authorization_number = s[2]
        elif s.id == "REF" and where == "2330B" and s[1] == "F8" and other is not None:
            other.payer_claim_number = s[2]
        elif s.id == "HI" and where == "2300":
            claim.diagnoses += _diagnoses(s)
        elif s.id == "CAS" and where == "2320" and other is not None:
            other.claim_adjustments += _adjustments(s)
        elif s.id == "AMT" and s[1] == "D" and where == "2320" and other is not None:
            other.paid, other.adjudicated = decimal_element(s, 2), True
        elif s.id == "SV1" and where == "2400":
            line = _line(s, len(claim.lines) + 1)
            claim.lines.append(line)
        elif s.id == "DTP" and s[1] == "472" and where == "2400" and line is not None:
            line.service_date = _dtp_day(s)
        elif s.id == "SVD" and line is not None:
            procedure = _composite(s, 3, 2, "qualifier:procedure code")[1]
            svd = ParsedLineAdjudication(
                payer_id=s[1], paid=decimal_element(s, 2), procedure_code=procedure, units=s[5]
            )
            line.adjudications.append(svd)
            where = "2430"
        elif s.id == "CAS" and where == "2430" and svd is not None:
            svd.adjustments += _adjustments(s)
        elif s.id == "DTP" and s[1] == "573" and where == "2430" and svd is not None:
            svd.adjudication_date = _dtp_day(s)
        elif s.id == "LIN":
            where = "2410"
        elif s.id == "LQ":
            where = "2440"
    close_2320()
    close_2400()
    clm = segments[0]
    if not claim.lines:
        raise X12Error("this claim has no service line (2400 LX/SV1)", "CLM", clm.position)
    for n, line in enumerate(claim.lines):
        if line.service_date is None:
            raise X12Error(
                f"service line {n + 1} has no date of service (DTP*472)", "CLM", clm.position
            )


def _diagnoses(hi: Segment) -> list[str]:
    codes = []
    for n in range(1, 13):
        if not hi[n]:
            continue
        qualifier, code = _composite(hi, n, 2, "qualifier:diagnosis code")[:2]
        if qualifier in DIAGNOSIS_QUALIFIERS:
            codes.append(code)
    return codes


def _line(sv1: Segment, number: int) -> ParsedLine:
    procedure = _composite(sv1, 1, 2, "qualifier:procedure code")
    if procedure[0] != "HC":
        raise X12Error(f"SV101 qualifier {procedure[0]!r}: only HCPCS/CPT procedure codes (HC) are read",
                       "SV1", sv1.position)  # fmt: skip
    units = decimal_element(sv1, 4) if sv1[4] else Decimal(1)
    if units != units.to_integral_value():
        raise X12Error(f"SV104 {sv1[4]!r} is not a whole number of units", "SV1", sv1.position)
    pointers = [p for p in sv1.components(7) if p]
    if not all(re.fullmatch(r"[1-9][0-9]?", p) for p in pointers):
        raise X12Error(f"SV107 {sv1[7]!r} is not diagnosis pointers split on "
                       f"{sv1.separators.component!r}", "SV1", sv1.position)  # fmt: skip
    return ParsedLine(line_number=number, procedure_code=procedure[1], modifiers=[m for m in procedure[2:6] if m],
                      charge=decimal_element(sv1, 2), units=int(units), diagnosis_pointers=[int(p) for p in pointers])  # fmt: skip


# --- what callers use --------------------------------------------------------------------------


def read_837p(transaction: Transaction) -> list[ParsedClaim | UnreadClaim]:
    """Every claim of an 837P transaction, read or with the segment that keeps it from being
    read; the caller has checked refusal_of_837 first. What is read is taken as written: the
    encounter's checks judge its content (ParsedClaim.encounter_data, to_submission)."""
    header, loops = _hierarchy(transaction)
    out: list[ParsedClaim | UnreadClaim] = []
    for loop in loops:
        try:
            out.append(_claim(loop, header))
        except X12Error as error:
            out.append(UnreadClaim(loop.segments[0][1], error, loop.segments))
    return out


def parse_837p(text: str) -> list[ParsedClaim]:
    """Every claim (2300) in every 837P of the file; X12Error names the first segment at fault
    (an 837 of another guide is refused whole)."""
    claims: list[ParsedClaim] = []
    for transaction in transactions_of(text):
        if refusal := refusal_of_837(transaction):
            raise X12Error(refusal, "ST", transaction.st.position)
        for claim in read_837p(transaction):
            if isinstance(claim, UnreadClaim):
                raise claim.error
            claims.append(claim)
    return claims


def summarize_837p(transaction: Transaction) -> dict:
    """The claims of an 837P as a billing team checks a batch (`cob x12 read`): control number,
    charge, service lines, payer, member and the other payers (2330B) of each. Read from the
    loops alone, so a claim the engine would skip for its content is still listed."""
    if refusal := refusal_of_837(transaction):
        raise X12Error(refusal, "ST", transaction.st.position)
    _, loops = _hierarchy(transaction)
    claims = []
    for loop in loops:
        clm = loop.segments[0]
        subscriber = loop.level.up_to("22") if loop.level else None
        nm1 = _nm1_loops(subscriber.segments) if subscriber else {}
        claims.append({
            "claim_control_number": clm[1],
            "charge": f"{decimal_element(clm, 2).quantize(Decimal('0.01'))}",
            "lines": sum(1 for s in loop.segments if s.id == "LX"),
            "payer_id": nm1["PR"][0][9] if nm1.get("PR") else "",
            "member_id": nm1["IL"][0][9] if nm1.get("IL") else "",
            "other_payers": [s[9] for s in loop.segments if s.id == "NM1" and s[1] == "PR"],
        })  # fmt: skip
    return {"claims": claims}
