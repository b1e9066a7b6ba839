"""Encounters for the fault suite, made from examples/*.json: each with its own id, charges
scaled, the service date moved back a few days, and (after the first one of an example) its
own members, so no two encounters share a payer's deductible accumulator and an outcome
never depends on which claim reached the payer first. Only encounters that close without a
person: the denied-then-corrected example is taken with its correction already applied.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from cli.demo import example_files as demo_examples
from cob.model import Encounter
from cob.validation import validate_encounter
from payers.directory import known_payer_ids
from payers.simulator.plans import load_profiles

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHARGE_FACTORS = ("0.80", "0.90", "1.00", "1.00", "1.15", "1.30", "1.60")
MAX_DAYS_EARLIER = 20


def example_files() -> list[Path]:
    """The examples that close without a person's choice: an order review (an example with
    an `.order.json`) waits for one, so it is left out; a correction is applied up front."""
    return [
        path
        for path in demo_examples(EXAMPLES)
        if not path.with_name(path.stem + ".order.json").exists()
    ]


def closing_by_itself(path: Path) -> dict:
    """The example's encounter; where a team would correct it, with the correction in."""
    data = json.loads(path.read_text())
    correction = path.with_name(path.stem + ".correction.json")
    if correction.exists():
        fixed = json.loads(correction.read_text())
        data.update({k: v for k, v in fixed.items() if k in Encounter.model_fields})
    return data


def fresh_member_id(rng: random.Random, example_id: str, payer_id: str, taken: set[str]) -> str:
    """Another member of the same payer: the example's id with its digits redrawn (1-9, so
    a leading digit stays valid), checked against the payer's member id pattern."""
    profile = load_profiles()[payer_id]
    for _ in range(1000):
        candidate = "".join(rng.choice("123456789") if c.isdigit() else c for c in example_id)
        if candidate not in taken and profile.is_member_id(candidate):
            taken.add(candidate)
            return candidate
    raise ValueError(f"no fresh member id like {example_id} for {payer_id}")


def varied(data: dict, number: int, rng: random.Random, taken: set[str]) -> dict:
    stem = data["encounter_id"]
    data = json.loads(json.dumps(data))  # a deep copy
    data["encounter_id"] = f"{stem}-F{number:04d}"
    factor = Decimal(rng.choice(CHARGE_FACTORS))
    for line in data["lines"]:
        line["charge"] = str((Decimal(line["charge"]) * factor).quantize(Decimal("0.01")))
    service = date.fromisoformat(data["service_date"])
    data["service_date"] = (service - timedelta(days=rng.randint(0, MAX_DAYS_EARLIER))).isoformat()
    for coverage in data["coverages"]:
        member = coverage["member_id"]
        if member in taken:  # the example's own member is used once per run
            coverage["member_id"] = fresh_member_id(rng, member, coverage["payer_id"], taken)
        else:
            taken.add(member)
    return data


def fault_suite_encounters(count: int, seed: int, today: date | None = None) -> list[Encounter]:
    """`count` encounters, the examples in turn, the same for the same seed; each checked
    as `cob submit` checks it."""
    rng = random.Random(seed)
    bases = [closing_by_itself(path) for path in example_files()]
    taken: set[str] = set()
    payers = known_payer_ids()
    return [
        validate_encounter(
            varied(bases[n % len(bases)], n + 1, rng, taken), payers, today or date.today()
        )
        for n in range(count)
    ]
