"""The shapes that cross every boundary: encounter input, payer answers, adjudications.

Pydantic models only (no I/O), so workflows, activities, the simulator, the ledger and the
CLI all speak the same typed language. Money is `Decimal`; dates are `date`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class PlanType(StrEnum):
    COMMERCIAL = "commercial"
    MEDICARE = "medicare"
    MEDICARE_SUPPLEMENT = "medicare_supplement"
    MEDICAID = "medicaid"
    TRICARE = "tricare"
    WORKERS_COMP = "workers_comp"
    NO_FAULT = "no_fault"  # auto med-pay / PIP
    LIABILITY = "liability"


class Relationship(StrEnum):
    """The patient's relationship to the subscriber of a coverage."""

    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"


class Employment(StrEnum):
    """The subscriber's status with the employer that sponsors the plan."""

    ACTIVE = "active"
    RETIRED = "retired"
    LAID_OFF = "laid_off"
    COBRA = "cobra"  # COBRA or state continuation coverage
    NONE = "none"


class MedicareBasis(StrEnum):
    AGE = "age"
    DISABILITY = "disability"
    ESRD = "esrd"


class CobMethod(StrEnum):
    """How a plan pays when it is not primary (DOMAIN.md §2.2 to §2.5)."""

    STANDARD = "standard"
    STANDARD_WITH_CREDIT_RESERVE = "standard_with_credit_reserve"
    NON_DUPLICATION = "non_duplication"
    CARVE_OUT = "carve_out"
    MAINTENANCE_OF_BENEFITS = "maintenance_of_benefits"
    EXCLUSION = "exclusion"
    MEDICARE_SECONDARY = "medicare_secondary"
    SUPPLEMENT = "supplement"
    MEDICAID_LESSER_OF = "medicaid_lesser_of"


class ParentsArrangement(StrEnum):
    """The parents' situation, for a dependent child's coverage (NAIC Model 120, DOMAIN.md §1.2)."""

    MARRIED = "married"  # married or living together, whether or not ever married
    COURT_DECREE = "court_decree"  # a decree makes one parent responsible
    JOINT_CUSTODY = "joint_custody"  # or a decree making both responsible
    NO_DECREE = "no_decree"  # divorced/separated/not living together, no decree


class ParentRole(StrEnum):
    CUSTODIAL_PARENT = "custodial_parent"
    CUSTODIAL_PARENT_SPOUSE = "custodial_parent_spouse"
    NONCUSTODIAL_PARENT = "noncustodial_parent"
    NONCUSTODIAL_PARENT_SPOUSE = "noncustodial_parent_spouse"


class RelatedCause(StrEnum):
    """Why the service was needed, when an accident or work is the cause (837P CLM11)."""

    AUTO_ACCIDENT = "auto_accident"  # AA
    EMPLOYMENT = "employment"  # EM
    OTHER_ACCIDENT = "other_accident"  # OA


class Person(Model):
    first_name: str = Field(min_length=1)
    last_name: str = Field(min_length=1)
    birth_date: date
    sex: Literal["F", "M", "U"] = "U"


class Provider(Model):
    name: str = Field(min_length=1)
    npi: str = Field(pattern=r"^\d{10}$")
    tax_id: str = Field(pattern=r"^\d{9}$")
    address: str = ""
    phone: str = ""


class CoveragePeriod(Model):
    start: date
    end: date


class Coverage(Model):
    payer_id: str = Field(min_length=1)
    member_id: str = Field(min_length=1)
    plan_type: PlanType
    group_number: str | None = None
    relationship: Relationship = Relationship.SELF
    subscriber: Person | None = None  # required unless relationship is self
    subscriber_employment: Employment = Employment.NONE
    employer_size: int | None = Field(default=None, ge=0)
    effective_date: date
    termination_date: date | None = None
    medicare_basis: MedicareBasis | None = None
    # The first month of Medicare entitlement (or eligibility, had the person applied): the
    # ESRD 30-month coordination period counts from it (42 USC 1395y(b)(1)(C)).
    medicare_entitlement_date: date | None = None
    # NAIC Model 120 facts (DOMAIN.md §1.2); the defaults are the common case.
    has_cob_provision: bool = True
    applies_active_inactive_rule: bool = True
    applies_cobra_rule: bool = True
    parents: ParentsArrangement | None = None  # for a dependent child's coverage
    parent_role: ParentRole | None = None  # the subscriber's role when parents are apart
    decree_responsible: bool = False  # a court decree makes this subscriber responsible
    # Earlier coverage of the same person that counts as continuous with this one (24-hour
    # bridging), for the longer/shorter rule.
    prior_periods: list[CoveragePeriod] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.payer_id}:{self.member_id}"


class ServiceLine(Model):
    line_number: int = Field(ge=1)
    procedure_code: str = Field(pattern=r"^[A-Z0-9]{5}$")
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    charge: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    units: int = Field(default=1, ge=1)
    diagnosis_pointers: list[int] = Field(default_factory=lambda: [1], min_length=1, max_length=4)


# 'street, city, ST zip' (837P N3/N4)
US_ADDRESS = (
    r"^(?P<street>.+?),\s*(?P<city>[^,]+),\s*(?P<state>[A-Za-z]{2})\s+(?P<zip>\d{5}(?:-?\d{4})?)$"
)


class Encounter(Model):
    encounter_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")
    patient: Person
    # 'street, city, ST zip'; the 837P needs it (2010CA) when the patient is not the subscriber
    patient_address: str | None = Field(default=None, pattern=US_ADDRESS)
    service_date: date
    place_of_service: str = Field(default="11", pattern=r"^\d{2}$")
    billing_provider: Provider
    rendering_provider_npi: str | None = Field(default=None, pattern=r"^\d{10}$")
    related_cause: RelatedCause | None = None
    diagnoses: list[str] = Field(min_length=1, max_length=12)
    lines: list[ServiceLine] = Field(min_length=1, max_length=50)
    coverages: list[Coverage] = Field(default_factory=list)

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0.00"))


# --- payer answers -------------------------------------------------------------------------


class Benefits(Model):
    """What a 271 tells us about one coverage on the date of service."""

    payer_id: str
    member_id: str
    active: bool
    reason: str = ""  # why inactive, in the payer's words
    plan_type: PlanType
    deductible: Decimal = Decimal("0.00")
    deductible_remaining: Decimal = Decimal("0.00")
    coinsurance: Decimal = Decimal("0.00")  # the patient's share, 0.20 = 20%
    copay: Decimal = Decimal("0.00")
    prior_auth_procedures: list[str] = Field(default_factory=list)
    copay_procedures: list[str] = Field(default_factory=list)  # the services the copay is for
    cob_method: CobMethod = CobMethod.STANDARD


class OrderDecision(Model):
    """Why `higher` pays before `lower`; kept for the audit trail (DOMAIN.md §1.2, last line)."""

    higher: str  # Coverage.key
    lower: str
    rule: str
    citation: str


class PayerOrder(Model):
    coverages: list[Coverage]
    decisions: list[OrderDecision]
    excluded: dict[str, str] = Field(default_factory=dict)  # Coverage.key -> reason
    needs_manual_review: bool = False


class PriorAuthRequest(Model):
    encounter_id: str
    coverage: Coverage
    patient: Person
    service_date: date
    procedure_codes: list[str]
    provider_npi: str
    provider_name: str = ""  # 278 2010B NM103; the NPI stands in when it is missing
    follow_up: int = Field(default=0, ge=0)  # n > 0: the n-th re-ask of a pended request


class PriorAuthDecision(Model):
    payer_id: str
    status: Literal["approved", "denied", "pended"]
    authorization_number: str | None = None
    reason: str = ""


# --- claims and remittances ---------------------------------------------------------------

AdjustmentGroup = Literal["CO", "PR", "OA", "PI", "CR"]


class Adjustment(Model):
    """One CAS reason/amount: group code, CARC, amount (DOMAIN.md §5)."""

    group: AdjustmentGroup
    reason: str
    amount: Decimal


class LineAdjudication(Model):
    line_number: int
    procedure_code: str
    charge: Decimal
    allowed: Decimal
    paid: Decimal
    adjustments: list[Adjustment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list)  # RARCs
    control_number: str = ""  # REF*6R as the payer echoed it (free text), when not a number


# CLP02 claim status codes valid in a 5010 835 (005010X221A1): 1-3 processed as primary,
# secondary, tertiary; 4 denied; 19-21 processed and forwarded to the next payer; 22 reversal
# of a previous payment; 23 not our claim, forwarded; 25 predetermination pricing only.
ClaimStatusCode = Literal["1", "2", "3", "4", "19", "20", "21", "22", "23", "25"]


class Remittance(Model):
    """One payer's adjudication of one claim (the 835 CLP loop).

    The claim-level figures are the payer's own (CLP03, CLP04, CLP05 and the claim-level CAS);
    None where a remittance was built from lines alone. The engine's money is per line: a
    claim-level amount must be placed on a line (cob.money.place_claim_level) before posting.
    """

    claim_control_number: str
    payer_id: str
    member_id: str
    payer_claim_number: str
    payer_sequence: int
    status: ClaimStatusCode  # CLP02
    adjudication_date: date
    lines: list[LineAdjudication]
    claim_charge: Decimal | None = None  # CLP03
    claim_paid: Decimal | None = None  # CLP04
    claim_patient_responsibility: Decimal | None = None  # CLP05
    claim_adjustments: list[Adjustment] = Field(default_factory=list)  # 2100 CAS
    claim_remarks: list[str] = Field(default_factory=list)  # MIA/MOA remark codes (RARCs)
    filing_indicator: str = ""  # CLP06

    @property
    def paid(self) -> Decimal:
        """CLP04 as the payer reported it; the lines' total where no CLP04 was read."""
        if self.claim_paid is not None:
            return self.claim_paid
        return sum((line.paid for line in self.lines), Decimal("0.00"))


class ClaimSubmission(Model):
    claim_control_number: str
    frequency: Literal["1", "7", "8"] = "1"
    original_payer_claim_number: str | None = None  # REF*F8 on frequency 7 and 8
    payer_sequence: int = Field(ge=1)
    encounter: Encounter
    coverage: Coverage
    prior_authorization_number: str | None = None  # REF*G1
    prior_remittances: list[Remittance] = Field(default_factory=list)  # 2320/2430 loops


class ClaimAcknowledgment(Model):
    """999 + 277CA in one answer: accepted into adjudication, or rejected with a code."""

    claim_control_number: str
    accepted: bool
    payer_claim_number: str | None = None
    status_code: str = "A2"  # 277CA STC01-1
    reason: str = ""
    acknowledged: bool = True  # False: the 999 accepted the 837 but no 277CA came back
