"""Encounter validation: each rule names the field that broke it."""

import pickle
from datetime import date
from decimal import Decimal

import pytest

from cob.codes import icd10_problem, normalize_icd10
from cob.validation import InvalidEncounter, field_path, validate_encounter

TODAY = date(2024, 3, 20)
KNOWN_PAYERS = {"AETNA", "MEDICARE", "BCBS"}


def encounter() -> dict:
    """A valid encounter: one patient, two diagnoses, two lines, two coverages."""
    return {
        "encounter_id": "ENC-1001",
        "patient": {"first_name": "Kim", "last_name": "Doe", "birth_date": "2012-06-01"},
        "patient_address": "12 Oak Ln, Springfield, IL 62701",
        "service_date": "2024-03-15",
        "billing_provider": {"name": "Main St Clinic", "npi": "1234567893", "tax_id": "123456789"},
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


def test_a_patient_address_must_read_street_city_state_zip():
    data = encounter()
    data["patient_address"] = "somewhere"
    assert error_for(data).field == "patient_address"
