"""The simulated payers' plans: each payer's public directory entry (`payers/directory/`)
with the plan's private terms laid over it, one JSON file per payer in `plan_terms/`.

The private terms are what only the payer's own systems know: who its members are (member id
format), the plan's cost sharing, its fee schedule, which procedures need prior authorization,
its coverage and bundling edits, and how it pays when it is not primary.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator

from cob.model import AllowableBasis, CobMethod
from payers.directory import DirectoryError, PayerEntry, load_directory, read_entry_file

PLAN_TERMS_DIR = Path(__file__).parent / "plan_terms"
ProfileError = DirectoryError


class PayerProfile(PayerEntry):
    member_id_pattern: str
    deductible: Decimal = Field(ge=0, decimal_places=2)
    coinsurance: Decimal = Field(ge=0, le=1)  # the patient's share, 0.20 = 20%
    copay: Decimal = Field(ge=0, decimal_places=2)
    copay_procedures: list[str] = Field(default_factory=list)  # office visits, usually
    fee_schedule: dict[str, Decimal] = Field(default_factory=dict)  # code -> allowed per unit
    default_allowed_pct: Decimal = Field(gt=0, le=1)  # of the charge, for codes not scheduled
    prior_auth_procedures: list[str] = Field(default_factory=list)
    cob_method: CobMethod  # how it pays when it is not primary
    # Which allowed amount is its allowable expense as a later payer (NAIC MDL-120 §3).
    allowable_basis: AllowableBasis = AllowableBasis.HIGHER_OF
    # Services the plan does not cover: denied PR-96 as primary; as a later payer its normal
    # benefit is 0, so only a credit reserve can pay them (an expense no plan covers is not
    # an allowable expense: NAIC COB Model Regulation MDL-120 section 3).
    excluded_procedures: list[str] = Field(default_factory=list)
    # Medicare secondary: the obligated-to-accept amount (OTAF) it derives from the earlier
    # payers' CAS, as a share of their highest allowed (1.00 = the primary's allowed;
    # 42 CFR 411.32(b) and 411.33(e)); None = no OTAF.
    obligated_to_accept_pct: Decimal | None = Field(default=None, gt=0, le=1)
    requires_rendering_provider: bool = False
    # Medical necessity, as a coverage determination states it: a procedure listed here is
    # covered only with a diagnosis starting with one of its prefixes; otherwise the line is
    # denied CO-50.
    covered_diagnoses: dict[str, list[str]] = Field(default_factory=dict)
    # Bundling edits: a procedure listed here is included in the payment for any of the
    # procedures named, when one is on the same claim: denied CO-97.
    bundled_into: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("member_id_pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return pattern

    @field_validator("fee_schedule")
    @classmethod
    def _positive_fees(cls, fees: dict[str, Decimal]) -> dict[str, Decimal]:
        bad = {
            code: fee
            for code, fee in fees.items()
            if fee <= 0 or fee != fee.quantize(Decimal("0.01"))
        }
        if bad:
            raise ValueError(f"fees must be positive amounts in cents: {bad}")
        return fees

    def is_member_id(self, member_id: str) -> bool:
        return re.fullmatch(self.member_id_pattern, member_id) is not None


@lru_cache(maxsize=8)
def _load(plan_terms: Path) -> dict[str, PayerProfile]:
    public = load_directory()
    plans = []
    for path in sorted(plan_terms.glob("*.json")):
        if path.stem not in public:
            raise ProfileError(f"{path.name}: payer_id: not in the payer directory")
        entry = public[path.stem].model_dump(mode="json")
        plans.append(read_entry_file(path, PayerProfile, entry))
    if not plans:
        raise ProfileError(f"{plan_terms}: no plan terms (*.json) found")
    return {plan.payer_id: plan for plan in plans}


def load_profiles(plan_terms: Path | None = None) -> dict[str, PayerProfile]:
    """Every simulated payer's plan by payer id, read once per folder (a fresh dict each call)."""
    return dict(_load((plan_terms or PLAN_TERMS_DIR).resolve()))
