"""A claim's lines share the member's deductible and the visit's copay (cob.cost_sharing): the
copay on the first office visit only, the deductible used up line by line."""

from __future__ import annotations

from decimal import Decimal

from cob.cost_sharing import CostSharingLeft
from cob.normal_benefit import plan_benefit

D = Decimal
OFFICE_VISITS = ["99213"]


def test_the_copay_is_due_once_per_visit_on_the_office_visit():
    left = CostSharingLeft(deductible=D("0.00"), copay=D("25.00"))
    assert left.copay_on("81002", OFFICE_VISITS) == D("0.00")  # a lab test: no copay
    first = plan_benefit(
        D("100.00"), left.deductible, D("0.20"), left.copay_on("99213", OFFICE_VISITS)
    )
    left.take(first)
    assert (first.copay, first.paid) == (D("25.00"), D("60.00"))  # 100 - 25 - 20% of 75
    assert left.copay_on("99213", OFFICE_VISITS) == D("0.00")


def test_the_deductible_carries_from_line_to_line():
    # $150 deductible left; lines allowed $100 and $80, 20% coinsurance
    left = CostSharingLeft(deductible=D("150.00"), copay=D("0.00"))
    first = plan_benefit(D("100.00"), left.deductible, D("0.20"), D("0.00"))
    left.take(first)
    second = plan_benefit(D("80.00"), left.deductible, D("0.20"), D("0.00"))
    left.take(second)
    assert (first.deductible, second.deductible, left.deductible) == (
        D("100.00"), D("50.00"), D("0.00"),
    )  # fmt: skip
    assert second.paid == D("24.00")  # (80 - 50) x 80%
