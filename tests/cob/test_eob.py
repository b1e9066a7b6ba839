"""cob.eob: from a primary's EOB figures to what a secondary's calculation takes (allowed,
patient share, OTAF, open balance) and the secondary 837's 2320/2430 amounts."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from cob.eob import PrimaryEob, explain_eob
from cob.validation import InvalidInput, parse_input


def eob(in_network: bool = True, **line) -> PrimaryEob:
    figures = {"procedure_code": "99214", "billed": "175.00", "paid": "120.00",
               "adjustments": [{"group": "CO", "reason": "45", "amount": "25.00"},
                               {"group": "PR", "reason": "2", "amount": "30.00"}]}  # fmt: skip
    return parse_input(
        PrimaryEob,
        {"payer_id": "ACME01", "in_network": in_network, "lines": [{**figures, **line}]},
    )


def test_billed_175_co45_25_paid_120_pr2_30_in_network_allowed_150_otaf_150_open_30():
    answer = explain_eob(eob())
    line = answer.lines[0]
    assert (line.allowed, line.obligated_to_accept, line.patient_share, line.open_balance) == (
        D("150.00"), D("150.00"), D("30.00"), D("30.00"),
    )  # fmt: skip
    assert line.charge_or_otaf == D("150.00")  # min(175, 150): 42 CFR 411.33(a)(1)
    assert line.adjustments_by_group == {"CO": D("25.00"), "PR": D("30.00")}
    assert line.secondary_837 == [
        "SVD*ACME01*120.00*HC:99214", "CAS*CO*45*25.00", "CAS*PR*2*30.00", "AMT*EAF*30.00",
    ]  # fmt: skip
    assert answer.secondary_837 == ["AMT*D*120.00", "AMT*EAF*30.00"]
    otaf = next(step for step in line.steps if step.name.startswith("OTAF"))
    assert "411.32(b)" in otaf.citation and "in the primary's network" in otaf.formula
    assert line.notes == []  # the primary left 30.00 open: a secondary may pay


def test_the_same_out_of_network_has_no_otaf_and_test_1_takes_the_charge_175():
    line = explain_eob(eob(in_network=False)).lines[0]
    assert (line.allowed, line.obligated_to_accept, line.patient_share, line.open_balance) == (
        D("150.00"), None, D("30.00"), D("30.00"),
    )  # fmt: skip
    assert line.charge_or_otaf == D("175.00")
    otaf = next(step for step in line.steps if step.name.startswith("OTAF"))
    assert otaf.amount is None and "out of the primary's network" in otaf.formula


def test_deductible_10_and_coinsurance_8_columns_become_pr_1_and_pr_2_open_18():
    line = explain_eob(
        eob(billed="90.00", paid="32.00", allowed="50.00", deductible="10.00",
            coinsurance="8.00", adjustments=[{"group": "CO", "reason": "45", "amount": "40"}])
    ).lines[0]  # fmt: skip
    assert line.patient_share_by_reason == {"PR-1": D("10.00"), "PR-2": D("8.00")}
    assert (line.allowed, line.obligated_to_accept, line.open_balance) == (
        D("50.00"), D("50.00"), D("18.00"),
    )  # fmt: skip
    assert line.secondary_837[1:] == [
        "CAS*CO*45*40.00", "CAS*PR*1*10.00", "CAS*PR*2*8.00", "AMT*EAF*18.00",
    ]  # fmt: skip


def test_paid_150_of_an_otaf_150_leaves_nothing_for_a_medicare_secondary():
    line = explain_eob(
        eob(paid="150.00", adjustments=[{"group": "CO", "reason": "45", "amount": "25.00"}])
    ).lines[0]
    assert (line.obligated_to_accept, line.open_balance) == (D("150.00"), D("0.00"))
    assert line.notes == [
        "the primary paid the OTAF 150.00 in full: a Medicare secondary pays nothing on this "
        "line (42 CFR 411.32(b))"
    ]


def test_paid_0_binds_no_otaf_even_in_network():
    denied = eob(paid="0.00", adjustments=[{"group": "PR", "reason": "96", "amount": "175"}])
    line = explain_eob(denied).lines[0]
    assert (line.allowed, line.obligated_to_accept, line.open_balance) == (
        D("175.00"), None, D("175.00"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"paid": "130.00"}, "lines[0]: billed 175.00 is not paid 130.00 + adjustments 55.00"),
        ({"allowed": "155.00"}, "lines[0]: allowed 155.00 as printed is not billed 175.00"),
        ({"coinsurance": "30.00"}, "lines[0]: coinsurance 30.00 is also given as adjustment PR-2"),
        ({"billed": "-1"}, "lines[0].billed: must be at least 0"),
        ({"adjustments": [{"group": "XX", "reason": "45", "amount": "55"}]},
         "lines[0].adjustments[0].group"),
        ({"paid": "ten"}, "lines[0].paid"),
    ],
)  # fmt: skip
def test_a_misread_eob_is_refused_naming_the_field(line: dict, message: str):
    with pytest.raises(InvalidInput) as refused:
        eob(**line)
    assert str(refused.value).startswith(message), str(refused.value)
