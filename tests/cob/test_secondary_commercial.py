"""Commercial COB methods on one line: worked examples COB-1 to COB-5 (NAIC MDL-120 §7), the
credit-reserve follow-on (WAC 284-51-230(1)), and the carve-out, maintenance-of-benefits and exclusion variants."""

from decimal import Decimal as D

import pytest

from cob.benefits import PriorPayment, SecondaryPayment, SecondaryPaymentCase, secondary_payment
from cob.model import Adjustment, CobMethod

NON_DUP_FAMILY = [
    CobMethod.NON_DUPLICATION,
    CobMethod.CARVE_OUT,
    CobMethod.MAINTENANCE_OF_BENEFITS,
]


def section_7_2(method: CobMethod, primary_paid: str, **extra) -> SecondaryPayment:
    """The comparison case: charge 1,000; both plans allow 800, deductibles met; the
    secondary's coinsurance 20%, so its normal benefit is 640. The primary leaves the rest of
    the 800 to the patient (PR-2) and writes off 200 (CO-45)."""
    patient_share = D("800.00") - D(primary_paid)
    primary = PriorPayment(
        payer_id="PRIMARY",
        allowed=D("800.00"),
        paid=D(primary_paid),
        adjustments=[
            Adjustment(group="CO", reason="45", amount=D("200.00")),
            Adjustment(group="PR", reason="2", amount=patient_share),
        ],
    )
    terms = {"own_allowed": D("800.00"), "own_coinsurance": D("0.20"), **extra}
    case = SecondaryPaymentCase(method=method, charge=D("1000.00"), prior_payers=[primary], **terms)
    return secondary_payment(case)


def split(answer: SecondaryPayment) -> tuple[D, D, D]:
    return answer.paid, answer.write_off, answer.patient_responsibility


# --- COB-1, COB-2: standard (NAIC MDL-120 §7) -----------------------------------------------


def test_cob_1_standard_pays_the_unpaid_allowable():
    answer = section_7_2(CobMethod.STANDARD, "640.00")
    assert split(answer) == (D("160.00"), D("0.00"), D("0.00"))
    assert [(step.name, step.amount) for step in answer.steps] == [
        ("normal benefit (as if primary)", D("640.00")),
        ("allowable expense - prior paid", D("160.00")),
        ("open balance", D("160.00")),
    ]
    assert answer.deciding_step.name == "allowable expense - prior paid"
    assert answer.deciding_step.citation == "NAIC MDL-120 §7"


def test_cob_1_credit_reserve_records_480_of_savings():
    answer = section_7_2(CobMethod.STANDARD_WITH_CREDIT_RESERVE, "640.00")
    assert split(answer) == (D("160.00"), D("0.00"), D("0.00"))
    assert (answer.credit_reserve_before, answer.credit_reserve_after) == (D("0.00"), D("480.00"))


def test_cob_2_standard_pays_the_patient_balance_in_full():
    answer = section_7_2(CobMethod.STANDARD, "400.00")
    assert split(answer) == (D("400.00"), D("0.00"), D("0.00"))
    assert answer.credit_reserve_after is None  # plain standard keeps no reserve


def test_cob_2_credit_reserve_records_240_of_savings():
    answer = section_7_2(CobMethod.STANDARD_WITH_CREDIT_RESERVE, "400.00")
    assert answer.paid == D("400.00") and answer.credit_reserve_after == D("240.00")


# --- the credit-reserve follow-on (WAC 284-51-230(1)) ---------------------------------


def follow_on(reserve: str) -> SecondaryPayment:
    """Same member and calendar year as case A: allowable 500, the primary pays 400 and leaves
    100 to the patient; the secondary excludes the service (own allowed 0, normal benefit 0)."""
    primary = PriorPayment(
        allowed=D("500.00"),
        paid=D("400.00"),
        adjustments=[Adjustment(group="PR", reason="2", amount=D("100.00"))],
    )
    case = SecondaryPaymentCase(
        method=CobMethod.STANDARD_WITH_CREDIT_RESERVE,
        charge=D("500.00"),
        prior_payers=[primary],
        own_allowed=D("0.00"),
        own_coinsurance=D("0.20"),
        credit_reserve=D(reserve),
    )
    return secondary_payment(case)


def test_credit_reserve_follow_on_pays_an_excluded_service_from_the_reserve():
    answer = follow_on("480.00")
    assert split(answer) == (D("100.00"), D("0.00"), D("0.00"))
    assert (answer.credit_reserve_before, answer.credit_reserve_after) == (
        D("480.00"),
        D("380.00"),
    )
    assert answer.normal_benefit.paid == D("0.00")


def test_credit_reserve_pays_no_more_than_the_benefit_plus_the_reserve():
    # WAC 284-51-230(1): "its maximum benefit plus accrued savings"
    answer = follow_on("30.00")
    assert split(answer) == (D("30.00"), D("0.00"), D("70.00"))
    assert answer.credit_reserve_after == D("0.00")
    assert answer.deciding_step.name == "normal benefit + credit reserve"


def test_without_a_reserve_an_excluded_service_is_the_patients():
    assert split(follow_on("0.00")) == (D("0.00"), D("0.00"), D("100.00"))


# --- COB-3, COB-4: non-duplication, carve-out, maintenance of benefits -----------------------


@pytest.mark.parametrize("method", NON_DUP_FAMILY)
def test_cob_3_non_dup_family_pays_nothing_when_primary_paid_as_much(method):
    answer = section_7_2(method, "640.00")
    assert split(answer) == (D("0.00"), D("0.00"), D("160.00"))


@pytest.mark.parametrize("method", NON_DUP_FAMILY)
def test_cob_4_non_dup_family_pays_the_normal_benefit_minus_primary_paid(method):
    answer = section_7_2(method, "400.00")
    assert split(answer) == (D("240.00"), D("0.00"), D("160.00"))
    assert answer.deciding_step.amount == D("240.00")


def test_carve_out_and_mob_keep_their_own_names_and_sources_in_the_working():
    names = {
        method: (section_7_2(method, "400.00").deciding_step.name,
                 section_7_2(method, "400.00").deciding_step.citation)
        for method in NON_DUP_FAMILY
    }  # fmt: skip
    assert names[CobMethod.NON_DUPLICATION][0].startswith("non-duplication")
    assert "ERI glossary" in names[CobMethod.NON_DUPLICATION][1]
    assert names[CobMethod.CARVE_OUT][0].startswith("carve-out")
    assert "Open Dental" in names[CobMethod.CARVE_OUT][1]
    assert names[CobMethod.MAINTENANCE_OF_BENEFITS][0].startswith("maintenance of benefits")


def test_carve_out_subtracts_the_deductible_before_its_percentage():
    # Open Dental: (secondary allowed - secondary deductible) x percentage - paid other
    # (800 - 100) x 80% = 560; 560 - 400 = 160
    answer = section_7_2(CobMethod.CARVE_OUT, "400.00", own_deductible_remaining=D("100.00"))
    assert split(answer) == (D("160.00"), D("0.00"), D("240.00"))
    assert answer.normal_benefit.deductible == D("100.00")  # credited as if primary (MDL-120 §7)


# --- COB-5: exclusion ---------------------------------------------------------------------


def test_cob_5_exclusion_applies_its_coinsurance_to_what_the_primary_left():
    # (800 - 400) x 0.8 = 320; the patient owes 80
    answer = section_7_2(CobMethod.EXCLUSION, "400.00")
    assert split(answer) == (D("320.00"), D("0.00"), D("80.00"))


def test_exclusion_case_a_pays_128():
    # the comparison case A: (800 - 640) x 0.8 = 128; the patient owes 32
    assert split(section_7_2(CobMethod.EXCLUSION, "640.00")) == (
        D("128.00"),
        D("0.00"),
        D("32.00"),
    )


def test_exclusion_takes_the_remaining_deductible_off_first():
    # (800 - 400 - 100) x 0.8 = 240; the plan credits 100 to the member's deductible
    answer = section_7_2(CobMethod.EXCLUSION, "400.00", own_deductible_remaining=D("100.00"))
    assert split(answer) == (D("240.00"), D("0.00"), D("160.00"))
    assert answer.normal_benefit.deductible == D("100.00")


def test_standard_credits_the_deductible_it_would_have_taken_as_primary():
    # normal benefit (800 - 300) x 0.8 = 400; min(400, 160) = 160; 300 credited (MDL-120 §7)
    answer = section_7_2(CobMethod.STANDARD, "640.00", own_deductible_remaining=D("300.00"))
    assert answer.paid == D("160.00") and answer.normal_benefit.deductible == D("300.00")


def test_standard_uses_the_highest_allowed_as_the_allowable_expense():
    # NAIC MDL-120 §3: the secondary allows 900 > the primary's 800; unpaid allowable 900 - 640 = 260,
    # but only the 160 the primary left open can be paid
    answer = section_7_2(CobMethod.STANDARD, "640.00", own_allowed=D("900.00"))
    steps = {step.name: step.amount for step in answer.steps}
    assert steps["allowable expense - prior paid"] == D("260.00")
    assert answer.paid == D("160.00") and answer.deciding_step.name == "open balance"
