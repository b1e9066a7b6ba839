"""One definition of a payer's allowed amount where the payer does not state it: the charge
less every adjustment that is not the patient's (CO, PI, OA), for the 835 and the 837 readers."""

from decimal import Decimal as D

from cob.model import Adjustment
from cob.money import allowed_amount


def test_allowed_is_the_charge_less_co_pi_and_oa_never_pr():
    adjustments = [
        Adjustment(group="CO", reason="45", amount=D("30.00")),
        Adjustment(group="PI", reason="45", amount=D("5.00")),
        Adjustment(group="OA", reason="94", amount=D("2.00")),
        Adjustment(group="PR", reason="2", amount=D("12.60")),
    ]
    assert allowed_amount(D("100.00"), adjustments) == D("63.00")


def test_without_adjustments_the_whole_charge_is_allowed():
    assert allowed_amount(D("80.00"), []) == D("80.00")
