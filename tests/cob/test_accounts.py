"""The patient account's money (cob.accounts): payments oldest date of service first unless
designated, overpayments to credit, a late payer payment freeing what the patient paid, write-offs
with their reasons, aging from the first bill; and, under hypothesis, the extended invariant
through any sequence of them: every line balances to the cent with a balance never negative,
and every patient dollar received is on a line, in the credit or refunded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cob.accounts import (
    AccountLine,
    Applied,
    PatientPayment,
    account_balance,
    account_lines,
    aging,
    apply_credit,
    apply_payment,
    check_account,
    check_line,
    line_balance,
    patient_share,
    repost_line,
    write_off,
)
from cob.model import Adjustment, LineAdjudication, Remittance
from cob.money import CENT, ZERO, UnbalancedLine, account_line, cents

D = Decimal


def account_line_of(
    encounter_id: str,
    service_date: date,
    number: int,
    charge: str,
    paid: str,
    adjusted: str,
    **responsibility: str,
) -> AccountLine:
    return AccountLine(
        encounter_id=encounter_id, service_date=service_date, line_number=number,
        procedure_code="99213", charge=D(charge), paid_by_payer={"ACME01": D(paid)},
        payer_adjustments=D(adjusted), responsibility={k: D(v) for k, v in responsibility.items()},
    )  # fmt: skip


def payment(amount: str, encounter_id: str | None = None) -> PatientPayment:
    return PatientPayment(
        payment_id=f"PAY-{amount}", amount=D(amount), received_on=date(2026, 2, 1),
        method="card", reference="4242", encounter_id=encounter_id,
    )  # fmt: skip


# Two encounters: E-OLD on 2025-11-03 owes 30.00 on line 1 and 20.00 on line 2; E-NEW on
# 2025-12-10 owes 40.00 on its one line.
OLD_1 = account_line_of("E-OLD", date(2025, 11, 3), 1, "200.00", "120.00", "50.00",
                        deductible="20.00", coinsurance="10.00")  # fmt: skip
OLD_2 = account_line_of(
    "E-OLD", date(2025, 11, 3), 2, "80.00", "48.00", "12.00", coinsurance="20.00"
)
NEW_1 = account_line_of("E-NEW", date(2025, 12, 10), 1, "150.00", "90.00", "20.00", copay="40.00")
ACCOUNT = [NEW_1, OLD_1, OLD_2]


def balances(lines: list[AccountLine]) -> dict[tuple[str, int], Decimal]:
    return {(line.encounter_id, line.line_number): line.balance for line in lines}


def test_a_line_owes_its_share_less_what_was_paid_and_written_off():
    line = OLD_1.model_copy(
        update={"patient_paid": D("12.00"), "write_offs": {"prompt_pay": D("3.00")}}
    )
    assert patient_share(line) == D("30.00")
    assert line_balance(line) == D("15.00")
    check_line(line)


def test_a_payment_goes_to_the_oldest_date_of_service_first_line_by_line():
    lines, credit, applied = apply_payment(ACCOUNT, ZERO, payment("45.00"))
    assert applied == [Applied("E-OLD", 1, D("30.00")), Applied("E-OLD", 2, D("15.00"))]
    assert balances(lines) == {
        ("E-NEW", 1): D("40.00"),
        ("E-OLD", 1): ZERO,
        ("E-OLD", 2): D("5.00"),
    }
    assert credit == ZERO
    assert [line.encounter_id for line in lines] == ["E-NEW", "E-OLD", "E-OLD"]  # order kept


def test_a_designated_payment_goes_to_its_encounter_then_to_the_oldest_balance():
    lines, credit, applied = apply_payment(ACCOUNT, ZERO, payment("50.00", "E-NEW"))
    assert applied == [Applied("E-NEW", 1, D("40.00")), Applied("E-OLD", 1, D("10.00"))]
    assert account_balance(lines) == D("40.00")
    assert credit == ZERO


def test_a_payment_designated_to_a_settled_encounter_pays_the_others():
    settled, _, _ = apply_payment(ACCOUNT, ZERO, payment("40.00", "E-NEW"))
    _, _, applied = apply_payment(settled, ZERO, payment("5.00", "E-NEW"))
    assert applied == [Applied("E-OLD", 1, D("5.00"))]


def test_an_overpayment_becomes_credit_never_dropped():
    lines, credit, applied = apply_payment(ACCOUNT, D("1.00"), payment("100.00"))
    assert account_balance(lines) == ZERO
    assert sum(part.amount for part in applied) == D("90.00")
    assert credit == D("11.00")  # the 1.00 already there and 10.00 beyond every balance
    check_account(lines, credit, [payment("1.00"), payment("100.00")], refunded=ZERO)


def test_applying_leaves_the_inputs_as_they_were():
    before = [line.model_copy(deep=True) for line in ACCOUNT]
    apply_payment(ACCOUNT, ZERO, payment("90.00"))
    write_off(ACCOUNT, "financial_assistance")
    repost_line(OLD_1, {"ACME01": D("150.00")}, D("50.00"), {})
    assert ACCOUNT == before


def test_a_late_secondary_payment_after_the_patient_paid_frees_a_refund():
    # the patient paid the 30.00 the primary left; the secondary then pays 25.00 and leaves 5.00
    paid = OLD_1.model_copy(update={"patient_paid": D("30.00")})
    line, freed = repost_line(
        paid, {"ACME01": D("120.00"), "MCARE": D("25.00")}, D("50.00"), {"coinsurance": D("5.00")}
    )
    assert freed == D("25.00")
    assert line.patient_paid == D("5.00")
    assert line.balance == ZERO
    check_line(line)


def test_freed_money_pays_another_open_balance_before_a_refund():
    lines, credit, applied = apply_credit(ACCOUNT, D("25.00"))
    assert applied == [Applied("E-OLD", 1, D("25.00"))]
    assert credit == ZERO
    lines, credit, _ = apply_credit(lines, D("100.00"))
    assert account_balance(lines) == ZERO
    assert credit == D("35.00")  # to refund


def test_a_smaller_share_takes_back_the_write_offs_before_what_the_patient_paid():
    write_offs = {"prompt_pay": D("2.00"), "small_balance": D("4.00")}
    line = OLD_1.model_copy(update={"patient_paid": D("20.00"), "write_offs": write_offs})
    # a late payment leaves the patient 21.00 of the 30.00: the small-balance write-off (latest)
    # goes, then 3.00 of the prompt-pay discount; what the patient paid stays
    reposted, freed = repost_line(
        line, {"ACME01": D("129.00")}, D("50.00"), {"deductible": D("21.00")}
    )
    assert freed == ZERO
    assert reposted.write_offs == {"prompt_pay": D("1.00")}
    assert reposted.balance == ZERO
    # and when the share falls below what the patient paid, every write-off goes first
    reposted, freed = repost_line(
        line, {"ACME01": D("135.00")}, D("50.00"), {"deductible": D("15.00")}
    )
    assert (reposted.write_offs, reposted.patient_paid, freed) == ({}, D("15.00"), D("5.00"))


def test_a_reversal_that_raises_the_share_raises_the_balance():
    paid = OLD_1.model_copy(update={"patient_paid": D("30.00")})
    reversed_line, freed = repost_line(
        paid, {"ACME01": ZERO}, D("50.00"), {"not covered": D("150.00")}
    )
    assert freed == ZERO
    assert reversed_line.balance == D("120.00")


def test_a_repost_that_does_not_make_the_charge_is_refused():
    with pytest.raises(UnbalancedLine, match="encounter E-OLD line 1"):
        repost_line(OLD_1, {"ACME01": D("125.00")}, D("50.00"), {"deductible": D("20.00")})


def test_write_offs_carry_their_reason_and_never_exceed_the_balance():
    lines, applied = write_off(ACCOUNT, "small_balance", encounter_id="E-OLD")
    assert applied == [Applied("E-OLD", 1, D("30.00")), Applied("E-OLD", 2, D("20.00"))]
    assert lines[1].write_offs == {"small_balance": D("30.00")}
    assert account_balance(lines) == D("40.00")
    lines, _ = write_off(lines, "prompt_pay", D("4.00"))
    assert lines[0].write_offs == {"prompt_pay": D("4.00")}
    with pytest.raises(ValueError, match="the open balance is 36.00"):
        write_off(lines, "financial_assistance", D("36.01"))


def test_aging_counts_days_from_the_first_bill_to_the_patient():
    first_billed = {"E-OLD": date(2026, 1, 5), "E-NEW": date(2026, 2, 4)}
    assert aging(ACCOUNT, first_billed, date(2026, 3, 6)) == {
        "current": D("40.00"),
        "31-60": D("50.00"),
        "61-90": ZERO,
        "91+": ZERO,
    }  # fmt: skip  (E-OLD is 60 days old, E-NEW 30)
    assert aging(ACCOUNT, first_billed, date(2026, 3, 7)) == {
        "current": ZERO, "31-60": D("40.00"), "61-90": D("50.00"), "91+": ZERO,
    }  # fmt: skip
    assert aging(ACCOUNT, {"E-OLD": date(2026, 1, 5)}, date(2026, 4, 6))["91+"] == D("50.00")
    assert aging(ACCOUNT, {}, date(2026, 4, 6))["current"] == D("90.00")  # not billed yet


def test_an_unbalanced_line_names_its_encounter_and_line():
    with pytest.raises(UnbalancedLine, match="encounter E-OLD line 2: charge 80.00"):
        check_line(OLD_2.model_copy(update={"payer_adjustments": D("13.00")}))
    with pytest.raises(UnbalancedLine, match="beyond the patient's share"):
        check_line(OLD_2.model_copy(update={"patient_paid": D("20.01")}))
    with pytest.raises(UnbalancedLine, match="not exact to the cent"):
        check_line(OLD_2.model_copy(update={"patient_paid": D("0.005")}))


def test_a_payment_is_positive_and_exact_to_the_cent():
    for amount in ("0", "-5.00", "10.005"):
        with pytest.raises(ValidationError):
            payment(amount)


def test_the_account_survives_a_round_trip_through_json():
    """The account's workflow keeps lines and payments in its state, as JSON payloads."""
    line = OLD_1.model_copy(update={"patient_paid": D("5.00"), "write_offs": {"nsa": D("1.00")}})
    assert AccountLine.model_validate_json(line.model_dump_json()) == line
    paid = payment("5.00").model_copy(update={"applied": [Applied("E-OLD", 1, D("5.00"))]})
    assert PatientPayment.model_validate_json(paid.model_dump_json()) == paid


# ---- a closed encounter's lines onto the account ---------------------------------------------


def cas(group: str, reason: str, amount: str) -> Adjustment:
    return Adjustment(group=group, reason=reason, amount=D(amount))


def remittance(payer_id: str, sequence: int, paid: str, *adjustments: Adjustment) -> Remittance:
    line = LineAdjudication(
        line_number=1, procedure_code="99213", charge=D("200.00"), allowed=D("150.00"),
        paid=D(paid), adjustments=list(adjustments),
    )  # fmt: skip
    return Remittance(
        claim_control_number=f"ENC-1-{sequence}", payer_id=payer_id, member_id="M1",
        payer_claim_number=f"{payer_id}-1", payer_sequence=sequence, status=str(sequence),
        adjudication_date=date(2026, 3, 2), lines=[line],
    )  # fmt: skip


def test_an_encounter_closed_by_two_payers_lands_on_the_account_split_by_kind():
    primary = remittance(
        "ACME01", 1, "120.00", cas("CO", "45", "50.00"), cas("PR", "1", "20.00"),
        cas("PR", "2", "10.00"),
    )  # fmt: skip
    secondary = remittance("MGAP01", 2, "25.00", cas("OA", "23", "170.00"), cas("PR", "2", "5.00"))
    accounts = [account_line(1, "99213", D("200.00"), [primary, secondary])]
    [line] = account_lines("ENC-1", date(2026, 2, 10), accounts, [primary, secondary])
    assert line.paid_by_payer == {"ACME01": D("120.00"), "MGAP01": D("25.00")}
    assert list(line.paid_by_payer) == ["ACME01", "MGAP01"]  # primary first
    assert line.payer_adjustments == D("50.00")
    assert line.responsibility == {"coinsurance": D("5.00")}
    assert (line.encounter_id, line.service_date) == ("ENC-1", date(2026, 2, 10))
    assert line.balance == D("5.00")


def test_a_self_pay_line_is_the_patients_whole_charge_not_covered():
    accounts = [account_line(1, "99213", D("200.00"), [])]
    [line] = account_lines("ENC-2", date(2026, 2, 10), accounts, [])
    assert (line.paid_by_payer, line.responsibility) == ({}, {"not covered": D("200.00")})


# ---- the extended invariant, under hypothesis --------------------------------------------------

amounts = st.decimals(min_value=D("0.01"), max_value=D("2000"), places=2)
fractions = st.decimals(min_value=D("0"), max_value=D("1"), places=2)
ENCOUNTERS = ["E1", "E2", "E3"]


def split(
    charge: Decimal, cuts: tuple[Decimal, ...], two_payers: bool
) -> tuple[dict[str, Decimal], Decimal, dict[str, Decimal]]:
    """A payer side and a patient share that make the charge, cut at four fractions: paid by
    one or two payers, adjusted, and the rest the patient's deductible and coinsurance."""
    first, second, third = sorted(cents(charge * cut) for cut in cuts[:3])
    share = charge - third
    deductible = cents(share * cuts[3])
    paid = {"ACME01": first, "MCARE": second - first} if two_payers else {"ACME01": second}
    return paid, third - second, {"deductible": deductible, "coinsurance": share - deductible}


cuts = st.tuples(fractions, fractions, fractions, fractions)


@st.composite
def accounts(draw) -> list[AccountLine]:
    lines = []
    for encounter_id in draw(
        st.lists(st.sampled_from(ENCOUNTERS), min_size=1, max_size=3, unique=True)
    ):
        service_date = date(2025, draw(st.integers(1, 12)), 1)
        for number in range(1, draw(st.integers(1, 3)) + 1):
            charge = draw(amounts)
            paid, adjusted, responsibility = split(charge, draw(cuts), draw(st.booleans()))
            lines.append(AccountLine(
                encounter_id=encounter_id, service_date=service_date, line_number=number,
                procedure_code="99213", charge=charge, paid_by_payer=paid,
                payer_adjustments=adjusted, responsibility=responsibility,
            ))  # fmt: skip
    return lines


designated = st.none() | st.sampled_from(ENCOUNTERS)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), amounts, designated),
        st.tuples(st.just("repost"), st.integers(0, 8), cuts, st.booleans()),
        st.tuples(
            st.just("write_off"),
            st.sampled_from(["prompt_pay", "small_balance", "financial_assistance"]),
            st.none() | fractions,
            designated,
        ),
        st.tuples(st.just("apply_credit")),
        st.tuples(st.just("refund"), fractions),
    ),
    max_size=25,
)


@settings(max_examples=400, deadline=None)
@given(lines=accounts(), steps=steps)
def test_money_is_never_created_or_lost_through_any_sequence(lines, steps):
    charges = [line.charge for line in lines]
    credit, refunded, payments = ZERO, ZERO, []
    for step in steps:
        if step[0] == "pay":
            paid = payment(str(step[1]), step[2]).model_copy(
                update={"payment_id": f"P{len(payments)}"}
            )
            before = account_balance(lines)
            lines, new_credit, applied = apply_payment(lines, credit, paid)
            assert all(part.amount > ZERO for part in applied)
            assert sum(part.amount for part in applied) + (new_credit - credit) == paid.amount
            assert before - account_balance(lines) == sum(part.amount for part in applied)
            credit = new_credit
            payments.append(paid)
        elif step[0] == "repost":
            i = step[1] % len(lines)
            old = lines[i]
            lines[i], freed = repost_line(old, *split(old.charge, step[2], step[3]))
            assert freed >= ZERO
            assert old.patient_paid - lines[i].patient_paid == freed
            assert all(lines[i].write_offs.get(r, ZERO) <= v for r, v in old.write_offs.items())
            assert set(lines[i].write_offs) <= set(old.write_offs)
            credit += freed
        elif step[0] == "write_off":
            _, reason, fraction, encounter_id = step
            owed = account_balance([ln for ln in lines if encounter_id in (None, ln.encounter_id)])
            amount = None if fraction is None else cents(owed * fraction)
            before = account_balance(lines)
            lines, applied = write_off(lines, reason, amount, encounter_id)
            expected = owed if amount is None else amount
            assert (
                sum((part.amount for part in applied), ZERO)
                == before - account_balance(lines)
                == expected
            )
        elif step[0] == "apply_credit":
            before = account_balance(lines)
            lines, new_credit, applied = apply_credit(lines, credit)
            assert credit - new_credit == before - account_balance(lines)
            assert new_credit == ZERO or account_balance(lines) == ZERO
            credit = new_credit
        else:
            refund = cents(credit * step[1])
            credit, refunded = credit - refund, refunded + refund
        assert [line.charge for line in lines] == charges
        assert all(line.balance >= ZERO for line in lines) and credit >= ZERO
        assert (
            all(line.patient_paid == cents(line.patient_paid) for line in lines)
            and credit % CENT == 0
        )
        check_account(lines, credit, payments, refunded)
