"""The patient statement's terms (cob.statements): held while a payer has not adjudicated,
sent only when something is owed, due 30 days after the statement date, and what the patient
owes labelled by the last payer's PR reasons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cob.model import Adjustment, LineAdjudication, Remittance
from cob.statements import payment_due, responsibility_by_kind, statement_due, statement_held

D = Decimal


def remittance(payer_id: str, *lines: tuple[int, list[tuple[str, str, str]]]) -> Remittance:
    return Remittance(
        claim_control_number="ENC-1-1", payer_id=payer_id, member_id="M1",
        payer_claim_number=f"{payer_id}-1", payer_sequence=1, status="1",
        adjudication_date=date(2026, 3, 2),
        lines=[
            LineAdjudication(
                line_number=number, procedure_code="99213", charge=D("100.00"),
                allowed=D("100.00"), paid=D("0.00"),
                adjustments=[Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in cas],
            )
            for number, cas in lines
        ],
    )  # fmt: skip


def test_the_first_statement_is_due_30_days_after_its_date():
    assert payment_due(date(2026, 1, 5)) == date(2026, 2, 4)


def test_a_payer_with_no_835_holds_the_statement():
    assert statement_held(None)
    assert not statement_held(remittance("ACME01", (1, [("PR", "2", "10.00")])))


def test_a_statement_is_sent_only_when_the_patient_owes_something():
    assert not statement_due(D("0.00"))
    assert statement_due(D("0.01"))


def test_the_patients_share_is_labelled_by_the_last_payers_pr_reasons():
    primary = remittance("ACME01", (1, [("PR", "1", "20.00"), ("PR", "2", "10.00")]))
    secondary = remittance("BCBS01", (1, [("OA", "23", "70.00"), ("PR", "2", "5.00"),
                                          ("PR", "96", "3.00")]))  # fmt: skip
    assert responsibility_by_kind([primary, secondary], 1) == {
        "coinsurance": D("5.00"), "not covered": D("3.00"),
    }  # fmt: skip


def test_a_line_the_later_payer_did_not_adjudicate_keeps_the_earlier_payers_labels():
    primary = remittance("ACME01", (1, [("PR", "2", "4.00")]), (2, [("PR", "3", "25.00")]))
    secondary = remittance("BCBS01", (1, [("PR", "2", "1.00")]))
    assert responsibility_by_kind([primary, secondary], 2) == {"copay": D("25.00")}
