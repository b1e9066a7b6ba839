"""Encounter input validation: the pydantic shapes first (cob.model: what each X12 element
can carry), then the rules across fields and against today's date.

Every failure raises InvalidEncounter naming the field path (`lines[0].charge`,
`coverages[1].payer_id`, `diagnoses[2]`) and the rule broken, with the bad value where it is
short enough to show, so the user can fix the input. An encounter that passes can be written
as its 270s and 837Ps.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cob.codes import icd10_problem, normalize_icd10
from cob.model import Coverage, Encounter, Person, Relationship, ServiceLine, shown

# A service date further back is a typo: no payer's timely filing reaches it (Medicare's is
# 12 months, 42 CFR 424.44(a)(1)).
MAX_SERVICE_AGE_YEARS = 10
# The 270's trace number (TRN02, at most 50 characters, 005010X279A1 2000C/2000D) is written
# '<payer_id>-<member_id>-<CCYYMMDD>' by payers/client.py: the two ids share 40 of them.
TRACE_IDS_LENGTH = 50 - len("--CCYYMMDD")
# The largest charge taken on a line: more is a typo (SV102 and CLM02 are R elements of up to
# 18 digits, so 50 lines of it still fit CLM02).
MAX_CHARGE = Decimal("100000000.00")


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
        raise InvalidInput("(root)", f"expected a JSON object, got {shown(data)}")
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
        raise InvalidEncounter("(root)", f"expected a JSON object, got {shown(data)}")
    try:
        encounter = Encounter.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        raise InvalidEncounter(field_path(first["loc"]), plain_message(first)) from None
    _check_dates(encounter, today)
    for i, code in enumerate(encounter.diagnoses):
        if problem := icd10_problem(code):
            raise InvalidEncounter(f"diagnoses[{i}]", problem)
    _check_lines(encounter.lines, len(encounter.diagnoses))
    if encounter.coverages:
        _check_billing_provider(encounter)
    _check_coverages(encounter.coverages, known_payers, encounter.patient_address, today)
    encounter.diagnoses = [normalize_icd10(code) for code in encounter.diagnoses]
    return encounter


def _check_dates(encounter: Encounter, today: date) -> None:
    service, born = encounter.service_date, encounter.patient.birth_date
    _check_birth_date(encounter.patient, "patient", today)
    if service > today:
        raise InvalidEncounter("service_date", f"{service} is in the future")
    if service < born:
        raise InvalidEncounter(
            "service_date", f"{service} is before the patient's birth date {born}"
        )
    if service < _years_before(today, MAX_SERVICE_AGE_YEARS):
        raise InvalidEncounter(
            "service_date", f"{service} is more than {MAX_SERVICE_AGE_YEARS} years ago"
        )


def _check_birth_date(person: Person, where: str, today: date) -> None:
    if person.birth_date > today:
        raise InvalidEncounter(f"{where}.birth_date", f"{person.birth_date} is in the future")


def _years_before(day: date, years: int) -> date:
    return day.replace(
        year=day.year - years, day=28 if (day.month, day.day) == (2, 29) else day.day
    )


def _check_billing_provider(encounter: Encounter) -> None:
    """What every 837P needs from the billing provider (005010X222A1): an address (2010AA N3/N4)
    and a telephone number (1000A PER)."""
    provider = encounter.billing_provider
    for field, value, loop in (("address", provider.address, "2010AA N3/N4"),
                               ("phone", provider.phone, "1000A PER")):  # fmt: skip
        if not value:
            raise InvalidEncounter(
                f"billing_provider.{field}", f"is required to bill a payer (837P {loop})"
            )


def _check_lines(lines: list[ServiceLine], diagnosis_count: int) -> None:
    first_index: dict[int, int] = {}
    for i, line in enumerate(lines):
        if line.charge >= MAX_CHARGE:
            raise InvalidEncounter(
                f"lines[{i}].charge",
                f"{line.charge} is not less than {MAX_CHARGE}, the most a line takes",
            )
        if line.line_number in first_index:
            raise InvalidEncounter(
                f"lines[{i}].line_number",
                f"line number {line.line_number} is used twice (also lines[{first_index[line.line_number]}])",
            )
        first_index[line.line_number] = i
        # LX01 numbers the service lines 1, 2, 3... (005010X222A1 2400), and a payer's 835
        # answers each by that number: a gap or another order would pay the wrong line.
        if line.line_number != i + 1:
            raise InvalidEncounter(
                f"lines[{i}].line_number",
                f"is {line.line_number}; service lines are numbered 1, 2, 3... in order, so "
                f"this one is {i + 1}",
            )
        for j, pointer in enumerate(line.diagnosis_pointers):
            if not 1 <= pointer <= diagnosis_count:
                raise InvalidEncounter(
                    f"lines[{i}].diagnosis_pointers[{j}]",
                    f"points to diagnosis {pointer}, but the encounter lists {diagnosis_count} "
                    f"(pointers count from 1)",
                )


def _check_coverages(
    coverages: list[Coverage],
    known_payers: Collection[str],
    patient_address: str | None,
    today: date,
) -> None:
    first_index: dict[str, int] = {}
    for i, coverage in enumerate(coverages):
        where = f"coverages[{i}]"
        for field, value, element in (("payer_id", coverage.payer_id, "GS03"),
                                      ("member_id", coverage.member_id, "NM109")):  # fmt: skip
            if len(value) < 2:
                raise InvalidEncounter(f"{where}.{field}", f"{value!r} is 1 character; {element} "
                                       "holds at least 2")  # fmt: skip
        if coverage.payer_id not in known_payers:
            known = ", ".join(sorted(known_payers)) or "(none)"
            raise InvalidEncounter(
                f"{where}.payer_id", f"unknown payer id {coverage.payer_id!r}; known: {known}"
            )
        ids = len(coverage.payer_id) + len(coverage.member_id)
        if ids > TRACE_IDS_LENGTH:
            raise InvalidEncounter(
                f"{where}.member_id",
                f"is {len(coverage.member_id)} characters; with payer id {coverage.payer_id!r} "
                f"the 270 trace (TRN02, at most 50) holds "
                f"{TRACE_IDS_LENGTH - len(coverage.payer_id)}",
            )
        if coverage.subscriber is not None:
            _check_birth_date(coverage.subscriber, f"{where}.subscriber", today)
        if coverage.relationship is not Relationship.SELF and coverage.subscriber is None:
            raise InvalidEncounter(
                f"{where}.subscriber",
                f"is required when the patient is the subscriber's {coverage.relationship}",
            )
        if coverage.relationship is not Relationship.SELF and not patient_address:
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
        for j, period in enumerate(coverage.prior_periods):
            if period.end < period.start:
                raise InvalidEncounter(
                    f"{where}.prior_periods[{j}].end",
                    f"{period.end} is before the start {period.start}",
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
    "less_than": "must be less than {lt}, got {value}",
    "less_than_equal": "must be at most {le}, got {value}",
    "int_parsing": "{value} is not a whole number",
    "int_type": "{value} is not a whole number",
    "int_from_float": "{value} is not a whole number",
    "string_type": "{value} is not text",
    "string_too_short": "must not be empty",
    "string_too_long": "is longer than {max_length} characters",
    "string_pattern_mismatch": "{value} does not match the pattern {pattern}",
    "too_short": "must have at least {min_length} item(s), got {actual_length}",
    "too_long": "must have at most {max_length} item(s), got {actual_length}",
    "list_type": "{value} is not a list",
    "model_type": "{value} is not a JSON object",
    "enum": "{value} is not one of {expected}",
    "literal_error": "{value} is not one of {expected}",
    "value_error": "{error}",  # a cob.model rule, in its own words
}


def plain_message(error: Any) -> str:
    """One pydantic error dict in plain words, with the bad value."""
    template = _MESSAGES.get(error["type"], "{msg} (got {value})")
    fields = {**error.get("ctx", {}), "msg": error["msg"], "value": shown(error.get("input"))}
    try:
        return template.format(**fields)
    except KeyError:  # a ctx key this pydantic version does not send
        return f"{error['msg']} (got {fields['value']})"
