"""`cob import FILE.837`: a practice-management system's 837P batch becomes encounters.

Each claim is checked as `cob submit` checks an encounter; a bad claim is reported with its
reason and skipped, and the good ones start. A file that is not a well-formed interchange is
refused whole, with the segment and position at fault.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from pydantic import ValidationError

from cob.model import Encounter, Model
from cob.validation import InvalidInput, field_path, validate_encounter
from payers.x12.claim_837p_parse import parse_837p


class SkippedClaim(Model):
    claim_control_number: str
    reason: str


class ImportBatch(Model):
    encounters: list[Encounter]
    skipped: list[SkippedClaim]


def read_837_batch(text: str, known_payers: Collection[str], today: date) -> ImportBatch:
    """Raises X12Error for a malformed interchange; sorts its claims into good and skipped."""
    batch = ImportBatch(encounters=[], skipped=[])
    for claim in parse_837p(text):
        try:
            encounter = claim.to_submission().encounter
            batch.encounters.append(
                validate_encounter(encounter.model_dump(mode="json"), known_payers, today)
            )
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            reason = f"{field_path(first['loc'])}: {first['msg']}"
            batch.skipped.append(
                SkippedClaim(claim_control_number=claim.claim_control_number, reason=reason)
            )
        except (InvalidInput, KeyError, ValueError) as error:
            batch.skipped.append(
                SkippedClaim(claim_control_number=claim.claim_control_number, reason=str(error))
            )
    return batch
