"""An 837P claim as read (005010X222A1): its lines, its prior payers' 2320/2430 adjudications,
and what the engine makes of it (the encounter, the prior remittances, the ClaimSubmission).

Reading the file into these lives in `claim_837p_claim`; the SBR09 claim filing indicator is
turned into the plan type the engine coordinates here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

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
from cob.money import allowed_amount
from payers.x12.claim_837p import MSP_TYPE, SUBSCRIBER_RELATIONSHIP
from payers.x12.segments import (
    Segment,
    X12Error,
)

RELATIONSHIP = {code: rel for rel, code in SUBSCRIBER_RELATIONSHIP.items()}
MEDICARE_BASIS = {code: basis for basis, code in MSP_TYPE.items()}

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
# cob.model Encounter.encounter_id
ENCOUNTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")


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
        """The prior payers' adjudications as cob.model Remittances (allowed: cob.money.allowed_amount).
        A 2320 payer that has not adjudicated (no AMT*D, no 2430 line) has no remittance."""
        out = []
        for other in self.other_payers:
            lines, when = [], None
            for line in self.lines:
                for adj in (a for a in line.adjudications if a.payer_id == other.payer_id):
                    allowed = allowed_amount(line.charge, adj.adjustments)
                    lines.append(LineAdjudication(line_number=line.line_number, procedure_code=adj.procedure_code,
                                                  charge=line.charge, allowed=allowed, paid=adj.paid,
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
                filing_indicator_of(other.sbr)

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


def filing_indicator_of(sbr: Segment) -> str:
    """SBR09, refused when empty or when no plan type fits it."""
    code = sbr[9]
    if not code:
        raise X12Error("SBR09 (claim filing indicator) is empty", "SBR", sbr.position)
    try:
        plan_type(code)
    except ValueError as error:
        raise X12Error(str(error), "SBR", sbr.position) from None
    return code
