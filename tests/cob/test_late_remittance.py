"""A payer's new adjudication after the patient was billed: which ones move the patient's share
at once, and the lines recomputed to the cent. The case: a 210.00 visit (line 1) and a 40.00
lab (line 2); ACME01 primary paid nothing (deductible), EMPL03 secondary paid 163.35 and
10.81, leaving a copay of 18.65 and coinsurance of 0.04."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from cob.late_remittance import NotReposted, readjudicated, reposted_lines
from cob.model import Adjustment, LineAdjudication, Remittance
from cob.money import LineAccount, UnbalancedLine

SERVED = date(2026, 10, 7)
BILLED = [
    LineAccount(line_number=1, procedure_code="99214", charge=D("210.00"), paid_by_payer={},
                adjustments=D("0.00"), patient_responsibility=D("210.00")),
    LineAccount(line_number=2, procedure_code="85025", charge=D("40.00"), paid_by_payer={},
                adjustments=D("0.00"), patient_responsibility=D("40.00")),
]  # fmt: skip


def line(number: int, charge: str, paid: str, *cas: tuple[str, str, str]) -> LineAdjudication:
    return LineAdjudication(
        line_number=number, procedure_code={1: "99214", 2: "85025"}.get(number, "36415"),
        charge=D(charge),
        allowed=D(charge), paid=D(paid),
        adjustments=[Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in cas],
    )  # fmt: skip


def remittance(payer: str, ccn: str, sequence: int, *lines: LineAdjudication) -> Remittance:
    return Remittance(claim_control_number=ccn, payer_id=payer, member_id="M1",
                      payer_claim_number=f"{payer}-1", payer_sequence=sequence,
                      status=str(sequence), adjudication_date=SERVED, lines=list(lines))  # fmt: skip


PRIMARY = remittance(
    "ACME01", "E10-1-1", 1,
    line(1, "210.00", "0.00", ("CO", "45", "28.00"), ("PR", "1", "182.00")),
    line(2, "40.00", "0.00", ("CO", "45", "29.15"), ("PR", "1", "10.85")),
)  # fmt: skip
SECONDARY = remittance(
    "EMPL03", "E10-2-1", 2,
    line(1, "210.00", "163.35", ("OA", "23", "28.00"), ("PR", "3", "18.65")),
    line(2, "40.00", "10.81", ("OA", "23", "29.15"), ("PR", "2", "0.04")),
)  # fmt: skip


def paying_more_on_line_1() -> Remittance:
    """EMPL03 reprocessed: 10.00 more on line 1, the copay 8.65."""
    return remittance(
        "EMPL03", "E10-2-1", 2,
        line(1, "210.00", "173.35", ("OA", "23", "28.00"), ("PR", "3", "8.65")),
        SECONDARY.lines[1],
    )  # fmt: skip


def test_the_last_payers_new_adjudication_recomputes_the_patients_share_by_line():
    remittances = readjudicated([PRIMARY, SECONDARY], paying_more_on_line_1(), [])
    lines = reposted_lines("E10", SERVED, BILLED, remittances)
    first, second = lines
    assert first.paid_by_payer == {"ACME01": D("0.00"), "EMPL03": D("173.35")}
    assert (first.payer_adjustments, first.responsibility) == (D("28.00"), {"copay": D("8.65")})
    assert second.paid_by_payer == {"ACME01": D("0.00"), "EMPL03": D("10.81")}
    assert second.responsibility == {"coinsurance": D("0.04")}


def test_an_earlier_payers_change_is_a_persons_since_later_payers_paid_from_its_figures():
    reprocessed = PRIMARY.model_copy(update={"lines": [
        line(1, "210.00", "5.00", ("CO", "45", "28.00"), ("PR", "1", "177.00")), PRIMARY.lines[1],
    ]})  # fmt: skip
    with pytest.raises(NotReposted, match="ACME01 is not the last payer .*: EMPL03 adjudicated"):
        readjudicated([PRIMARY, SECONDARY], reprocessed, [])


def test_a_line_the_payer_adjudicated_before_and_leaves_out_now_is_refused():
    alone = paying_more_on_line_1().model_copy(update={"lines": paying_more_on_line_1().lines[:1]})
    with pytest.raises(NotReposted, match=r"leaves out line\(s\) 2, which EMPL03 adjudicated"):
        readjudicated([PRIMARY, SECONDARY], alone, [])


def test_a_new_balance_a_later_payer_was_never_billed_for_is_that_payers_first():
    """ACME01 alone adjudicated (it left nothing open, so EMPL03 was never billed); now it
    reprocesses and leaves a deductible: EMPL03 might pay it."""
    settled = remittance("ACME01", "E10-1-1", 1,
                         line(1, "210.00", "182.00", ("CO", "45", "28.00")),
                         line(2, "40.00", "10.85", ("CO", "45", "29.15")))  # fmt: skip
    with pytest.raises(NotReposted, match="leaves 192.85 open, which EMPL03 after ACME01"):
        readjudicated([settled], PRIMARY, ["EMPL03"])
    paying_all = settled.model_copy(update={"payer_claim_number": "ACME01-2"})
    assert readjudicated([settled], paying_all, ["EMPL03"]) == [paying_all]


def test_a_claim_replaced_or_set_aside_moves_nothing():
    other = paying_more_on_line_1().model_copy(update={"claim_control_number": "E10-2-0"})
    with pytest.raises(NotReposted, match="claim E10-2-0 is not one the encounter's"):
        readjudicated([PRIMARY, SECONDARY], other, [])


def test_figures_that_do_not_fold_to_the_cent_are_refused_with_the_line():
    wrong_charge = remittance(
        "EMPL03", "E10-2-1", 2,
        line(1, "200.00", "163.35", ("OA", "23", "18.00"), ("PR", "3", "18.65")),
        SECONDARY.lines[1],
    )  # fmt: skip
    remittances = readjudicated([PRIMARY, SECONDARY], wrong_charge, [])
    with pytest.raises(
        UnbalancedLine, match="line 1: charge 200.00 differs from the billed 210.00"
    ):
        reposted_lines("E10", SERVED, BILLED, remittances)
    unbalanced = remittance(
        "EMPL03", "E10-2-1", 2,
        line(1, "210.00", "173.35", ("OA", "23", "28.00"), ("PR", "3", "18.65")),
        SECONDARY.lines[1],
    )  # fmt: skip
    with pytest.raises(UnbalancedLine, match="line 1: charge 210.00 != paid 173.35"):
        reposted_lines("E10", SERVED, BILLED, [PRIMARY, unbalanced])


def test_a_line_the_encounter_never_billed_is_refused():
    extra = paying_more_on_line_1().model_copy(update={
        "lines": [*paying_more_on_line_1().lines, line(3, "40.00", "40.00")]
    })  # fmt: skip
    with pytest.raises(NotReposted, match=r"line\(s\) 3 of the adjudication are not lines"):
        reposted_lines("E10", SERVED, BILLED, [PRIMARY, extra])
