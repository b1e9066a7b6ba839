"""What a patient statement says (cob.patient_statement): every open date of service with its
payers by name, the patient's share by kind, the step's notices, and amounts that add up or
no statement at all."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from cob.accounts import AccountLine, PatientPayment, apply_payment, write_off
from cob.dunning import DunningStep, PracticePolicy
from cob.patient_statement import (
    GoodFaithEstimate,
    ProviderContact,
    Statement,
    UnreconciledStatement,
    build_statement,
    check_statement,
    notices,
)

D = Decimal
PROVIDER = ProviderContact(
    name="Riverside Family Medicine", address="120 Main St, Hartford, CT 06103",
    phone="(860) 555-0142", portal_url="pay.riversidefm.example", hours="Mon-Fri 8am-5pm",
)  # fmt: skip
NAMES = {"ACME01": "Acme Health PPO", "BLUE02": "Bluestone Health Plan"}


def line(encounter: str, day: date, number: int, charge: str, paid: dict[str, str],
         adjusted: str, share: dict[str, str]) -> AccountLine:  # fmt: skip
    return AccountLine(
        encounter_id=encounter, service_date=day, line_number=number, procedure_code="99213",
        charge=D(charge), paid_by_payer={k: D(v) for k, v in paid.items()},
        payer_adjustments=D(adjusted), responsibility={k: D(v) for k, v in share.items()},
    )  # fmt: skip


def statement(lines: list[AccountLine], step: DunningStep = DunningStep.STATEMENT,
              policy: PracticePolicy | None = None, **extra: object) -> Statement:  # fmt: skip
    given: dict = {
        "account_id": "A-1", "guarantor": "Maria Lopez",
        "patients": {ln.encounter_id: "Maria Lopez" for ln in lines}, "provider": PROVIDER,
        "lines": lines, "payer_names": NAMES, "payments": [], "previous_statement_date": None,
        "previous_balance": D("0.00"), "first_billed": {}, "statement_date": date(2026, 1, 5),
        "due_date": date(2026, 2, 4), "step": step, "policy": policy or PracticePolicy(),
    }  # fmt: skip
    return build_statement(**{**given, **extra})


VISIT = line("ENC-1", date(2025, 11, 3), 1, "250.00", {"ACME01": "120.00", "BLUE02": "30.00"},
             "70.00", {"coinsurance": "20.00", "deductible": "10.00"})  # fmt: skip


def test_a_line_shows_each_payer_by_name_in_order_and_the_share_by_kind():
    first = statement([VISIT]).encounters[0].lines[0]
    assert [(p.payer_name, p.amount) for p in first.paid_by_payers] == [
        ("Acme Health PPO", D("120.00")), ("Bluestone Health Plan", D("30.00")),
    ]  # fmt: skip
    assert list(first.patient_share.items()) == [
        ("deductible", D("10.00")), ("coinsurance", D("20.00")),
    ]  # fmt: skip
    assert (first.adjustments, first.balance) == (D("70.00"), D("30.00"))


def test_two_encounters_are_one_statement_oldest_date_of_service_first():
    later = line("ENC-2", date(2025, 12, 10), 1, "180.00", {"ACME01": "90.00"}, "75.00",
                 {"copay": "15.00"})  # fmt: skip
    made = statement([later, VISIT], patients={"ENC-1": "Maria Lopez", "ENC-2": "Daniel Lopez"})
    assert [s.encounter_id for s in made.encounters] == ["ENC-1", "ENC-2"]
    assert made.patients == ["Maria Lopez", "Daniel Lopez"]
    assert made.amount_due == D("45.00")


def test_a_settled_encounter_is_left_off_and_a_settled_line_stays_beside_an_open_one():
    paid_up = line("ENC-0", date(2025, 10, 1), 1, "100.00", {"ACME01": "100.00"}, "0.00", {})
    settled = line("ENC-1", date(2025, 11, 3), 2, "40.00", {"ACME01": "40.00"}, "0.00", {})
    made = statement([paid_up, VISIT, settled])
    assert [s.encounter_id for s in made.encounters] == ["ENC-1"]
    assert [ln.line_number for ln in made.encounters[0].lines] == [1, 2]


def test_payments_since_the_last_statement_and_the_summary_reconcile():
    """Statement 1 billed 30.00 on 2026-01-05; 12.50 paid on 01-20 and a later one in March:
    the past-due notice of 02-04 shows 30.00 - 12.50 = 17.50, and the activity is nothing."""
    early = PatientPayment(payment_id="P0", amount=D("5.00"), received_on=date(2026, 1, 2),
                           method="cash")  # fmt: skip
    paid = PatientPayment(payment_id="P1", amount=D("12.50"), received_on=date(2026, 1, 20),
                          method="card")  # fmt: skip
    later = PatientPayment(payment_id="P2", amount=D("1.00"), received_on=date(2026, 3, 1),
                           method="check")  # fmt: skip
    lines, credit, _ = apply_payment([VISIT], D("0.00"), paid)
    made = statement(lines, DunningStep.PAST_DUE, payments=[later, paid, early],
                     previous_statement_date=date(2026, 1, 5), previous_balance=D("30.00"),
                     statement_date=date(2026, 2, 4), due_date=date(2026, 3, 6))  # fmt: skip
    assert [(p.received_on, p.amount) for p in made.payments] == [(date(2026, 1, 20), D("12.50"))]
    assert (made.previous_balance, made.payments_total, made.activity, made.amount_due) == (
        D("30.00"), D("12.50"), D("0.00"), D("17.50"),
    )  # fmt: skip


def test_aging_counts_from_the_date_each_encounter_was_first_billed():
    later = line("ENC-2", date(2025, 12, 10), 1, "180.00", {"ACME01": "90.00"}, "75.00",
                 {"copay": "15.00"})  # fmt: skip
    made = statement([VISIT, later], first_billed={"ENC-1": date(2025, 11, 20)},
                     statement_date=date(2026, 1, 5))  # fmt: skip
    # ENC-1: 46 days since 2025-11-20; ENC-2 is billed by this statement
    assert made.aging == {"current": D("15.00"), "31-60": D("30.00"), "61-90": D("0.00"),
                          "91+": D("0.00")}  # fmt: skip


def test_write_offs_show_with_their_reasons_and_lower_the_balance():
    lines, _ = write_off([VISIT], "financial_assistance", D("20.00"))
    first = statement(lines).encounters[0].lines[0]
    assert (first.write_offs, first.balance) == ({"financial_assistance": D("20.00")}, D("10.00"))


def titles(made: Statement) -> list[str]:
    return [notice.title for notice in notices(made)]


def test_every_statement_says_how_to_pay_where_to_get_help_and_the_surprise_billing_rights():
    made = statement([VISIT])
    assert titles(made) == [
        "How to pay", "Financial assistance", "Questions or disputes",
        "Your rights and protections against surprise medical bills",
    ]  # fmt: skip
    text = " ".join(n.text for n in notices(made))
    assert "itemized bill" in text and "1-800-985-3059" in text
    assert "not a bill" not in text.lower()


def test_the_second_notice_offers_a_payment_plan_from_the_practices_minimum_installment():
    made = statement(
        [VISIT], DunningStep.SECOND_NOTICE, PracticePolicy(plan_min_installment=D("25.00"))
    )
    plan = next(n for n in notices(made) if n.title == "Payment plan")
    assert "$25.00 or more" in plan.text
    assert "Payment plan" not in titles(statement([VISIT], DunningStep.PAST_DUE))


def test_no_plan_is_offered_on_a_balance_under_one_installment():
    made = statement(
        [VISIT], DunningStep.SECOND_NOTICE, PracticePolicy(plan_min_installment=D("30.00"))
    )
    assert made.plan_min_installment is None


def test_the_final_notice_names_the_collections_date():
    made = statement([VISIT], DunningStep.FINAL_NOTICE, collections_on=date(2026, 5, 5))
    final = next(n for n in notices(made) if n.title == "Final notice")
    assert final.conspicuous and "May 5, 2026" in final.text and "collection agency" in final.text
    assert "credit reporting" not in final.text  # off by default


def test_a_final_notice_without_its_date_is_refused():
    with pytest.raises(ValueError, match="collections_on"):
        statement([VISIT], DunningStep.FINAL_NOTICE)


def test_a_nonprofit_hospitals_notice_is_conspicuous_and_names_the_application_deadline():
    """26 CFR 1.501(r): first statement 2026-01-05, applications taken until 2026-09-02."""
    policy = PracticePolicy(nonprofit_hospital=True, financial_assistance_phone="(860) 555-0190",
                            financial_assistance_url="riversidefm.example/help")  # fmt: skip
    made = statement([VISIT], DunningStep.FINAL_NOTICE, policy, collections_on=date(2026, 5, 5),
                     assistance_deadline=date(2026, 9, 2))  # fmt: skip
    help_ = next(n for n in notices(made) if n.title == "Financial assistance")
    assert help_.conspicuous
    assert "September 2, 2026" in help_.text and "(860) 555-0190" in help_.text
    assert "plain-language summary" in help_.text


def test_the_prompt_pay_discount_is_offered_on_the_first_statement_only():
    policy = PracticePolicy(prompt_pay_discount_percent=D("10"))
    made = statement([VISIT], policy=policy)
    assert made.prompt_pay_amount == D("27.00")
    assert "$27.00" in notices(made)[0].text and "February 4, 2026" in notices(made)[0].text
    assert statement([VISIT], DunningStep.PAST_DUE, policy).prompt_pay_amount is None


SELF_PAY = line("ENC-9", date(2026, 1, 2), 1, "1000.00", {}, "0.00", {"not covered": "1000.00"})


def test_a_self_pay_bill_400_over_its_good_faith_estimate_names_the_dispute_deadline():
    """45 CFR 149.620: billed 1,000.00 against an estimate of 600.00, bill dated 2026-01-15:
    dispute by 2026-05-15."""
    made = statement([SELF_PAY], estimates={"ENC-9": GoodFaithEstimate(reference="GFE-77",
                     total=D("600.00"))}, first_billed={"ENC-9": date(2026, 1, 15)},
                     statement_date=date(2026, 1, 15))  # fmt: skip
    assert made.encounters[0].estimate is not None
    assert made.encounters[0].estimate.dispute_by == date(2026, 5, 15)
    gfe = next(n for n in notices(made) if n.title == "Your Good Faith Estimate")
    assert "GFE-77" in gfe.text and "May 15, 2026" in gfe.text and "$400.00" in gfe.text
    assert "$25.00 fee" in gfe.text


def test_a_self_pay_bill_under_400_over_its_estimate_cites_it_without_a_deadline():
    made = statement([SELF_PAY], estimates={"ENC-9": GoodFaithEstimate(reference="GFE-78",
                     total=D("600.01"))})  # fmt: skip
    assert made.encounters[0].estimate is not None
    assert made.encounters[0].estimate.dispute_by is None
    gfe = next(n for n in notices(made) if n.title == "Your Good Faith Estimate")
    assert "GFE-78" in gfe.text and "at least $400.00 more" in gfe.text


def test_a_statement_whose_amounts_do_not_add_up_is_refused():
    made = statement([VISIT])
    with pytest.raises(UnreconciledStatement, match="amount due"):
        check_statement(made.model_copy(update={"amount_due": D("29.99")}))
    wrong = made.model_copy(deep=True)
    wrong.encounters[0].lines[0].adjustments = D("70.01")
    with pytest.raises(UnreconciledStatement, match="encounter ENC-1 line 1 charge"):
        check_statement(wrong)
    skewed = made.model_copy(update={"aging": {"current": D("29.00"), "91+": D("0.00")}})
    with pytest.raises(UnreconciledStatement, match="aging"):
        check_statement(skewed)


def test_an_account_that_owes_nothing_gets_no_statement():
    paid_up = line("ENC-0", date(2025, 10, 1), 1, "100.00", {"ACME01": "100.00"}, "0.00", {})
    with pytest.raises(ValueError, match="owes nothing"):
        statement([paid_up])


def test_a_collection_step_is_not_a_statement():
    with pytest.raises(ValueError, match="collections"):
        statement([VISIT], DunningStep.COLLECTIONS)


def test_a_name_the_statement_cannot_print_fails_naming_its_field():
    with pytest.raises(ValidationError, match="hours"):
        ProviderContact(name="Riverside", address="1 Main St, Hartford, CT 06103",
                        phone="(860) 555-0142", hours="Mon\u2013Fri")  # fmt: skip
