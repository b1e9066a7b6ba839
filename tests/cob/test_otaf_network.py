"""OTAF from the provider's contract with the primary: in network the provider must accept the
primary's allowed as payment in full (42 CFR 411.32(b)); out of network nothing binds it, so
Medicare's test 1 runs on the full charge (411.33(a)(1))."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from cli.explain import explain_payment
from cob.expected import review_payment
from cob.model import Adjustment, Benefits, CobMethod, LineAdjudication, PlanType, Remittance
from cob.payment_case import PriorPayment, obligated_to_accept
from cob.validation import InvalidInput


def remittance(payer_id: str, sequence: int, paid: str, *cas: tuple[str, str, str]) -> Remittance:
    """Charge 200 for one office visit; the primary allowed 100."""
    allowed = "100.00" if sequence == 1 else "150.00"
    return Remittance(
        claim_control_number=f"E1-1-{sequence}", payer_id=payer_id, member_id="M1",
        payer_claim_number=f"{payer_id}-1", payer_sequence=sequence, status=str(sequence),
        adjudication_date=date(2026, 3, 2),
        lines=[LineAdjudication(
            line_number=1, procedure_code="99213", charge=D("200.00"), allowed=D(allowed),
            paid=D(paid), adjustments=[Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in cas],
        )],
    )  # fmt: skip


MEDICARE = Benefits(
    payer_id="MCARE", member_id="1EG4TE5MK73", active=True, plan_type=PlanType.MEDICARE,
    coinsurance=D("0.20"), cob_method=CobMethod.MEDICARE_SECONDARY,
)  # fmt: skip


def test_the_otaf_is_the_in_network_primarys_allowed_100_and_none_out_of_network() -> None:
    paid_80 = PriorPayment(payer_id="ACME01", allowed=D("100.00"), paid=D("80.00"))
    assert obligated_to_accept(D("200.00"), [paid_80]) == D("100.00")
    out = paid_80.model_copy(update={"in_network": False})
    assert obligated_to_accept(D("200.00"), [out]) is None


def test_medicare_expects_20_behind_an_in_network_primary_and_70_behind_an_out_of_network_one():
    # charge 200; primary allowed 100, paid 80; Medicare's fee 150, deductible met (test 2: 120)
    in_network = remittance("ACME01", 1, "80.00", ("CO", "45", "100.00"), ("PR", "2", "20.00"))
    out_of_network = remittance("ACME01", 1, "80.00", ("PR", "45", "100.00"), ("PR", "2", "20.00"))
    # in network: OTAF 100, test 1 = 100 - 80 = 20 (test 3: 150 - 80 = 70)
    paid_20 = remittance("MCARE", 2, "20.00", ("OA", "23", "180.00"))
    assert not review_payment(paid_20, MEDICARE, [in_network]).underpaid
    # out of network: test 1 = 200 - 80 = 120, so test 3 decides: 70
    review = review_payment(paid_20, MEDICARE, [out_of_network], out_of_network={"ACME01"})
    assert review.underpaid and review.variance == D("-50.00")
    assert "test 3" in review.lines[0].working and "= 70.00" in review.lines[0].working


def explained(in_network: bool, **extra) -> dict:
    return explain_payment({
        "method": "medicare_secondary", "charge": "200.00", "own_allowed": "150.00",
        "prior_payers": [{"payer_id": "ACME01", "allowed": "100.00", "paid": "80.00",
                          "in_network": in_network,
                          "adjustments": [{"group": "PR", "reason": "45", "amount": "100.00"},
                                          {"group": "PR", "reason": "2", "amount": "20.00"}]}],
        **extra,
    })  # fmt: skip


def test_explain_payment_out_of_network_runs_test_1_on_the_full_charge_200() -> None:
    answer = explained(False)
    test_1 = answer["steps"][0]
    assert test_1["amount"] == "120.00"
    assert test_1["formula"].startswith("200.00 (no OTAF: the provider is not in the primary")
    assert answer["paid"] == "70.00" and answer["decided_by"].startswith("test 3")


def test_explain_payment_in_network_with_otaf_100_pays_20() -> None:
    answer = explained(True, obligated_to_accept="100.00")
    assert answer["paid"] == "20.00" and answer["decided_by"].startswith("test 1")


def test_an_otaf_given_for_an_out_of_network_primary_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"obligated_to_accept 100\.00: .*411\.32\(b\)"):
        explained(False, obligated_to_accept="100.00")
