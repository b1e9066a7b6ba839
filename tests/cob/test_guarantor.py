"""Who a patient balance is billed to (cob.guarantor)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from cob.guarantor import guarantor, guarantor_key, is_minor
from cob.model import Encounter, Person

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str, **changes: object) -> Encounter:
    data = json.loads((EXAMPLES / f"{name}.json").read_text())
    return Encounter.model_validate({**data, **changes})


def test_an_adult_patient_is_their_own_guarantor() -> None:
    encounter = example("01-commercial")
    assert guarantor(encounter) == encounter.patient


def test_a_minor_is_billed_to_the_parent_whose_plan_covers_them() -> None:
    encounter = example("02-child-birthday-rule")  # Noah, 10, on his parents' two plans
    assert is_minor(encounter.patient, encounter.service_date)
    assert guarantor(encounter) == encounter.coverages[0].subscriber


def test_a_named_guarantor_wins_and_a_self_pay_minor_falls_back_to_the_patient() -> None:
    grandma = Person(first_name="Ruth", last_name="Park", birth_date=date(1950, 3, 1))
    assert guarantor(example("02-child-birthday-rule", guarantor=grandma.model_dump())) == grandma
    uninsured = example("02-child-birthday-rule", coverages=[])
    assert guarantor(uninsured) == uninsured.patient


def test_the_key_folds_case_and_spaces_but_not_the_birth_date() -> None:
    a = Person(first_name="Mary  Ann", last_name="O'Neil", birth_date=date(1970, 1, 2))
    b = Person(first_name="mary ann", last_name="O'NEIL ", birth_date=date(1970, 1, 2))
    c = Person(first_name="Mary Ann", last_name="O'Neil", birth_date=date(1970, 1, 3))
    assert guarantor_key(a) == guarantor_key(b) != guarantor_key(c)
