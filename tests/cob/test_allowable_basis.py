"""The plan's allowable basis (NAIC MDL-120 §3, allowable expense): its own allowed amount
(as published standard-COB examples use it), the higher of its own and the earlier payers'
(the default), or the primary's arrangement. The engine learns it from the 271
(MSG*COB ALLOWABLE <basis>); without that MSG it is higher_of, as before."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from cli.explain import explain_payment
from cob.benefits import PriorPayment, SecondaryPaymentCase, secondary_payment
from cob.expected import review_payment
from cob.model import (
    Adjustment,
    AllowableBasis,
    Benefits,
    CobMethod,
    LineAdjudication,
    Person,
    PlanType,
    Relationship,
    Remittance,
)
from payers.x12.eligibility import EligibilityInquiry, build_271
from payers.x12.eligibility_parse import parse_271


def primary_900_paid_720() -> PriorPayment:
    """Charge 1,000: the primary allowed 900, paid 80% (720), wrote off 100 and left 180."""
    return PriorPayment(
        payer_id="ACME01",
        allowed=D("900.00"),
        paid=D("720.00"),
        adjustments=[
            Adjustment(group="CO", reason="45", amount=D("100.00")),
            Adjustment(group="PR", reason="2", amount=D("180.00")),
        ],
    )


def own_800(method: CobMethod, basis: str) -> SecondaryPaymentCase:
    """The secondary allows 800, deductible met, 20% coinsurance: its normal benefit is 640."""
    return SecondaryPaymentCase(
        method=method,
        allowable_basis=basis,
        charge=D("1000.00"),
        prior_payers=[primary_900_paid_720()],
        own_allowed=D("800.00"),
        own_coinsurance=D("0.20"),
    )


@pytest.mark.parametrize(
    ("basis", "paid", "patient"),
    [("higher_of", "180.00", "0.00"), ("primary", "180.00", "0.00"), ("own", "80.00", "100.00")],
)
def test_standard_cob_on_own_800_after_primary_900_paid_720(basis, paid, patient) -> None:
    # own: 800 - 720 = 80; higher_of and primary: 900 - 720 = 180 (the open balance too)
    answer = secondary_payment(own_800(CobMethod.STANDARD, basis))
    assert (answer.paid, answer.patient_responsibility) == (D(paid), D(patient))
    assert answer.deciding_step.name.startswith(("allowable expense", "open balance"))


def test_own_basis_shows_its_own_allowed_in_the_working() -> None:
    answer = secondary_payment(own_800(CobMethod.STANDARD, "own"))
    step = answer.deciding_step
    assert step.name == "allowable expense - prior paid"
    assert step.formula == "own allowed 800.00 - 720.00" and step.amount == D("80.00")


@pytest.mark.parametrize(("basis", "paid"), [("higher_of", "144.00"), ("own", "64.00")])
def test_exclusion_takes_80_percent_of_what_the_basis_leaves(basis, paid) -> None:
    # higher_of: (900 - 720) x 80% = 144; own: (800 - 720) x 80% = 64
    answer = secondary_payment(own_800(CobMethod.EXCLUSION, basis))
    assert answer.paid == D(paid)


def test_the_default_basis_is_higher_of() -> None:
    case = own_800(CobMethod.STANDARD, "higher_of").model_dump()
    del case["allowable_basis"]
    assert SecondaryPaymentCase.model_validate(case).allowable_basis == AllowableBasis.HIGHER_OF


def test_medicare_refuses_an_own_basis_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="allowable_basis own: .*411.33\\(a\\)\\(3\\)"):
        own_800(CobMethod.MEDICARE_SECONDARY, "own")


def test_explain_payment_takes_the_basis_and_shows_the_allowable_expense() -> None:
    case = own_800(CobMethod.STANDARD, "own").model_dump(mode="json")
    answer = explain_payment(case)
    assert answer["paid"] == "80.00"
    assert answer["allowable_basis"] == "own"
    assert answer["allowable_expense"] == "own allowed 800.00 = 800.00"
    del case["allowable_basis"]
    assert explain_payment(case)["allowable_expense"] == "max(800.00, 900.00) = 900.00"


def remittance(
    payer_id: str, sequence: int, allowed: str, paid: str, adjustments: list[Adjustment]
) -> Remittance:
    return Remittance(
        claim_control_number=f"E1-1-{sequence}", payer_id=payer_id, member_id="M1",
        payer_claim_number=f"{payer_id}-1", payer_sequence=sequence, status=str(sequence),
        adjudication_date=date(2026, 3, 2),
        lines=[LineAdjudication(line_number=1, procedure_code="99213", charge=D("1000.00"),
                                allowed=D(allowed), paid=D(paid), adjustments=adjustments)],
    )  # fmt: skip


def test_the_engine_expects_80_from_a_plan_whose_271_says_own() -> None:
    primary = primary_900_paid_720()
    prior = remittance("ACME01", 1, "900.00", "720.00", primary.adjustments)
    paid_80 = remittance("BLUE02", 2, "800.00", "80.00", [
        Adjustment(group="OA", reason="23", amount=D("820.00")),
        Adjustment(group="PR", reason="2", amount=D("100.00")),
    ])  # fmt: skip
    own = Benefits(payer_id="BLUE02", member_id="BSH12345678", active=True,
                   plan_type=PlanType.COMMERCIAL, coinsurance=D("0.20"),
                   allowable_basis=AllowableBasis.OWN)  # fmt: skip
    assert not review_payment(paid_80, own, [prior]).underpaid
    higher_of = own.model_copy(update={"allowable_basis": AllowableBasis.HIGHER_OF})
    review = review_payment(paid_80, higher_of, [prior])
    assert review.underpaid and review.variance == D("-100.00")  # 180 expected


JANE = Person(first_name="JANE", last_name="DOE", birth_date=date(1980, 4, 12), sex="F")
INQUIRY = EligibilityInquiry(
    trace_number="E1-BLUE02", payer_id="BLUE02", provider_name="MAIN STREET CLINIC",
    provider_npi="1234567893", member_id="BSH12345678", subscriber=JANE, patient=JANE,
    relationship=Relationship.SELF, service_date=date(2026, 3, 2),
)  # fmt: skip


@pytest.mark.parametrize("basis", list(AllowableBasis))
def test_the_271_carries_the_basis_in_a_msg_and_reads_it_back(basis) -> None:
    benefits = Benefits(payer_id="BLUE02", member_id="BSH12345678", active=True,
                        plan_type=PlanType.COMMERCIAL, allowable_basis=basis)  # fmt: skip
    text = build_271(INQUIRY, benefits, datetime(2026, 3, 2, 9, 0), 7)
    assert ("MSG*COB ALLOWABLE" in text) == (basis != AllowableBasis.HIGHER_OF)
    assert parse_271(text)[1].allowable_basis == basis
