"""The shapes that cross every boundary: encounter input, payer answers, adjudications.

Pydantic models only (no I/O), so workflows, activities, the simulator, the ledger and the
CLI all speak the same typed language. Money is `Decimal`; dates are `date`.

The input shapes (Person, Provider, Coverage, ServiceLine, Encounter) take only what the
X12 elements they are written into can carry (`cob.elements`: what the wire can carry), so an
encounter the engine accepts is one it can send; the payer-answer shapes take what readers
find in real files.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cob.elements import (
    ADDRESS,  # noqa: F401 (importable from cob.model)
    ADDRESS_LENGTH,  # noqa: F401 (importable from cob.model)
    DELIMITERS,  # noqa: F401 (importable from cob.model)
    EARLIEST_DAY,  # noqa: F401 (importable from cob.model)
    US_ADDRESS,  # noqa: F401 (importable from cob.model)
    Address,
    Count,
    Day,
    DiagnosisCode,
    Digits10,
    Element,  # noqa: F401 (importable from cob.model)
    FirstName,
    GroupNumber,
    LastName,
    MemberId,
    Modifier,
    OrganizationName,
    PayerId,
    Phone,
    shown,  # noqa: F401 (importable from cob.model)
    wire_problem,  # noqa: F401 (importable from cob.model)
)


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
    """How a plan pays when it is not primary (see docs/secondary-payment.md)."""

    STANDARD = "standard"
    STANDARD_WITH_CREDIT_RESERVE = "standard_with_credit_reserve"
    NON_DUPLICATION = "non_duplication"
    CARVE_OUT = "carve_out"
    MAINTENANCE_OF_BENEFITS = "maintenance_of_benefits"
    EXCLUSION = "exclusion"
    MEDICARE_SECONDARY = "medicare_secondary"
    SUPPLEMENT = "supplement"
    MEDICAID_LESSER_OF = "medicaid_lesser_of"


class AllowableBasis(StrEnum):
    """Which allowed amount a later plan takes as the allowable expense (NAIC MDL-120 §3):
    its own (as published standard-COB examples do), the higher of its own and the earlier
    payers' (the engine's default), or the primary's payment arrangement."""

    OWN = "own"
    HIGHER_OF = "higher_of"
    PRIMARY = "primary"


class ParentsArrangement(StrEnum):
    """The parents' situation, for a dependent child's coverage (NAIC MDL-120 §6 rule 2)."""

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
    first_name: FirstName
    last_name: LastName
    birth_date: Day  # DMG02; not in the future (cob.validation)
    sex: Literal["F", "M", "U"] = "U"


class Provider(Model):
    name: OrganizationName
    npi: Digits10
    tax_id: str = Field(pattern=r"^[0-9]{9}$")  # REF02 with REF01 EI
    address: Address = ""  # required to bill (2010AA N3/N4): cob.validation
    phone: Phone = ""  # required to bill (1000A PER): cob.validation


class CoveragePeriod(Model):
    start: Day
    end: Day


# An 837P carries the destination payer's coverage and up to 10 others (2320 loop, repeat 10);
# SBR01 has a code for the first 11 payers (P, S, T, A to H).
MAX_COVERAGES = 11


class Coverage(Model):
    payer_id: PayerId
    member_id: MemberId
    plan_type: PlanType
    group_number: GroupNumber | None = None
    relationship: Relationship = Relationship.SELF
    subscriber: Person | None = None  # required unless relationship is self
    subscriber_employment: Employment = Employment.NONE
    # the largest employers have about 2 million employees
    employer_size: Annotated[Count, Field(ge=0, le=10_000_000)] | None = None
    effective_date: Day
    termination_date: Day | None = None
    medicare_basis: MedicareBasis | None = None
    # The first month of Medicare entitlement (or eligibility, had the person applied): the
    # ESRD 30-month coordination period counts from it (42 USC 1395y(b)(1)(C)).
    medicare_entitlement_date: Day | None = None
    # NAIC MDL-120 §6 facts; the defaults are the common case.
    has_cob_provision: bool = True
    applies_active_inactive_rule: bool = True
    applies_cobra_rule: bool = True
    parents: ParentsArrangement | None = None  # for a dependent child's coverage
    parent_role: ParentRole | None = None  # the subscriber's role when parents are apart
    decree_responsible: bool = False  # a court decree makes this subscriber responsible
    # Earlier coverage of the same person that counts as continuous with this one (24-hour
    # bridging), for the longer/shorter rule; bounded only so an encounter stays small.
    prior_periods: list[CoveragePeriod] = Field(default_factory=list, max_length=20)
    # The provider's contract with this payer: out of network it is not obliged to accept the
    # payer's allowed amount as payment in full, so a later Medicare has no OTAF from it
    # (42 CFR 411.32(b), 411.33(a)(1)).
    provider_in_network: bool = True

    @property
    def key(self) -> str:
        return f"{self.payer_id}:{self.member_id}"


class ServiceLine(Model):
    line_number: Annotated[Count, Field(ge=1, le=50)]  # LX01: 1..n in order (cob.validation)
    procedure_code: str = Field(pattern=r"^[A-Z0-9]{5}$")
    modifiers: list[Modifier] = Field(default_factory=list, max_length=4)
    # cents at most; the ledger's 12 digits (a sane bound for billing: cob.validation)
    charge: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    units: Annotated[Count, Field(ge=1, le=99_999)] = 1  # SV104
    # SV107: at most 4 pointers, each to one of the claim's 12 diagnoses (HI)
    diagnosis_pointers: list[Annotated[Count, Field(ge=1, le=12)]] = Field(
        default_factory=lambda: [1], min_length=1, max_length=4
    )


class GoodFaithEstimate(Model):
    """The Good Faith Estimate a self-pay patient was given (45 CFR 149.610): its reference
    and the total expected charges; a bill well above it may be disputed (45 CFR 149.620)."""

    reference: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,39}$")
    total: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    issued_on: Day | None = None


class Encounter(Model):
    # CLM01 is at most 38: the claim control number '<encounter_id>-<n>-<k>' needs up to 8 more
    encounter_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")
    patient: Person
    # 'street, city, ST zip'; the 837P needs it (2010CA) when the patient is not the subscriber
    patient_address: Address | None = None
    service_date: Day
    place_of_service: str = Field(default="11", pattern=r"^[0-9]{2}$")
    billing_provider: Provider
    rendering_provider_npi: Digits10 | None = None
    related_cause: RelatedCause | None = None
    diagnoses: list[DiagnosisCode] = Field(min_length=1, max_length=12)  # HI01 to HI12
    lines: list[ServiceLine] = Field(min_length=1, max_length=50)  # 2400 loop, repeat 50
    coverages: list[Coverage] = Field(default_factory=list, max_length=MAX_COVERAGES)
    # Who pays the patient's share (cob.guarantor): given, or the patient, or for a minor the
    # subscriber whose child the patient is. `account_id` is the practice's own account number
    # for the guarantor, when its practice-management system has one.
    guarantor: Person | None = None
    account_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")
    gfe: GoodFaithEstimate | None = None  # a self-pay encounter's Good Faith Estimate

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
    allowable_basis: AllowableBasis = AllowableBasis.HIGHER_OF  # MSG*COB ALLOWABLE <basis>


class OrderDecision(Model):
    """Why `higher` pays before `lower`; kept for the audit trail (CARC 22 disputes)."""

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
    """One CAS reason/amount: group code, CARC (X12 External Code Source 139), amount."""

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
