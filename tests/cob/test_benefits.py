"""A plan's normal benefit, and the secondary-payment case and answer as JSON
(see docs/secondary-payment.md).

The methods' numbers are in tests/cob/test_secondary_*.py."""

import json
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cob.benefits import (
    METHODS,
    PlanBenefit,
    SecondaryPayment,
    SecondaryPaymentCase,
    plan_benefit,
    secondary_payment,
)
from cob.model import CobMethod

# worked example MSP-1 (42 CFR 411.33(b)) as a user would write it for `cob explain payment`
MSP_1_JSON = """{
  "method": "medicare_secondary",
  "part": "B",
  "charge": "175.00",
  "prior_payers": [
    {"payer_id": "ACME01", "allowed": "150.00", "paid": "120.00",
     "adjustments": [{"group": "CO", "reason": "45", "amount": "25.00"},
                     {"group": "PR", "reason": "2", "amount": "30.00"}]}
  ],
  "own_allowed": "125.00",
  "own_deductible_remaining": "0.00",
  "medicare_pct": "0.80"
}"""

# --- plan_benefit ---------------------------------------------------------------------------


def test_plan_benefit_deductible_takes_everything_first():
    assert plan_benefit(D("128.80"), D("500.00"), D("0.20"), D("25.00")) == PlanBenefit(
        deductible=D("128.80"), copay=D("0.00"), coinsurance=D("0.00"), paid=D("0.00")
    )


def test_plan_benefit_copay_then_coinsurance_on_the_rest():
    # 150 allowed, deductible met: copay 25, coinsurance 20% of 125 = 25, plan pays 100
    assert plan_benefit(D("150.00"), D("0.00"), D("0.20"), D("25.00")) == PlanBenefit(
        deductible=D("0.00"), copay=D("25.00"), coinsurance=D("25.00"), paid=D("100.00")
    )


def test_plan_benefit_partial_deductible():
    benefit = plan_benefit(D("300.00"), D("100.00"), D("0.20"), D("0.00"))
    assert (benefit.deductible, benefit.coinsurance, benefit.paid) == (
        D("100.00"),
        D("40.00"),
        D("160.00"),
    )


def test_plan_benefit_coinsurance_rounds_half_up():
    # 10% of 100.05 = 10.005 -> 10.01 (half-up at the last step; industry practice)
    benefit = plan_benefit(D("100.05"), D("0.00"), D("0.10"), D("0.00"))
    assert (benefit.coinsurance, benefit.paid) == (D("10.01"), D("90.04"))


@pytest.mark.parametrize(
    "allowed, deductible, coinsurance, copay",
    [
        ("-1", "0", "0.2", "0"),
        ("10", "-5", "0.2", "0"),
        ("10", "0", "1.5", "0"),
        ("10", "0", "0.2", "-1"),
    ],
)
def test_plan_benefit_refuses_impossible_inputs(allowed, deductible, coinsurance, copay):
    with pytest.raises(ValueError):
        plan_benefit(D(allowed), D(deductible), D(coinsurance), D(copay))


# --- properties -----------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=20000, places=2, allow_nan=False, allow_infinity=False)
rate = st.decimals(min_value=0, max_value=1, places=2)


@given(allowed=money, deductible=money, coinsurance=rate, copay=money)
def test_plan_benefit_always_sums_to_allowed(allowed, deductible, coinsurance, copay):
    benefit = plan_benefit(allowed, deductible, coinsurance, copay)
    parts = (benefit.deductible, benefit.copay, benefit.coinsurance, benefit.paid)
    assert sum(parts) == allowed
    assert all(part >= 0 for part in parts)


# --- the case and the answer as JSON ------------------------------------------------------


def test_every_cob_method_has_a_rule():
    assert set(METHODS) == set(CobMethod)


def test_msp_1_case_reads_from_json_and_answers_as_json():
    case = SecondaryPaymentCase.model_validate_json(MSP_1_JSON)
    assert (case.balance, case.prior_paid, case.prior_allowed) == (
        D("30.00"),
        D("120.00"),
        D("150.00"),
    )
    answer = secondary_payment(case)
    assert answer.paid == D("30.00") and answer.deciding_step.citation == "42 CFR 411.33(a)(3)"
    shown = json.loads(answer.model_dump_json())
    assert shown["paid"] == "30.00" and [step["won"] for step in shown["steps"]] == [
        False,
        False,
        True,
        False,
    ]
    assert SecondaryPayment.model_validate_json(answer.model_dump_json()) == answer


def test_open_balance_defaults_to_what_the_last_payer_left_the_patient():
    case = SecondaryPaymentCase.model_validate(
        {
            "method": "standard",
            "charge": "200.00",
            "own_allowed": "150.00",
            "prior_payers": [
                {"allowed": "150.00", "paid": "90.00",
                 "adjustments": [{"group": "PR", "reason": "1", "amount": "60.00"}]},
                {"allowed": "100.00", "paid": "20.00",
                 "adjustments": [{"group": "OA", "reason": "23", "amount": "140.00"},
                                 {"group": "PR", "reason": "2", "amount": "40.00"}]},
            ],
        }
    )  # fmt: skip
    assert case.balance == D("40.00")
    no_prior = SecondaryPaymentCase(
        method=CobMethod.STANDARD, charge=D("80.00"), own_allowed=D("50")
    )
    assert no_prior.balance == D("80.00")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"own_coinsurance": "1.5"}, "own_coinsurance"),
        ({"charge": "-1.00"}, "charge"),
        ({"own_alowed": "1.00"}, "own_alowed"),  # a misspelt field is named, not ignored
        ({"medicare_pct": "1.01"}, "medicare_pct"),
        ({"part": "C"}, "part"),
        ({"method": "full_cob"}, "method"),
        ({"obligated_to_accept": "12.345"}, "obligated_to_accept"),
        ({"open_balance": "900.00"}, "open_balance"),  # more than charge - prior paid
    ],
)
def test_a_bad_case_names_its_field(change, field):
    data = {**json.loads(MSP_1_JSON), **change}
    with pytest.raises(ValidationError, match=field):
        SecondaryPaymentCase.model_validate(data)


def test_a_negative_prior_patient_share_is_refused():
    data = json.loads(MSP_1_JSON)
    data["prior_payers"][0]["adjustments"][1]["amount"] = "-30.00"
    with pytest.raises(ValidationError, match=r"prior_payers\.0\.adjustments"):
        SecondaryPaymentCase.model_validate(data)


def test_an_answer_that_does_not_split_the_open_balance_is_refused():
    benefit = PlanBenefit(deductible=D(0), copay=D(0), coinsurance=D(0), paid=D(0))
    with pytest.raises(ValidationError, match="must split the open_balance"):
        SecondaryPayment(
            method=CobMethod.STANDARD,
            open_balance=D("10.00"),
            paid=D("5.00"),
            write_off=D("0.00"),
            patient_responsibility=D("4.00"),
            steps=[],
            normal_benefit=benefit,
        )
