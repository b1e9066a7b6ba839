"""The plan-benefit and secondary-payment rules (DOMAIN.md §2.2 to §2.5, §7.1, §7.2)."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cob.benefits import PlanBenefit, plan_benefit, secondary_payment
from cob.model import Adjustment, CobMethod


def pays(method: CobMethod, **amounts) -> tuple[D, D, D]:
    """Run secondary_payment and return (paid, write_off, patient_responsibility)."""
    amounts.setdefault("prior_patient_adjustments", [])
    result = secondary_payment(method, **amounts)
    return result.paid, result.write_off, result.patient_responsibility


def normal_benefit(paid: str, allowed: str = "800.00") -> PlanBenefit:
    """A secondary's benefit as if primary, deductible met (the §7.2 cases)."""
    coinsurance = D(allowed) - D(paid)
    return PlanBenefit(deductible=D("0.00"), copay=D("0.00"), coinsurance=coinsurance, paid=D(paid))


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
    # 10% of 100.05 = 10.005 -> 10.01 (DOMAIN.md §0)
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


# --- Medicare secondary (DOMAIN.md §7.1) ----------------------------------------------------


def test_msp_1_medicare_pays_the_primary_allowable_minus_primary_paid():
    # 42 CFR 411.33(b): charge 175, primary allowed 150, paid 120, MFS 125, deductible met
    result = secondary_payment(
        CobMethod.MEDICARE_SECONDARY,
        charge=D("175.00"),
        open_balance=D("30.00"),
        prior_paid=D("120.00"),
        prior_allowed=D("150.00"),
        own_allowed=D("125.00"),
        own_benefit=plan_benefit(D("125.00"), D("0.00"), D("0.20"), D("0.00")),
        prior_patient_adjustments=[Adjustment(group="PR", reason="2", amount=D("30.00"))],
    )
    assert (result.paid, result.write_off, result.patient_responsibility) == (D("30.00"), 0, 0)
    assert "55.00" in result.working and "100.00" in result.working and "t3" in result.working


def test_msp_7_no_secondary_payment_when_primary_payment_is_payment_in_full():
    # 42 CFR 411.32(b): OTAF 60, primary paid 60, nothing left open
    assert pays(
        CobMethod.MEDICARE_SECONDARY,
        charge=D("100.00"),
        open_balance=D("0.00"),
        prior_paid=D("60.00"),
        prior_allowed=D("60.00"),
        own_allowed=D("80.00"),
        own_benefit=plan_benefit(D("80.00"), D("0.00"), D("0.20"), D("0.00")),
    ) == (D("0.00"), D("0.00"), D("0.00"))


def test_medicare_limits_patient_liability_to_its_allowable():
    # primary denied 175 as non-covered (PR); Medicare allows 125 and pays 100: the patient owes
    # at most 125 - 100 = 25, the other 50 is written off (Noridian, DOMAIN.md §2.5)
    assert pays(
        CobMethod.MEDICARE_SECONDARY,
        charge=D("175.00"),
        open_balance=D("175.00"),
        prior_paid=D("0.00"),
        prior_allowed=D("0.00"),
        own_allowed=D("125.00"),
        own_benefit=plan_benefit(D("125.00"), D("0.00"), D("0.20"), D("0.00")),
    ) == (D("100.00"), D("50.00"), D("25.00"))


# --- commercial COB (DOMAIN.md §7.2) ------------------------------------------------------


def commercial(method: CobMethod, prior_paid: str, normal: str) -> tuple[D, D, D]:
    open_balance = D("800.00") - D(prior_paid)  # both plans allow 800, the rest is PR
    return pays(
        method,
        charge=D("1000.00"),
        open_balance=open_balance,
        prior_paid=D(prior_paid),
        prior_allowed=D("800.00"),
        own_allowed=D("800.00"),
        own_benefit=normal_benefit(normal),
    )


def test_cob_1_standard_pays_the_unpaid_allowable():
    assert commercial(CobMethod.STANDARD, "640.00", "640.00") == (D("160.00"), 0, D("0.00"))


def test_cob_2_standard_pays_the_patient_balance_in_full():
    assert commercial(CobMethod.STANDARD, "400.00", "640.00") == (D("400.00"), 0, D("0.00"))


def test_cob_3_non_duplication_pays_nothing_when_primary_paid_as_much():
    assert commercial(CobMethod.NON_DUPLICATION, "640.00", "640.00") == (D("0.00"), 0, D("160.00"))


def test_cob_4_non_duplication_pays_the_difference():
    assert commercial(CobMethod.NON_DUPLICATION, "400.00", "640.00") == (
        D("240.00"),
        0,
        D("160.00"),
    )


# COB-5 (exclusion) has no CobMethod yet; it is not modelled.


# --- supplement and Medicaid ----------------------------------------------------------------


def test_medigap_plan_g_pays_coinsurance_not_the_part_b_deductible():
    # Medicare allowed 130 with 50 deductible left: PR-1 50, PR-2 16, paid 64
    prior_pr = [
        Adjustment(group="PR", reason="1", amount=D("50.00")),
        Adjustment(group="PR", reason="2", amount=D("16.00")),
    ]
    assert pays(
        CobMethod.SUPPLEMENT,
        charge=D("160.00"),
        open_balance=D("66.00"),
        prior_paid=D("64.00"),
        prior_allowed=D("130.00"),
        own_allowed=D("130.00"),
        own_benefit=plan_benefit(D("130.00"), D("0"), D("0"), D("0")),
        prior_patient_adjustments=prior_pr,
    ) == (D("16.00"), D("0.00"), D("50.00"))


def test_medicaid_pays_up_to_its_allowed_and_writes_off_the_rest():
    # commercial primary applied 150 to the deductible; Medicaid allows 64.40
    assert pays(
        CobMethod.MEDICAID_LESSER_OF,
        charge=D("200.00"),
        open_balance=D("150.00"),
        prior_paid=D("0.00"),
        prior_allowed=D("150.00"),
        own_allowed=D("64.40"),
        own_benefit=plan_benefit(D("64.40"), D("0"), D("0"), D("0")),
    ) == (D("64.40"), D("85.60"), D("0.00"))


def test_medicaid_pays_nothing_when_the_primary_paid_more_than_medicaid_allows():
    assert pays(
        CobMethod.MEDICAID_LESSER_OF,
        charge=D("120.00"),
        open_balance=D("18.40"),
        prior_paid=D("73.60"),
        prior_allowed=D("92.00"),
        own_allowed=D("64.40"),
        own_benefit=plan_benefit(D("64.40"), D("0"), D("0"), D("0")),
    ) == (D("0.00"), D("18.40"), D("0.00"))


def test_negative_open_balance_is_refused():
    with pytest.raises(ValueError, match="open_balance"):
        commercial(CobMethod.STANDARD, "900.00", "640.00")


# --- properties -----------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=20000, places=2, allow_nan=False, allow_infinity=False)
rate = st.decimals(min_value=0, max_value=1, places=2)


@given(allowed=money, deductible=money, coinsurance=rate, copay=money)
def test_plan_benefit_always_sums_to_allowed(allowed, deductible, coinsurance, copay):
    benefit = plan_benefit(allowed, deductible, coinsurance, copay)
    parts = (benefit.deductible, benefit.copay, benefit.coinsurance, benefit.paid)
    assert sum(parts) == allowed
    assert all(part >= 0 for part in parts)


@given(
    method=st.sampled_from(list(CobMethod)),
    charge=money,
    open_balance=money,
    prior_paid=money,
    prior_allowed=money,
    own_allowed=money,
    deductible=money,
    coinsurance=rate,
    prior_pr=st.lists(st.tuples(st.sampled_from(["1", "2", "3", "45"]), money), max_size=3),
)
def test_secondary_payment_always_splits_the_open_balance(
    method,
    charge,
    open_balance,
    prior_paid,
    prior_allowed,
    own_allowed,
    deductible,
    coinsurance,
    prior_pr,
):
    result = secondary_payment(
        method,
        charge=charge,
        open_balance=open_balance,
        prior_paid=prior_paid,
        prior_allowed=prior_allowed,
        own_allowed=own_allowed,
        own_benefit=plan_benefit(own_allowed, deductible, coinsurance, D("0")),
        prior_patient_adjustments=[Adjustment(group="PR", reason=r, amount=a) for r, a in prior_pr],
    )
    assert result.paid + result.write_off + result.patient_responsibility == open_balance
    assert min(result.paid, result.write_off, result.patient_responsibility) >= 0
    assert result.paid <= open_balance
    if method == CobMethod.STANDARD and prior_paid <= max(own_allowed, prior_allowed):
        # NAIC §7: all plans together pay no more than the allowable expense
        assert result.paid + prior_paid <= max(own_allowed, prior_allowed)
