"""837P batches for tests: example encounters written as the claims of one interchange."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from cob.model import ClaimSubmission, Encounter
from payers.x12.claim_837p import build_837p
from payers.x12.segments import build_interchange, parse_interchange

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WHEN = datetime(2026, 11, 1, 9, 0)


def example_encounter(name: str, **changes) -> Encounter:
    data = json.loads((EXAMPLES / f"{name}.json").read_text())
    data.update(changes)
    return Encounter.model_validate(data)


def batch_837(*encounters: Encounter) -> str:
    transactions = []
    for encounter in encounters:
        submission = ClaimSubmission(
            claim_control_number=encounter.encounter_id, payer_sequence=1,
            encounter=encounter, coverage=encounter.coverages[0],
        )  # fmt: skip
        transaction = parse_interchange(build_837p(submission, WHEN, 1)).transactions[0]
        transactions.append(("837", transaction.body))
    return build_interchange("HC", "005010X222A1", transactions, "PMSYSTEM", "COBENGINE", 7, WHEN)
