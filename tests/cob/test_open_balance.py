"""The open balance of a line, one rule (cob.money.open_balance): what the last payer that
adjudicated the line left the patient (its PR; 005010X222A1 AMT*EAF), or the whole charge
before any payer. The workflow, the payment case, the line account and the simulated payer
all read it from there; and the OTAF a later payer derives from the earlier payers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cob.model import Adjustment, CobMethod, LineAdjudication, Remittance
from cob.money import (
    account_line,
    leaves_open_balance,
    open_balance,
    patient_balance,
    prior_payer_impact,
    remaining_patient_liability,
)
from cob.payment_case import PriorPayment, SecondaryPaymentCase, obligated_to_accept

D = Decimal


def cas(group: str, reason: str, amount: str) -> Adjustment:
    return Adjustment(group=group, reason=reason, amount=D(amount))


def line(charge: str, allowed: str, paid: str, *adjustments: Adjustment, number: int = 1):
    return LineAdjudication(
        line_number=number, procedure_code="99213", charge=D(charge), allowed=D(allowed),
        paid=D(paid), adjustments=list(adjustments),
    )  # fmt: skip


def remittance(payer_id: str, sequence: int, *lines: LineAdjudication) -> Remittance:
    return Remittance(
        claim_control_number="ENC-1-1", payer_id=payer_id, member_id="M1",
        payer_claim_number=f"{payer_id}-1", payer_sequence=sequence, status="1",
        adjudication_date=date(2026, 3, 2), lines=list(lines),
    )  # fmt: skip


# $200 charge; the primary allows $150, pays $120, the patient owes deductible $20 + coinsurance
# $10; the secondary pays $25 of that $30 and leaves $5 coinsurance.
PRIMARY = line("200.00", "150.00", "120.00",
               cas("CO", "45", "50.00"), cas("PR", "1", "20.00"), cas("PR", "2", "10.00"))  # fmt: skip
SECONDARY = line("200.00", "150.00", "25.00", cas("OA", "23", "170.00"), cas("PR", "2", "5.00"))


def test_before_any_payer_the_whole_charge_is_open():
    assert open_balance(D("200.00"), []) == D("200.00")


def test_after_the_primary_the_open_balance_is_its_patient_share():
    assert open_balance(D("200.00"), [PRIMARY]) == D("30.00")


def test_after_the_secondary_only_the_last_payers_share_counts():
    assert open_balance(D("200.00"), [PRIMARY, SECONDARY]) == D("5.00")


def test_a_later_payer_reports_what_the_earlier_ones_settled_as_oa_23():
    assert prior_payer_impact(D("200.00"), D("30.00")) == cas("OA", "23", "170.00")


def test_billing_stops_when_a_payer_leaves_the_patient_nothing():
    paid_in_full = line("200.00", "150.00", "150.00", cas("CO", "45", "50.00"))
    assert not leaves_open_balance(remittance("ACME01", 1, paid_in_full))
    assert leaves_open_balance(remittance("ACME01", 1, paid_in_full, line(
        "80.00", "60.00", "48.00", cas("CO", "45", "20.00"), cas("PR", "2", "12.00"), number=2,
    )))  # fmt: skip


def test_the_claims_remaining_patient_liability_adds_its_lines():
    second = line("80.00", "60.00", "48.00", cas("CO", "45", "20.00"), cas("PR", "2", "12.00"),
                  number=2)  # fmt: skip
    assert remaining_patient_liability(remittance("ACME01", 1, PRIMARY, second)) == D("42.00")


def test_the_payment_case_derives_the_same_open_balance():
    case = SecondaryPaymentCase(
        method=CobMethod.STANDARD,
        charge=D("200.00"),
        prior_payers=[
            PriorPayment(
                payer_id="ACME01",
                allowed=D("150.00"),
                paid=D("120.00"),
                adjustments=PRIMARY.adjustments,
            )
        ],
        own_allowed=D("140.00"),
    )
    assert case.balance == D("30.00")


def test_the_line_account_leaves_the_patient_the_open_balance():
    account = account_line(1, "99213", D("200.00"), [
        remittance("ACME01", 1, PRIMARY), remittance("BCBS01", 2, SECONDARY),
    ])  # fmt: skip
    assert account.paid_by_payer == {"ACME01": D("120.00"), "BCBS01": D("25.00")}
    assert (account.adjustments, account.patient_responsibility) == (D("50.00"), D("5.00"))
    assert patient_balance([account, account]) == D("10.00")


def primary(allowed: str, paid: str) -> list[PriorPayment]:
    return [PriorPayment(payer_id="GHP01", allowed=D(allowed), paid=D(paid))]


def test_otaf_is_the_primarys_allowed_amount():
    # 42 CFR 411.33(b) example: charge $175, primary allowed $150 and paid $120
    assert obligated_to_accept(D("175.00"), primary("150.00", "120.00")) == D("150.00")


def test_otaf_is_never_more_than_the_charge():
    assert obligated_to_accept(D("175.00"), primary("190.00", "120.00")) == D("175.00")


def test_otaf_with_a_contract_share_of_the_allowed_amount():
    share = D("0.90")
    assert obligated_to_accept(D("175.00"), primary("150.00", "120.00"), share) == D("135.00")


def test_no_otaf_when_the_primary_paid_nothing():
    assert obligated_to_accept(D("175.00"), primary("150.00", "0.00")) is None
