"""Encounter input validation: the pydantic shapes first, then the consistency rules.

Every failure raises InvalidEncounter naming the field path (`lines[0].charge`,
`coverages[1].payer_id`, `diagnoses[2]`) and the bad value, so the user can fix the input.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cob.codes import icd10_problem, normalize_icd10
from cob.model import Coverage, Encounter, Relationship, ServiceLine


class InvalidInput(ValueError):
    """str() is "<field>: <message>", e.g. "lines[0].charge: must be greater than 0, got -5"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:  # keep both arguments when pickled
        return (type(self), (self.field, self.message))


class InvalidEncounter(InvalidInput):
    pass


M = TypeVar("M", bound=BaseModel)


def parse_input(model: type[M], data: object) -> M:
    """Any input shape from JSON, with the first problem reported by its field path."""
    if not isinstance(data, dict):
        raise InvalidInput("(root)", f"expected a JSON object, got {_shown(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        raise InvalidInput(field_path(first["loc"]), plain_message(first)) from None


def validate_encounter(data: object, known_payers: Collection[str], today: date) -> Encounter:
    """Parse `data` (decoded JSON) into an Encounter, or raise InvalidEncounter.

    Diagnoses come back in X12 form (upper case, no dot: E11.9 -> E119).
    """
    if not isinstance(data, dict):
        raise InvalidEncounter("(root)", f"expected a JSON object, got {_shown(data)}")
    try:
        encounter = Encounter.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        raise InvalidEncounter(field_path(first["loc"]), plain_message(first)) from None
    if encounter.service_date > today:
        raise InvalidEncounter("service_date", f"{encounter.service_date} is in the future")
    for i, code in enumerate(encounter.diagnoses):
        if problem := icd10_problem(code):
            raise InvalidEncounter(f"diagnoses[{i}]", problem)
    _check_lines(encounter.lines, len(encounter.diagnoses))
    _check_coverages(encounter.coverages, known_payers, encounter.patient_address)
    encounter.diagnoses = [normalize_icd10(code) for code in encounter.diagnoses]
    return encounter


def _check_lines(lines: list[ServiceLine], diagnosis_count: int) -> None:
    first_index: dict[int, int] = {}
    for i, line in enumerate(lines):
        if line.line_number in first_index:
            raise InvalidEncounter(
                f"lines[{i}].line_number",
                f"line number {line.line_number} is used twice (also lines[{first_index[line.line_number]}])",
            )
        first_index[line.line_number] = i
        for j, pointer in enumerate(line.diagnosis_pointers):
            if not 1 <= pointer <= diagnosis_count:
                raise InvalidEncounter(
                    f"lines[{i}].diagnosis_pointers[{j}]",
                    f"points to diagnosis {pointer}, but the encounter lists {diagnosis_count} "
                    f"(pointers count from 1)",
                )


def _check_coverages(
    coverages: list[Coverage], known_payers: Collection[str], patient_address: str | None
) -> None:
    first_index: dict[str, int] = {}
    for i, coverage in enumerate(coverages):
        where = f"coverages[{i}]"
        if not coverage.member_id.strip():
            raise InvalidEncounter(f"{where}.member_id", "is blank")
        if coverage.payer_id not in known_payers:
            known = ", ".join(sorted(known_payers)) or "(none)"
            raise InvalidEncounter(
                f"{where}.payer_id", f"unknown payer id {coverage.payer_id!r}; known: {known}"
            )
        if coverage.relationship is not Relationship.SELF and coverage.subscriber is None:
            raise InvalidEncounter(
                f"{where}.subscriber",
                f"is required when the patient is the subscriber's {coverage.relationship}",
            )
        if coverage.relationship is not Relationship.SELF and patient_address is None:
            raise InvalidEncounter(
                "patient_address",
                f"is required when the patient is not the subscriber ({where} is the "
                f"subscriber's {coverage.relationship}): the 837P 2010CA loop carries it",
            )
        if coverage.termination_date and coverage.termination_date < coverage.effective_date:
            raise InvalidEncounter(
                f"{where}.termination_date",
                f"{coverage.termination_date} is before the effective date {coverage.effective_date}",
            )
        if coverage.key in first_index:
            raise InvalidEncounter(
                where,
                f"payer {coverage.payer_id!r} member {coverage.member_id!r} is already listed "
                f"as coverages[{first_index[coverage.key]}]",
            )
        first_index[coverage.key] = i


def field_path(loc: tuple[int | str, ...]) -> str:
    """('lines', 0, 'charge') -> 'lines[0].charge'; () -> '(root)'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(root)"


# pydantic error type -> plain words; {value} is the bad input, the rest comes from ctx.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field (got {value})",
    "date_from_datetime_parsing": "{value} is not a valid date, expected YYYY-MM-DD ({error})",
    "date_from_datetime_inexact": "{value} is not a date, expected YYYY-MM-DD",
    "date_parsing": "{value} is not a valid date, expected YYYY-MM-DD",
    "date_type": "{value} is not a date, expected YYYY-MM-DD",
    "decimal_parsing": "{value} is not a number",
    "decimal_type": "{value} is not a number",
    "finite_number": "{value} is not a finite number",
    "decimal_max_places": "{value} has more than {decimal_places} decimal places",
    "decimal_max_digits": "{value} has more than {max_digits} digits",
    "greater_than": "must be greater than {gt}, got {value}",
    "greater_than_equal": "must be at least {ge}, got {value}",
    "int_parsing": "{value} is not a whole number",
    "int_type": "{value} is not a whole number",
    "int_from_float": "{value} is not a whole number",
    "string_type": "{value} is not text",
    "string_too_short": "must not be empty",
    "string_pattern_mismatch": "{value} does not match the pattern {pattern}",
    "too_short": "must have at least {min_length} item(s), got {actual_length}",
    "too_long": "must have at most {max_length} item(s), got {actual_length}",
    "list_type": "{value} is not a list",
    "model_type": "{value} is not a JSON object",
    "enum": "{value} is not one of {expected}",
    "literal_error": "{value} is not one of {expected}",
}


def plain_message(error: Any) -> str:
    """One pydantic error dict in plain words, with the bad value."""
    template = _MESSAGES.get(error["type"], "{msg} (got {value})")
    fields = {**error.get("ctx", {}), "msg": error["msg"], "value": _shown(error.get("input"))}
    try:
        return template.format(**fields)
    except KeyError:  # a ctx key this pydantic version does not send
        return f"{error['msg']} (got {fields['value']})"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
