"""Who the patient's share is billed to: the guarantor, one patient account per guarantor.

The guarantor is the person financially responsible for the patient's bill: the patient, or
for a minor a parent or guardian (industry practice: the responsible party on the patient's
registration). An encounter may name one; else the engine takes the patient, or for a minor
the subscriber of the first coverage the patient holds as a child (the parent who insures
them), and the patient when there is none.
"""

from __future__ import annotations

from datetime import date

from cob.model import Encounter, Person, Relationship
from cob.msp import age_on

AGE_OF_MAJORITY = 18  # the age of majority in most states (a state's own law may differ)


def guarantor(encounter: Encounter) -> Person:
    """The person the encounter's patient balance is billed to."""
    if encounter.guarantor is not None:
        return encounter.guarantor
    if is_minor(encounter.patient, encounter.service_date):
        for coverage in encounter.coverages:
            if coverage.relationship is Relationship.CHILD and coverage.subscriber is not None:
                return coverage.subscriber
    return encounter.patient


def is_minor(person: Person, on: date) -> bool:
    return age_on(person.birth_date, on) < AGE_OF_MAJORITY


def guarantor_key(person: Person) -> str:
    """The same person, however their name was typed: last|first|birth date, case and spaces
    folded. The ledger finds a guarantor's account by it (it is patient data: the ledger's
    alone, never an id, a log line or a search attribute)."""

    def folded(text: str) -> str:
        return " ".join(text.split()).casefold()

    return f"{folded(person.last_name)}|{folded(person.first_name)}|{person.birth_date.isoformat()}"
