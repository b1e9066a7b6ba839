"""The simulated payers' plan terms, one JSON file per payer in `payers/profiles/`.

A profile is what the payer's own systems know: who its members are (member id format), the
plan's cost sharing, its fee schedule, which procedures need prior authorization, and how it
pays when it is not primary (DOMAIN.md §2.2 to §2.5).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cob.deadlines import DeadlineRules
from cob.model import CobMethod, PlanType

PROFILES_DIR = Path(__file__).parent / "profiles"


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the field."""


class PayerProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    payer_id: str = Field(pattern=r"^[A-Z0-9]{2,10}$")
    name: str = Field(min_length=1)
    plan_type: PlanType
    member_id_pattern: str
    deductible: Decimal = Field(ge=0, decimal_places=2)
    coinsurance: Decimal = Field(ge=0, le=1)  # the patient's share, 0.20 = 20%
    copay: Decimal = Field(ge=0, decimal_places=2)
    copay_procedures: list[str] = Field(default_factory=list)  # office visits, usually
    fee_schedule: dict[str, Decimal] = Field(default_factory=dict)  # code -> allowed per unit
    default_allowed_pct: Decimal = Field(gt=0, le=1)  # of the charge, for codes not scheduled
    prior_auth_procedures: list[str] = Field(default_factory=list)
    cob_method: CobMethod  # how it pays when it is not primary
    # Services the plan does not cover: denied PR-96 as primary; as a later payer its normal
    # benefit is 0, so only a credit reserve can pay them (DOMAIN.md §2.2).
    excluded_procedures: list[str] = Field(default_factory=list)
    # Medicare secondary: the OTAF it derives from the earlier payers' CAS, as a share of their
    # highest allowed (1.00 = the primary's allowed; DOMAIN.md §2.1); None = no OTAF.
    obligated_to_accept_pct: Decimal | None = Field(default=None, gt=0, le=1)
    requires_rendering_provider: bool = False
    # Medical necessity, as a coverage determination states it: a procedure listed here is
    # covered only with a diagnosis starting with one of its prefixes; otherwise the line is
    # denied CO-50 (DOMAIN.md §5: appeal with records).
    covered_diagnoses: dict[str, list[str]] = Field(default_factory=dict)
    # Bundling edits: a procedure listed here is included in the payment for any of the
    # procedures named, when one is on the same claim: denied CO-97 (DOMAIN.md §5: write off).
    bundled_into: dict[str, list[str]] = Field(default_factory=dict)
    address: str = ""
    # What the payer's 835s call it besides payer_id: its TRN03 company id ("1" + its TIN),
    # REF*2U or N1*PR N104 (005010X221A1 1000A), so a real ERA is matched to this payer.
    remittance_ids: list[str] = Field(default_factory=list)
    deadlines: DeadlineRules = DeadlineRules()  # timely filing, appeals, prompt pay (§4)

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


def _load_file(path: Path) -> PayerProfile:
    try:
        data = json.loads(path.read_text(), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path.name}: not valid JSON: {exc}") from exc
    try:
        profile = PayerProfile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ProfileError(f"{path.name}: {problems}") from exc
    if profile.payer_id != path.stem:
        raise ProfileError(f"{path.name}: payer_id: {profile.payer_id!r} must match the file name")
    return profile


@lru_cache(maxsize=8)
def _load_directory(directory: Path) -> dict[str, PayerProfile]:
    profiles = [_load_file(path) for path in sorted(directory.glob("*.json"))]
    if not profiles:
        raise ProfileError(f"{directory}: no payer profiles (*.json) found")
    return {profile.payer_id: profile for profile in profiles}


def load_profiles(directory: Path | None = None) -> dict[str, PayerProfile]:
    """All payer profiles by payer id, read once per directory (a fresh dict each call)."""
    return dict(_load_directory((directory or PROFILES_DIR).resolve()))


def known_payer_ids() -> set[str]:
    return set(load_profiles())


def payer_of_remittance(ids: list[str], profiles: dict[str, PayerProfile] | None = None) -> str | None:
    """The directory's payer id for an 835 that calls its payer by `ids` (REF*2U, N1*PR
    N104, TRN03), or None when no profile answers to one of them, or several do."""
    profiles = load_profiles() if profiles is None else profiles
    found = {
        p.payer_id for p in profiles.values() if {p.payer_id, *p.remittance_ids} & set(ids)
    }
    return found.pop() if len(found) == 1 else None
