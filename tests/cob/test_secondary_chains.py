"""Tertiary and further payers (industry practice; no rule found for a third payer): prior paid is the sum of every earlier payer's
payment, prior allowed the highest earlier allowed. Named cases, then properties over chains
of 1 to 5 payers with any methods, balanced to the cent with cob.money.account_line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from cob.benefits import (
    PriorPayment,
    SecondaryPayment,
    SecondaryPaymentCase,
    plan_benefit,
    secondary_payment,
)
from cob.model import Adjustment, CobMethod, LineAdjudication, Remittance
from cob.money import ZERO, account_line, cents


def cas(*group_reason_amounts: tuple[str, str, str]) -> list[Adjustment]:
    return [Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in group_reason_amounts]


def later(method: CobMethod, charge: str, prior: list[PriorPayment], **terms) -> SecondaryPayment:
    return secondary_payment(
        SecondaryPaymentCase(method=method, charge=D(charge), prior_payers=prior, **terms)
    )


def test_tertiary_standard_counts_both_earlier_payments_and_the_highest_allowed():
    first = PriorPayment(
        payer_id="P1",
        allowed=D("800.00"),
        paid=D("500.00"),
        adjustments=cas(("CO", "45", "200.00"), ("PR", "2", "300.00")),
    )
    # the second payer, non-dup: its normal benefit 700 x 80% = 560, minus 500 paid = 60
    second = later(CobMethod.NON_DUPLICATION, "1000.00", [first], own_allowed=D("700.00"),
                   own_coinsurance=D("0.20"))  # fmt: skip
    assert (second.paid, second.patient_responsibility) == (D("60.00"), D("240.00"))
    second_line = PriorPayment(
        payer_id="P2",
        allowed=D("700.00"),
        paid=second.paid,
        adjustments=cas(("OA", "23", "700.00"), ("PR", "2", "240.00")),
    )
    # the third, standard: normal benefit 480; allowable max(600, 800, 700) = 800; 800 - 560 = 240
    third = later(CobMethod.STANDARD, "1000.00", [first, second_line], own_allowed=D("600.00"),
                  own_coinsurance=D("0.20"))  # fmt: skip
    steps = {step.name: (step.amount, step.formula) for step in third.steps}
    assert steps["allowable expense - prior paid"] == (D("240.00"), "max(600.00, 800.00) - 560.00")
    assert (third.paid, third.write_off, third.patient_responsibility) == (
        D("240.00"),
        D("0.00"),
        D("0.00"),
    )


def test_medicare_as_tertiary_sums_the_earlier_payments():
    # charge 300: the first payer allowed 190, paid 150, left 40; the second allowed 160, paid
    # 10, left 30. Medicare allows 150: (1) 300 - 160 = 140, (2) 150 x 80% = 120,
    # (3) max(150, 190) - 160 = 30 -> 30
    prior = [
        PriorPayment(payer_id="P1", allowed=D("190.00"), paid=D("150.00"),
                     adjustments=cas(("CO", "45", "110.00"), ("PR", "2", "40.00"))),
        PriorPayment(payer_id="P2", allowed=D("160.00"), paid=D("10.00"),
                     adjustments=cas(("OA", "23", "260.00"), ("PR", "2", "30.00"))),
    ]  # fmt: skip
    answer = later(CobMethod.MEDICARE_SECONDARY, "300.00", prior, own_allowed=D("150.00"))
    assert [step.amount for step in answer.steps] == [
        D("140.00"),
        D("120.00"),
        D("30.00"),
        D("30.00"),
    ]
    assert answer.paid == D("30.00") and answer.deciding_step.citation == "42 CFR 411.33(a)(3)"
    assert answer.patient_responsibility == D("0.00")


def test_medicaid_third_writes_off_the_deductible_medigap_left():
    # Medicare paid 64 of 130 (PR-1 50, PR-2 16); Medigap paid the 16; Medicaid allows 64.40,
    # less the 80 already paid: nothing more, and the 50 is written off, not billed
    medicare = PriorPayment(payer_id="MCARE", allowed=D("130.00"), paid=D("64.00"),
                            adjustments=cas(("CO", "45", "30.00"), ("PR", "1", "50.00"),
                                            ("PR", "2", "16.00")))  # fmt: skip
    medigap = later(CobMethod.SUPPLEMENT, "160.00", [medicare], own_allowed=D("130.00"))
    assert (medigap.paid, medigap.patient_responsibility) == (D("16.00"), D("50.00"))
    medigap_line = PriorPayment(payer_id="MGAP01", allowed=D("130.00"), paid=medigap.paid,
                                adjustments=cas(("OA", "23", "94.00"), ("PR", "1", "50.00")))  # fmt: skip
    medicaid = later(
        CobMethod.MEDICAID_LESSER_OF, "160.00", [medicare, medigap_line], own_allowed=D("64.40")
    )
    assert (medicaid.paid, medicaid.write_off, medicaid.patient_responsibility) == (
        D("0.00"),
        D("50.00"),
        D("0.00"),
    )


# --- properties: any chain of payers ------------------------------------------------------

amounts = st.decimals(min_value=D("0"), max_value=D("3000"), places=2)
shares = st.decimals(min_value=D("0"), max_value=D("1"), places=2)
payer_terms = st.fixed_dictionaries(
    {
        "method": st.sampled_from(list(CobMethod)),
        "allowed_share": shares,  # of the charge
        "deductible": st.just(D("0")) | amounts,
        "coinsurance": shares,
        "copay": st.sampled_from([D("0"), D("20.00"), D("45.00")]),
        "credit_reserve": amounts,
        "otaf_share": st.none() | shares,  # OTAF as a share of the charge
        "part": st.sampled_from(["A", "B"]),
        "medicare_pct": st.sampled_from([D("0.80"), D("0.625"), D("1.00")]),
    }
)
charges = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)


def remittance(payer_id: str, sequence: int, line: LineAdjudication) -> Remittance:
    return Remittance(
        claim_control_number="CHAIN1",
        payer_id=payer_id,
        member_id="M1",
        payer_claim_number=f"{payer_id}-1",
        payer_sequence=sequence,
        status="1" if sequence == 1 else "2",
        adjudication_date=date(2026, 10, 1),
        lines=[line],
    )


def primary_line(charge: D, allowed: D, terms: dict) -> LineAdjudication:
    benefit = plan_benefit(allowed, terms["deductible"], terms["coinsurance"], terms["copay"])
    adjustments = [
        Adjustment(group="CO", reason="45", amount=charge - allowed),
        Adjustment(group="PR", reason="1", amount=benefit.deductible),
        Adjustment(group="PR", reason="3", amount=benefit.copay),
        Adjustment(group="PR", reason="2", amount=benefit.coinsurance),
    ]
    return LineAdjudication(line_number=1, procedure_code="99213", charge=charge,
                            allowed=allowed, paid=benefit.paid, adjustments=adjustments)  # fmt: skip


def later_line(charge: D, allowed: D, answer: SecondaryPayment) -> LineAdjudication:
    deductible = min(answer.patient_responsibility, answer.normal_benefit.deductible)
    adjustments = [
        Adjustment(group="OA", reason="23", amount=charge - answer.open_balance),
        Adjustment(group="CO", reason="45", amount=answer.write_off),
        Adjustment(group="PR", reason="1", amount=deductible),
        Adjustment(group="PR", reason="2", amount=answer.patient_responsibility - deductible),
    ]
    return LineAdjudication(line_number=1, procedure_code="99213", charge=charge,
                            allowed=allowed, paid=answer.paid, adjustments=adjustments)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(charge=charges, chain=st.lists(payer_terms, min_size=1, max_size=5))
def test_any_chain_of_payers_balances_and_never_overpays(charge, chain):
    remittances: list[Remittance] = []
    prior: list[PriorPayment] = []
    for sequence, terms in enumerate(chain, start=1):
        allowed = cents(charge * terms["allowed_share"])
        if sequence == 1:
            line = primary_line(charge, allowed, terms)
        else:
            otaf = None if terms["otaf_share"] is None else cents(charge * terms["otaf_share"])
            case = SecondaryPaymentCase(
                method=terms["method"],
                charge=charge,
                prior_payers=prior,  # open balance derived: the last payer's PR
                own_allowed=allowed,
                own_deductible_remaining=terms["deductible"],
                own_coinsurance=terms["coinsurance"],
                own_copay=terms["copay"],
                obligated_to_accept=otaf,
                part=terms["part"],
                medicare_pct=terms["medicare_pct"],
                credit_reserve=terms["credit_reserve"],
            )
            answer = secondary_payment(case)
            earlier_paid = sum((p.paid for p in prior), ZERO)
            allowable = max([allowed, *(p.allowed for p in prior)])
            assert answer.open_balance == prior[-1].patient_responsibility
            assert answer.paid <= answer.open_balance
            assert answer.paid <= max(ZERO, allowable - earlier_paid)  # NAIC MDL-120 §7
            assert answer.patient_responsibility >= 0 and answer.write_off >= 0
            assert answer.paid + answer.write_off + answer.patient_responsibility == (
                answer.open_balance
            )
            if terms["method"] == CobMethod.STANDARD_WITH_CREDIT_RESERVE:
                assert answer.credit_reserve_before is not None
                assert answer.credit_reserve_after is not None
                assert answer.paid <= answer.normal_benefit.paid + answer.credit_reserve_before
                assert answer.credit_reserve_after >= 0
            line = later_line(charge, allowed, answer)
        payer_id = f"P{sequence}"
        remittances.append(remittance(payer_id, sequence, line))
        prior.append(PriorPayment(payer_id=payer_id, allowed=line.allowed, paid=line.paid,
                                  adjustments=line.adjustments))  # fmt: skip

    account = account_line(1, "99213", charge, remittances)  # raises if a cent is off
    assert account.paid + account.adjustments + account.patient_responsibility == charge
    assert account.paid <= charge
    assert account.patient_responsibility >= 0
