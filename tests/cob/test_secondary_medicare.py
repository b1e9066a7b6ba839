"""Medicare as secondary payer (42 CFR 411.32, 411.33; worked example MSP-1,
42 CFR 411.33(b)), and the plans
that pay after it: Medigap (supplement) and Medicaid (lesser of)."""

from decimal import Decimal as D

import pytest

from cob.benefits import PriorPayment, SecondaryPayment, SecondaryPaymentCase, secondary_payment
from cob.model import Adjustment, CobMethod


def pr(*reason_amounts: tuple[str, str]) -> list[Adjustment]:
    return [Adjustment(group="PR", reason=r, amount=D(a)) for r, a in reason_amounts]


def medicare(
    charge: str,
    primary_allowed: str,
    primary_paid: str,
    medicare_allowed: str,
    patient_share: str,
    **terms,
) -> SecondaryPayment:
    primary = PriorPayment(
        payer_id="EMPLOYER",
        allowed=D(primary_allowed),
        paid=D(primary_paid),
        adjustments=pr(("2", patient_share)) if D(patient_share) else [],
    )
    case = SecondaryPaymentCase(
        method=CobMethod.MEDICARE_SECONDARY,
        charge=D(charge),
        prior_payers=[primary],
        own_allowed=D(medicare_allowed),
        **terms,
    )
    return secondary_payment(case)


def amounts_of_tests(answer: SecondaryPayment) -> list[D]:
    return [step.amount for step in answer.steps if step.name.startswith("test")]


# --- Part B: 42 CFR 411.33(a) -------------------------------------------------------------


def test_msp_1_medicare_pays_30():
    # 411.33(b): charge 175, primary allowed 150 and paid 120, Medicare fee schedule 125,
    # Part B deductible met: (1) 175 - 120 = 55, (2) .80 x 125 = 100, (3) 150 - 120 = 30
    answer = medicare("175.00", "150.00", "120.00", "125.00", "30.00")
    assert (answer.paid, answer.write_off, answer.patient_responsibility) == (
        D("30.00"),
        D("0.00"),
        D("0.00"),
    )
    assert amounts_of_tests(answer) == [D("55.00"), D("100.00"), D("30.00")]
    assert answer.deciding_step.citation == "42 CFR 411.33(a)(3)"
    assert answer.part == "B"


def test_msp_7_no_secondary_payment_when_the_primary_payment_is_payment_in_full():
    # 411.32(b): charge 100, the provider is obligated to accept 60, the primary paid 60
    answer = medicare("100.00", "60.00", "60.00", "80.00", "0.00", obligated_to_accept=D("60.00"))
    assert (answer.paid, answer.write_off, answer.patient_responsibility) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    assert answer.deciding_step.citation == "42 CFR 411.32(b)"


def test_msp_7_a_balance_left_open_is_written_off_not_billed():
    # the provider must accept 60 as payment in full, so the 10 left open is not the patient's
    answer = medicare("100.00", "70.00", "60.00", "80.00", "10.00", obligated_to_accept=D("60.00"))
    assert (answer.paid, answer.write_off, answer.patient_responsibility) == (
        D("0.00"),
        D("10.00"),
        D("0.00"),
    )


def test_a_primary_that_paid_nothing_does_not_bind_the_provider():
    # CGS: "If the primary paid amount is zero, then the supplier is not obligated to accept"
    # (1) min(175, OTAF 150) - 0 = 150, (2) .80 x 125 = 100, (3) 150 - 0 = 150
    answer = medicare(
        "175.00", "150.00", "0.00", "125.00", "150.00", obligated_to_accept=D("150.00")
    )
    assert answer.paid == D("100.00") and answer.deciding_step.citation == "42 CFR 411.33(a)(2)"


def test_test_1_uses_the_otaf_when_it_is_less_than_the_charge():
    # (1) min(175, 130) - 120 = 10, (2) 100, (3) 150 - 120 = 30
    answer = medicare(
        "175.00", "150.00", "120.00", "125.00", "30.00", obligated_to_accept=D("130.00")
    )
    assert amounts_of_tests(answer) == [D("10.00"), D("100.00"), D("30.00")]
    assert answer.paid == D("10.00") and answer.deciding_step.citation == "42 CFR 411.33(a)(1)"
    assert answer.patient_responsibility == D("0.00")  # 130 - 120 - 10: nothing more to collect
    assert answer.write_off == D("20.00")


@pytest.mark.parametrize(
    "pct, expected",
    [("0.80", "20.00"), ("1.00", "25.00"), ("0.625", "15.63")],  # FCSO: 80%, 100%, 62.5%
)
def test_test_2_is_the_unmet_deductible_off_then_the_configured_pct(pct, expected):
    # (125 - 100 unmet deductible) x pct; 0.625 x 25 = 15.625 -> 15.63 half-up
    answer = medicare(
        "175.00",
        "150.00",
        "0.00",
        "125.00",
        "150.00",
        own_deductible_remaining=D("100.00"),
        medicare_pct=D(pct),
    )
    assert amounts_of_tests(answer)[1] == D(expected) and answer.paid == D(expected)
    assert answer.normal_benefit.deductible == D("100.00")


def test_medicare_limits_patient_liability_to_its_allowable():
    # the primary denied 175 as non-covered (PR); Medicare allows 125 and pays 100: the patient
    # owes at most 125 - 100 = 25, the other 50 is written off (Noridian JF B, MSP payment calculation)
    answer = medicare("175.00", "0.00", "0.00", "125.00", "175.00")
    assert (answer.paid, answer.write_off, answer.patient_responsibility) == (
        D("100.00"),
        D("50.00"),
        D("25.00"),
    )


# --- Part A: 42 CFR 411.33(e) -------------------------------------------------------------
# Computed: charges 20,000; Medicare's gross amount payable 9,000; Part A deductible 1,676 left.


def part_a(primary_allowed: str, primary_paid: str, charge: str = "20000.00", **terms):
    """The primary leaves the patient its allowed minus its payment; a primary that allowed
    nothing (a denial) leaves the whole charge."""
    patient_share = str(D(primary_allowed) - D(primary_paid)) if D(primary_allowed) else charge
    return medicare(
        charge,
        primary_allowed,
        primary_paid,
        "9000.00",
        patient_share,
        part="A",
        own_deductible_remaining=D("1676.00"),
        **terms,
    )


@pytest.mark.parametrize(
    "primary_allowed, primary_paid, otaf, charge, tests, paid, deciding",
    [
        # (1) 9000 - 1676 = 7324 decides when the primary paid little
        ("15000.00", "500.00", "15000.00", "20000.00", ["7324.00", "8500.00", "14500.00", "13324.00"], "7324.00", "(e)(1)"),
        # (2) 9000 - 5000 = 4000: gross minus primary paid
        ("15000.00", "5000.00", "15000.00", "20000.00", ["7324.00", "4000.00", "10000.00", "13324.00"], "4000.00", "(e)(2)"),
        # (3) OTAF (value code 44) 8000 - 5000 = 3000
        ("8000.00", "5000.00", "8000.00", "20000.00", ["7324.00", "4000.00", "3000.00", "6324.00"], "3000.00", "(e)(3)"),
        # (4) charges 2000 (below the gross) - 1676 = 324, the primary paid nothing
        ("0.00", "0.00", None, "2000.00", ["7324.00", "9000.00", "2000.00", "324.00"], "324.00", "(e)(4)"),
        # the primary paid more than Medicare's gross amount: nothing (411.32(a)(2))
        ("15000.00", "12000.00", "15000.00", "20000.00", ["7324.00", "-3000.00", "3000.00", "13324.00"], "0.00", "(e)(2)"),
    ],
)  # fmt: skip
def test_part_a_pays_the_lowest_of_the_four_tests(
    primary_allowed, primary_paid, otaf, charge, tests, paid, deciding
):
    otaf_amount = D(otaf) if otaf else None
    answer = part_a(primary_allowed, primary_paid, charge, obligated_to_accept=otaf_amount)
    assert amounts_of_tests(answer) == [D(amount) for amount in tests]
    assert answer.paid == D(paid) and deciding in answer.deciding_step.citation
    assert answer.part == "A"


def test_part_a_coinsurance_counts_in_tests_1_and_4():
    # inpatient coinsurance of 419.00 (a fixed amount) on top of the deductible: 2095 in all
    answer = part_a("15000.00", "500.00", obligated_to_accept=D("15000.00"), own_copay=D("419"))
    assert amounts_of_tests(answer) == [D("6905.00"), D("8500.00"), D("14500.00"), D("12905.00")]
    assert answer.paid == D("6905.00")


def test_part_a_no_payment_when_the_primary_payment_is_payment_in_full():
    answer = part_a("10000.00", "10000.00", obligated_to_accept=D("10000.00"))
    assert answer.paid == D("0.00") and "411.32(b)" in answer.deciding_step.citation


# --- after Medicare: Medigap and Medicaid ------------------------------------------------


def after_medicare(method: CobMethod, charge: str, open_balance: str, own_allowed: str, *prior_pr):
    medicare_line = PriorPayment(
        payer_id="MCARE", allowed=D("130.00"), paid=D("64.00"), adjustments=pr(*prior_pr)
    )
    case = SecondaryPaymentCase(
        method=method,
        charge=D(charge),
        open_balance=D(open_balance),
        prior_payers=[medicare_line],
        own_allowed=D(own_allowed),
    )
    answer = secondary_payment(case)
    return answer.paid, answer.write_off, answer.patient_responsibility


def test_medigap_plan_g_pays_coinsurance_not_the_part_b_deductible():
    # Medicare allowed 130 with 50 deductible left: PR-1 50, PR-2 16, paid 64
    assert after_medicare(
        CobMethod.SUPPLEMENT, "160.00", "66.00", "130.00", ("1", "50.00"), ("2", "16.00")
    ) == (D("16.00"), D("0.00"), D("50.00"))


def test_medicaid_pays_up_to_its_allowed_and_writes_off_the_rest():
    # Medicaid allows 64.40; 64.40 - 64.00 = 0.40; the patient owes nothing
    assert after_medicare(
        CobMethod.MEDICAID_LESSER_OF, "160.00", "66.00", "64.40", ("1", "50.00"), ("2", "16.00")
    ) == (D("0.40"), D("65.60"), D("0.00"))


def test_medicaid_pays_the_open_balance_when_its_allowed_is_higher():
    assert after_medicare(
        CobMethod.MEDICAID_LESSER_OF, "160.00", "66.00", "150.00", ("1", "50.00"), ("2", "16.00")
    ) == (D("66.00"), D("0.00"), D("0.00"))
