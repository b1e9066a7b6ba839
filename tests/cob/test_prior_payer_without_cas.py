"""A prior payer entered without PR is read line by line, never as a silent zero: settled by
its CAS (0 left), derived from charge - paid - its non-PR adjustments when it is the only
earlier payer (005010X222A1 loop 2430: SV102 = SVD02 + CAS), or refused naming the field."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest
from pydantic import ValidationError

from cob.benefits import PriorPayment, SecondaryPaymentCase, secondary_payment
from cob.model import Adjustment

ROOT = Path(__file__).resolve().parents[2]


def msp_1(*prior: PriorPayment) -> SecondaryPaymentCase:
    """42 CFR 411.33(b)'s example: charge 175, Medicare's fee 125, deductible met."""
    return SecondaryPaymentCase(
        method="medicare_secondary", charge=D("175.00"), prior_payers=list(prior),
        own_allowed=D("125.00"),
    )  # fmt: skip


def primary(allowed: str, paid: str, *cas: tuple[str, str, str], **kw) -> PriorPayment:
    adjustments = [Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in cas]
    return PriorPayment(allowed=D(allowed), paid=D(paid), adjustments=adjustments, **kw)


def test_msp_1_without_cas_leaves_30_open_and_medicare_pays_30_not_0() -> None:
    # in network: the 25 above the allowed 150 is contractual; 150 - 120 = 30 is the patient's
    answer = secondary_payment(msp_1(primary("150.00", "120.00")))
    assert answer.open_balance == D("30.00") and answer.paid == D("30.00")
    open_step = next(step for step in answer.steps if step.name == "open balance")
    assert "no PR: charge 175.00 - paid 120.00 - 25.00" in open_step.formula


def test_out_of_network_without_cas_leaves_the_whole_55_open() -> None:
    answer = secondary_payment(msp_1(primary("150.00", "120.00", in_network=False)))
    assert answer.open_balance == D("55.00")
    assert answer.paid == D("30.00")  # test 3: 150 - 120
    assert answer.paid + answer.write_off + answer.patient_responsibility == D("55.00")


def test_co_45_that_settles_the_line_leaves_0_open() -> None:
    # charge 175 = paid 150 + CO-45 25: the payer settled the line, nothing is the patient's
    answer = secondary_payment(msp_1(primary("150.00", "150.00", ("CO", "45", "25.00"))))
    assert answer.open_balance == D("0.00") and answer.paid == D("0.00")


def test_non_pr_cas_that_disagree_with_the_allowed_are_refused() -> None:
    # 175 - CO-45 10 = 165, not the allowed 150: the missing 15 could be anyone's
    with pytest.raises(ValidationError, match=r"prior_payers\[0\]\.allowed 150\.00 differs"):
        msp_1(primary("150.00", "120.00", ("CO", "45", "10.00")))


def test_paid_above_the_allowed_without_cas_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"prior_payers\[0\]\.paid 120\.00 is more"):
        msp_1(primary("100.00", "120.00"))


def test_a_tertiary_case_whose_last_payer_has_no_pr_is_refused() -> None:
    first = primary("150.00", "120.00", ("CO", "45", "25.00"), ("PR", "2", "30.00"))
    second = primary("150.00", "10.00")
    with pytest.raises(ValidationError, match=r"prior_payers\[1\]\.adjustments: no PR"):
        msp_1(first, second)


def test_an_open_balance_given_with_the_case_explains_the_line() -> None:
    # the line refused above, with the remaining patient liability (AMT*EAF) given
    given = SecondaryPaymentCase(
        method="medicare_secondary", charge=D("175.00"), open_balance=D("30.00"),
        prior_payers=[primary("150.00", "120.00", ("CO", "45", "10.00"))],
        own_allowed=D("125.00"),
    )  # fmt: skip
    assert secondary_payment(given).paid == D("30.00")


def explain(tmp_path: Path, case: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "explain", "payment", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_cob_explain_payment_pays_30_on_msp_1_entered_without_cas(tmp_path: Path) -> None:
    case = json.loads((ROOT / "examples/explain/payment-medicare-secondary.json").read_text())
    case["prior_payers"][0]["adjustments"] = []
    result = explain(tmp_path, case)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["open_balance"] == "30.00" and answer["paid"] == "30.00"


def test_cob_explain_payment_refuses_paid_above_allowed_naming_the_field(tmp_path: Path) -> None:
    case = json.loads((ROOT / "examples/explain/payment-medicare-secondary.json").read_text())
    case["prior_payers"][0].update(adjustments=[], allowed="100.00")
    result = explain(tmp_path, case)
    assert result.returncode == 2
    assert "prior_payers[0].paid 120.00 is more than" in result.stderr
