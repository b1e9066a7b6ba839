"""Encounter validation: each rule names the field that broke it, and the file reader refuses
what is not an encounter file in one line."""

import json
import pickle
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cli.encounters import read_json
from cob.codes import icd10_problem, normalize_icd10
from cob.validation import InvalidEncounter, InvalidInput, field_path, validate_encounter

TODAY = date(2024, 3, 20)
KNOWN_PAYERS = {"AETNA", "MEDICARE", "BCBS"}


def encounter() -> dict:
    """A valid encounter: one patient, two diagnoses, two lines, two coverages."""
    return {
        "encounter_id": "ENC-1001",
        "patient": {"first_name": "Kim", "last_name": "Doe", "birth_date": "2012-06-01"},
        "patient_address": "12 Oak Ln, Springfield, IL 62701",
        "service_date": "2024-03-15",
        "billing_provider": {
            "name": "Main St Clinic",
            "npi": "1234567893",
            "tax_id": "123456789",
            "address": "200 River St, Hartwell, CT 06101",
            "phone": "(860) 555-0142",
        },
        "diagnoses": ["E11.9", "i10"],
        "lines": [
            {
                "line_number": 1,
                "procedure_code": "99213",
                "charge": "150.00",
                "diagnosis_pointers": [1, 2],
            },
            {"line_number": 2, "procedure_code": "83036", "charge": 45, "diagnosis_pointers": [1]},
        ],
        "coverages": [
            {
                "payer_id": "AETNA",
                "member_id": "W123",
                "plan_type": "commercial",
                "relationship": "child",
                "subscriber": {"first_name": "Mia", "last_name": "Doe", "birth_date": "1980-03-10"},
                "effective_date": "2020-01-01",
            },
            {
                "payer_id": "BCBS",
                "member_id": "B9",
                "plan_type": "commercial",
                "effective_date": "2021-01-01",
            },
        ],
    }


def error_for(data: object) -> InvalidEncounter:
    with pytest.raises(InvalidEncounter) as raised:
        validate_encounter(data, KNOWN_PAYERS, TODAY)
    return raised.value


def test_valid_encounter_passes_with_diagnoses_in_x12_form():
    parsed = validate_encounter(encounter(), KNOWN_PAYERS, TODAY)
    assert parsed.diagnoses == ["E119", "I10"]
    assert parsed.total_charge == Decimal("195.00")
    assert [c.key for c in parsed.coverages] == ["AETNA:W123", "BCBS:B9"]


def test_service_date_in_the_future():
    data = encounter()
    data["service_date"] = "2024-03-21"
    error = error_for(data)
    assert error.field == "service_date"
    assert str(error) == "service_date: 2024-03-21 is in the future"


def test_unparseable_service_date():
    data = encounter()
    data["service_date"] = "2024-13-01"
    error = error_for(data)
    assert error.field == "service_date"
    assert "'2024-13-01' is not a valid date, expected YYYY-MM-DD" in error.message


def test_unparseable_effective_date():
    data = encounter()
    data["coverages"][1]["effective_date"] = "last spring"
    assert error_for(data).field == "coverages[1].effective_date"


def test_negative_charge():
    data = encounter()
    data["lines"][0]["charge"] = -5
    assert str(error_for(data)) == "lines[0].charge: must be greater than 0, got -5"


def test_zero_charge():
    data = encounter()
    data["lines"][1]["charge"] = "0.00"
    assert str(error_for(data)) == "lines[1].charge: must be greater than 0, got '0.00'"


def test_non_numeric_charge():
    data = encounter()
    data["lines"][0]["charge"] = "abc"
    assert str(error_for(data)) == "lines[0].charge: 'abc' is not a number"


def test_missing_member_id():
    data = encounter()
    del data["coverages"][0]["member_id"]
    assert str(error_for(data)) == "coverages[0].member_id: is required"


def test_blank_member_id():
    data = encounter()
    data["coverages"][1]["member_id"] = "   "
    assert str(error_for(data)) == "coverages[1].member_id: is blank"


def test_unknown_payer_id():
    data = encounter()
    data["coverages"][1]["payer_id"] = "XYZ"
    error = error_for(data)
    assert error.field == "coverages[1].payer_id"
    assert error.message == "unknown payer id 'XYZ'; known: AETNA, BCBS, MEDICARE"


def test_diagnosis_that_is_not_an_icd10_code():
    data = encounter()
    data["diagnoses"].append("XYZ123")
    assert str(error_for(data)) == "diagnoses[2]: 'XYZ123' is not an ICD-10-CM code"


def test_diagnosis_that_is_a_category_not_billable():
    data = encounter()
    data["diagnoses"][0] = "E11"
    error = error_for(data)
    assert error.field == "diagnoses[0]"
    assert "'E11' is a category, not a billable code (use a more specific code such as E11." in (
        error.message
    )


def test_diagnosis_pointer_outside_the_diagnosis_list():
    data = encounter()
    data["lines"][0]["diagnosis_pointers"] = [1, 3]  # only 2 diagnoses
    error = error_for(data)
    assert error.field == "lines[0].diagnosis_pointers[1]"
    assert "points to diagnosis 3" in error.message


def test_duplicate_line_number():
    data = encounter()
    data["lines"][1]["line_number"] = 1
    error = error_for(data)
    assert error.field == "lines[1].line_number"
    assert "also lines[0]" in error.message


def test_subscriber_required_when_relationship_is_not_self():
    data = encounter()
    data["coverages"][1]["relationship"] = "spouse"
    error = error_for(data)
    assert error.field == "coverages[1].subscriber"
    assert "spouse" in error.message


def test_termination_before_effective_date():
    data = encounter()
    data["coverages"][0]["termination_date"] = "2019-12-31"
    assert str(error_for(data)) == (
        "coverages[0].termination_date: 2019-12-31 is before the effective date 2020-01-01"
    )


def test_same_coverage_listed_twice():
    data = encounter()
    data["coverages"][1] = dict(data["coverages"][0])
    error = error_for(data)
    assert error.field == "coverages[1]"
    assert "already listed as coverages[0]" in error.message


def test_no_service_lines():
    data = encounter()
    data["lines"] = []
    assert str(error_for(data)) == "lines: must have at least 1 item(s), got 0"


@pytest.mark.parametrize("data", [[], "ENC-1", None, 42])
def test_data_that_is_not_a_json_object(data):
    assert error_for(data).field == "(root)"


def test_invalid_encounter_is_a_value_error_that_survives_pickling():
    error = InvalidEncounter("lines[0].charge", "must be greater than 0, got -5")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, copy.message, str(copy)) == (error.field, error.message, str(error))


def test_field_path_from_pydantic_loc():
    assert field_path(("lines", 0, "charge")) == "lines[0].charge"
    assert field_path(("lines", 0, "diagnosis_pointers", 2)) == "lines[0].diagnosis_pointers[2]"
    assert field_path(()) == "(root)"


def test_icd10_codes_with_or_without_dots():
    assert normalize_icd10(" e11.9 ") == "E119"
    assert icd10_problem("E119") is None
    assert icd10_problem("S72.001A") is None  # 7th character makes it billable
    assert icd10_problem("S72.001") is not None
    assert icd10_problem("E08-E13") == "'E08-E13' is not an ICD-10-CM code"  # a block


def test_a_dependent_needs_the_patient_address_for_the_837p_2010ca_loop():
    data = encounter()
    del data["patient_address"]
    error = error_for(data)
    assert error.field == "patient_address"
    assert "coverages[0] is the subscriber's child" in str(error)


def test_an_empty_patient_address_is_no_address_for_a_dependent():
    data = encounter()
    data["patient_address"] = "  "
    assert error_for(data).field == "patient_address"


def test_a_patient_address_must_read_street_city_state_zip():
    data = encounter()
    data["patient_address"] = "somewhere"
    assert error_for(data).field == "patient_address"


# --- what the wire can carry (cob.model): each element's characters and length ----------------


@pytest.mark.parametrize("delimiter", ["*", "~", ":", "^", "|", ">"])
def test_a_name_holding_an_x12_delimiter_is_refused(delimiter: str):
    data = encounter()
    data["patient"]["last_name"] = f"O{delimiter}Brien"
    assert str(error_for(data)) == (
        f"patient.last_name: 'O{delimiter}Brien' holds '{delimiter}', an X12 delimiter"
    )


@pytest.mark.parametrize(
    "name", ["Kim\U0001f600", "Ki\u202em", "Kím", "Ki\tm", "Ki\x00m", "Ki\u00a0m"]
)  # an emoji, a right-to-left override, an accent, a tab, NUL, a no-break space
def test_a_name_outside_the_x12_character_set_is_refused(name: str):
    data = encounter()
    data["patient"]["first_name"] = name
    error = error_for(data)
    assert error.field == "patient.first_name"
    assert error.message.endswith("which X12 cannot carry (printable ASCII only)")


def test_a_member_id_outside_ascii_is_refused_before_the_payer_answers_400():
    data = encounter()
    data["coverages"][1]["member_id"] = "B\u00e49"
    assert error_for(data).field == "coverages[1].member_id"


def test_the_x12_extended_characters_are_taken():
    data = encounter()
    data["patient"]["last_name"] = "O'Brien-Smith & Sons (Jr.) #2 [a] {b} @c $d %e _f `g` \\h"
    assert validate_encounter(data, KNOWN_PAYERS, TODAY).patient.last_name.startswith("O'Brien")


def test_surrounding_spaces_are_dropped_as_x12_drops_trailing_ones():
    data = encounter()
    data["patient"]["first_name"] = "  Kim "
    assert validate_encounter(data, KNOWN_PAYERS, TODAY).patient.first_name == "Kim"


@pytest.mark.parametrize(
    ("path", "limit", "element"),
    [
        (("patient", "last_name"), 60, "NM103"),
        (("patient", "first_name"), 35, "NM104"),
        (("coverages", 0, "subscriber", "last_name"), 60, "NM103"),
        (("billing_provider", "name"), 60, "NM103"),
        (("coverages", 0, "group_number"), 50, "SBR03"),
        (("coverages", 1, "payer_id"), 15, "GS03"),
    ],
)
def test_text_is_refused_one_character_past_its_element(path: tuple, limit: int, element: str):
    def with_length(n: int) -> dict:
        data = encounter()
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = "A" * n
        return data

    at_limit = with_length(limit)
    if path == ("coverages", 1, "payer_id"):
        at_limit["coverages"][1]["payer_id"] = "BCBS"  # 15 A's is no known payer
    validate_encounter(at_limit, KNOWN_PAYERS, TODAY)
    error = error_for(with_length(limit + 1))
    assert error.field == field_path(path)
    assert error.message == f"is {limit + 1} characters; {element} holds at most {limit}"


def test_a_10_mb_last_name_is_refused_by_length_not_sent_to_temporal():
    data = encounter()
    data["patient"]["last_name"] = "A" * 10_000_000
    assert (
        str(error_for(data)) == "patient.last_name: is 10000000 characters; NM103 holds at most 60"
    )


def test_a_member_id_must_fit_the_270_trace_beside_its_payer_id():
    # '<payer_id>-<member_id>-<CCYYMMDD>' in TRN02 (50): BCBS (4) leaves 36 for the member id
    data = encounter()
    data["coverages"][1]["member_id"] = "M" * 36
    validate_encounter(data, KNOWN_PAYERS, TODAY)
    data["coverages"][1]["member_id"] = "M" * 37
    assert str(error_for(data)) == (
        "coverages[1].member_id: is 37 characters; with payer id 'BCBS' the 270 trace (TRN02, "
        "at most 50) holds 36"
    )
    data["coverages"][1]["member_id"] = "M" * 81
    assert error_for(data).message == "is 81 characters; NM109 holds at most 80"


def test_a_one_character_member_id_is_refused_as_nm109_takes_two():
    data = encounter()
    data["coverages"][1]["member_id"] = "9"
    assert (
        str(error_for(data)) == "coverages[1].member_id: '9' is 1 character; NM109 holds at least 2"
    )


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("A" * 55 + ", Springfield, IL 62701", None),
        ("A" * 56 + ", Springfield, IL 62701", "the street is 56 characters; N301 holds at most 55"),
        ("12 Oak Ln, " + "C" * 30 + ", IL 62701-1234", None),
        ("12 Oak Ln, " + "C" * 31 + ", IL 62701", "the city is 31 characters; N401 holds at most 30"),
        ("12 Oak Ln*, Springfield, IL 62701", "'12 Oak Ln*, Springfield, IL 62701' holds '*', an X12 delimiter"),
        ("12 Oak Ln, Springfield, IL \u0666\u0662\u0667\u0660\u0661", "'12 Oak Ln, Springfield, IL \u0666\u0662\u0667\u0660\u0661' holds '\u0666', which X12 cannot carry (printable ASCII only)"),
    ],
)  # fmt: skip
def test_an_address_fits_n3_and_n4(address: str, message: str | None):
    data = encounter()
    data["patient_address"] = address
    if message is None:
        validate_encounter(data, KNOWN_PAYERS, TODAY)
    else:
        assert str(error_for(data)) == f"patient_address: {message}"


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("860-555-0142", None),
        ("8605550142", None),
        ("555-0142", "'555-0142' has 7 digits; PER04 is 10 (AAABBBCCCC)"),
        ("+1 860 555 0142", "'+1 860 555 0142' is not a telephone number like (860) 555-0142"),
        ("860-555-0142 x12", "'860-555-0142 x12' is not a telephone number like (860) 555-0142"),
    ],
)
def test_a_billing_provider_phone_is_the_ten_digits_per04_takes(phone: str, message: str | None):
    data = encounter()
    data["billing_provider"]["phone"] = phone
    if message is None:
        validate_encounter(data, KNOWN_PAYERS, TODAY)
    else:
        assert str(error_for(data)) == f"billing_provider.phone: {message}"


@pytest.mark.parametrize(("field", "loop"), [("address", "2010AA N3/N4"), ("phone", "1000A PER")])
def test_a_billing_provider_without_address_or_phone_cannot_bill(field: str, loop: str):
    data = encounter()
    del data["billing_provider"][field]
    assert str(error_for(data)) == (
        f"billing_provider.{field}: is required to bill a payer (837P {loop})"
    )
    data["coverages"] = []  # self-pay: no claim is written
    del data["patient_address"]
    validate_encounter(data, KNOWN_PAYERS, TODAY)


def test_an_npi_of_arabic_indic_digits_is_refused():
    data = encounter()
    data["billing_provider"]["npi"] = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660"
    assert error_for(data).field == "billing_provider.npi"


@pytest.mark.parametrize(
    ("modifiers", "ok"), [(["25", "59"], True), (["2*"], False), (["25a"], False)]
)
def test_a_modifier_is_two_letters_or_digits(modifiers: list[str], ok: bool):
    data = encounter()
    data["lines"][0]["modifiers"] = modifiers
    if ok:
        validate_encounter(data, KNOWN_PAYERS, TODAY)
    else:
        assert error_for(data).field == "lines[0].modifiers[0]"


# --- dates: 'YYYY-MM-DD' only, within sane years ----------------------------------------------


@pytest.mark.parametrize(
    "value", [0, 1710460800, 20240315, "20240315", "2024-03-15T00:00:00", "2024-3-15", True, 2024.0]
)
def test_a_date_is_yyyy_mm_dd_text_never_a_number_or_timestamp(value: object):
    data = encounter()
    data["service_date"] = value
    error = error_for(data)
    assert error.field == "service_date"
    assert error.message.endswith("is not a date, expected YYYY-MM-DD")


def test_a_birth_date_before_1900_is_refused_and_1900_01_01_taken():
    data = encounter()
    data["coverages"][0]["subscriber"]["birth_date"] = "1900-01-01"
    validate_encounter(data, KNOWN_PAYERS, TODAY)
    data["patient"]["birth_date"] = "0001-01-01"
    assert str(error_for(data)) == "patient.birth_date: 0001-01-01 is before 1900-01-01"


def test_a_birth_date_in_the_future_is_refused():
    data = encounter()
    data["coverages"][0]["subscriber"]["birth_date"] = "2024-03-21"  # TODAY is 2024-03-20
    assert str(error_for(data)) == "coverages[0].subscriber.birth_date: 2024-03-21 is in the future"


def test_a_service_date_before_the_patients_birth_is_refused():
    data = encounter()
    data["patient"]["birth_date"] = "2024-03-16"  # served 2024-03-15
    assert str(error_for(data)) == (
        "service_date: 2024-03-15 is before the patient's birth date 2024-03-16"
    )


def test_a_service_date_more_than_10_years_back_is_refused():
    data = encounter()
    data["service_date"] = "2014-03-20"  # TODAY 2024-03-20: 10 years to the day is taken
    validate_encounter(data, KNOWN_PAYERS, TODAY)
    data["service_date"] = "2014-03-19"
    assert str(error_for(data)) == "service_date: 2014-03-19 is more than 10 years ago"


def test_a_prior_coverage_period_must_not_end_before_it_starts():
    data = encounter()
    data["coverages"][1]["prior_periods"] = [{"start": "2019-01-01", "end": "2018-12-31"}]
    assert str(error_for(data)) == (
        "coverages[1].prior_periods[0].end: 2018-12-31 is before the start 2019-01-01"
    )


# --- lines, counts and money -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers", "field", "message"),
    [
        ([1, 3], "lines[1].line_number", "is 3; service lines are numbered 1, 2, 3... in order, so this one is 2"),
        ([2, 1], "lines[0].line_number", "is 2; service lines are numbered 1, 2, 3... in order, so this one is 1"),
        ([0, 1], "lines[0].line_number", "must be at least 1, got 0"),
        (["1", 2], "lines[0].line_number", "'1' is not a whole number"),
        ([1.0, 2], "lines[0].line_number", "1.0 is not a whole number"),
    ],
)  # fmt: skip
def test_line_numbers_run_1_to_n_in_order(numbers: list, field: str, message: str):
    data = encounter()
    for line, number in zip(data["lines"], numbers, strict=True):
        line["line_number"] = number
    assert str(error_for(data)) == f"{field}: {message}"


def line(n: int) -> dict:
    return {"line_number": n, "procedure_code": "99213", "charge": "10.00"}


def test_at_most_50_service_lines_as_the_2400_loop_repeats():
    data = encounter()
    data["lines"] = [line(n) for n in range(1, 51)]
    validate_encounter(data, KNOWN_PAYERS, TODAY)
    data["lines"].append(line(51))
    assert str(error_for(data)) == "lines: must have at most 50 item(s), got 51"


def test_at_most_12_diagnoses_as_hi_carries():
    data = encounter()
    data["diagnoses"] = ["E11.9"] * 13
    assert str(error_for(data)) == "diagnoses: must have at most 12 item(s), got 13"


def test_at_most_4_diagnosis_pointers_on_a_line():
    data = encounter()
    data["lines"][0]["diagnosis_pointers"] = [1, 2, 1, 2, 1]
    assert str(error_for(data)) == "lines[0].diagnosis_pointers: must have at most 4 item(s), got 5"


def test_at_most_11_coverages_as_the_2320_loop_repeats_10_times():
    data = encounter()
    data["coverages"] = [
        {"payer_id": "BCBS", "member_id": f"B{n:02d}", "plan_type": "commercial",
         "effective_date": "2021-01-01"} for n in range(12)
    ]  # fmt: skip
    assert str(error_for(data)) == "coverages: must have at most 11 item(s), got 12"


@pytest.mark.parametrize(
    ("charge", "message"),
    [
        ("99999999.99", None),
        ("100000000.00", "100000000.00 is not less than 100000000.00, the most a line takes"),
        ("150.001", "'150.001' has more than 2 decimal places"),
        ("NaN", "'NaN' is not a finite number"),
        ("Infinity", "'Infinity' is not a finite number"),
        (True, "True is not a number"),
    ],
)
def test_a_charge_is_positive_cents_below_100_million(charge: object, message: str | None):
    data = encounter()
    data["lines"][0]["charge"] = charge
    if message is None:
        assert validate_encounter(data, KNOWN_PAYERS, TODAY).lines[0].charge == Decimal(charge)
    else:
        assert str(error_for(data)) == f"lines[0].charge: {message}"


@pytest.mark.parametrize(("units", "ok"), [(99_999, True), (100_000, False), (True, False)])
def test_units_are_a_whole_number_sv104_can_carry(units: object, ok: bool):
    data = encounter()
    data["lines"][0]["units"] = units
    if ok:
        validate_encounter(data, KNOWN_PAYERS, TODAY)
    else:
        assert error_for(data).field == "lines[0].units"


def test_a_message_quoting_a_long_value_stays_short():
    data = encounter()
    data["lines"][0]["procedure_code"] = "9" * 10_000
    assert len(str(error_for(data))) < 150


# --- the file itself: anything unreadable is one InvalidInput line -----------------------------


def file_error(tmp_path: Path, content: bytes) -> InvalidInput:
    path = tmp_path / "encounter.json"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as raised:
        read_json(path)
    assert raised.value.field == "(file)"
    return raised.value


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"encounter_id": "\xe9"}', "is not UTF-8 text: byte 18 is 0xe9"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "is not UTF-8 text: byte 0 is 0x89"),
        (b'{"charge": NaN}', "is not valid JSON: NaN is not a number JSON allows"),
        (b'{"charge": -Infinity}', "is not valid JSON: -Infinity is not a number JSON allows"),
        (b'{"a": 1, "a": 2}', "is not valid JSON: the key 'a' is given twice in one object"),
        (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON: it nests too deeply"),
        (b'{"units": ' + b"9" * 5000 + b"}", "is not valid JSON: a number of 5000 digits"),
        (b'{"encounter_id": ', "is not valid JSON: Expecting value at line 1"),
        (b" " * 1_000_001, "is over 1,000,000 bytes: not an encounter"),
    ],
)
def test_a_file_that_is_not_an_encounter_is_refused_in_one_line(
    tmp_path: Path, content: bytes, message: str
):
    error = file_error(tmp_path, content)
    assert error.message == f"{tmp_path / 'encounter.json'} {message}"


def test_a_missing_file_or_a_directory_is_refused_naming_it(tmp_path: Path):
    for path, message in [(tmp_path / "none.json", "does not exist"),
                          (tmp_path, "is a directory, not a file")]:  # fmt: skip
        with pytest.raises(InvalidInput) as raised:
            read_json(path)
        assert str(raised.value) == f"(file): {path} {message}"


def test_amounts_are_read_as_typed_never_through_float(tmp_path: Path):
    path = tmp_path / "encounter.json"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"charge": 150.10, "units": 2}')  # a BOM, as Notepad saves
    assert read_json(path) == {"charge": Decimal("150.10"), "units": 2}
    path.write_text('{"charge": 150.1000000000000001}')  # as a float it would be 150.1
    data = encounter()
    data["lines"][0]["charge"] = read_json(path)["charge"]
    assert error_for(data).message == "150.1000000000000001 has more than 12 digits"


def test_cob_submit_answers_a_bad_file_in_one_line_without_a_traceback(tmp_path: Path):
    from tests.cli.test_cli import GOOD, cob

    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(bytes(range(256)))
    markup = tmp_path / "markup.json"
    markup.write_text(json.dumps({**GOOD, "patient": {**GOOD["patient"], "last_name": "[/red]*"}}))
    for path, line in [
        (garbage, f"invalid encounter {garbage}: (file): {garbage} is not UTF-8 text: byte 128 is 0x80"),
        (markup, f"invalid encounter {markup}: patient.last_name: '[/red]*' holds '*', an X12 delimiter"),
        (tmp_path, f"invalid encounter {tmp_path}: (file): {tmp_path} is a directory, not a file"),
    ]:  # fmt: skip
        result = cob("submit", str(path))
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert " ".join(result.stderr.split()) == line
