"""The billing reports (ledger/reports.py) on a ledger built with the engine's own writes, on
SQLite and PostgreSQL. Every figure below was worked out by hand from CASE; the arithmetic
is in the comments.

The ledger, as of 2025-06-30 (claim control number <encounter>-<n>-<attempt>):

  ccn      payer   services        filed  835 (CLP02, day)  what
  E1-1-1   ACME01  99213 200.00    03-03  1 on 03-21 (18 d)  paid 120.00 as expected
  E2-1-1   ACME01  99214 300.00    03-10  1 on 04-09 (30 d)  paid 180.00, expected 200.00
  E3-1-1   ACME01  99214 500.00    06-10  -                  open, 20 days
  E4-1-1   ACME01  99213 400.00    04-01  -                  open, 90 days
  E5-1-1   ACME01  99213 150.00    -      -                  rejected by the 277CA (A7)
  E5-1-2   ACME01  99213 150.00    05-01  -                  its resubmission, open, 60 days
  E11-2-1  ACME01  (E11) 180.00    05-20  -                  E11's secondary claim, open, 41 days
  E15-1-1  ACME01  99213 100.00    05-05  1 on 05-15 (10 d)  paid 0.00, the deductible (PR-1)
  E16-1-1  ACME01  99213 100.00    04-01  1 on 05-16 (45 d)  paid 80.00
  E17-1-1  ACME01  99213 100.00    02-01  1 on 04-02 (60 d)  paid 80.00
  E6-1-1   BLUE02  99213 250.00    02-03  4 on 02-20         denied CO-16, replaced by E6-1-2
  E6-1-2   BLUE02  99213 250.00    03-01  1 on 03-25 (24 d)  the correction (frequency 7), paid
  E7-1-1   BLUE02  99213 100.00    04-01  1 on 05-11 (40 d)  line 1 paid, line 2 denied CO-97
                   36415  50.00
  E8-1-1   BLUE02  99215 1000.00   01-15  -                  open, 166 days
  E9-1-1   BLUE02  99213 350.00    03-02  -                  open, 120 days
  E10-1-1  BLUE02  99215 600.00    03-15  4 on 04-14         denied CO-50, under appeal
  E11-1-1  MCARE   99213 180.00    05-02  1 on 05-16 (14 d)  paid 78.40 (CO-253 1.60)
  E12-1-1  MCARE   99213 220.00    06-01  1 on 07-10 (39 d)  open as of 06-30, 29 days
  E13-1-1  MCARE   99213 90.00     07-05  -                  filed after 06-30
  E14-1-1  MCARE   99213 130.00    04-20  4 on 05-05         denied CO-22, set aside (COB review)
  E18-1-1  MCARE   20610 75.00     06-02  4 on 06-16         denied CO-16, awaiting correction
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy.engine import Engine

from cob import model
from cob.deadlines import Deadline
from cob.expected import LineExpectation, PaymentReview
from ledger import worklist
from ledger.reports import (
    REPORTS,
    ReportParamError,
    UnknownReport,
    nearest_rank,
    open_claims_balance,
    run_report,
)
from ledger.writes import (
    append_audit_event,
    record_claim,
    record_encounter,
    record_filing,
    set_aside_claims,
)

AS_OF = date(2025, 6, 30)
PROVIDER = model.Provider(name="Elm Street Clinic", npi="1234567893", tax_id="123456789")
PATIENT = model.Person(first_name="Ada", last_name="Lovelace", birth_date=date(1980, 12, 10))
PLANS = {"ACME01": "commercial", "BLUE02": "commercial", "MCARE": "medicare"}
DEADLINE = Deadline(kind="timely_filing", due=date(2026, 3, 1), rule="test", citation="test")


def day(text: str) -> date:
    return date.fromisoformat(f"2025-{text}")


def answer(status: str, on: str, *lines: str) -> tuple[str, date, list[str]]:
    """An 835's CLP02, its day and per line 'allowed paid CAS...' ("80.00 64.00 CO-45 20.00")."""
    return status, day(on), list(lines)


def bill(
    engine: Engine,
    ccn: str,
    payer: str,
    services: list[tuple[str, str]],
    *,
    filed: str | None,
    remit: tuple[str, date, list[str]] | None = None,
    sequence: int = 1,
    frequency: str = "1",
    original: str | None = None,
) -> None:
    """One claim as the activities record it: the 837's acknowledgment (accepted when it
    was filed, else rejected A7), its filing, and its 835 when `remit` is given."""
    encounter_id = ccn.rsplit("-", 2)[0]
    encounter = model.Encounter(
        encounter_id=encounter_id,
        patient=PATIENT,
        billing_provider=PROVIDER,
        service_date=date(2025, 1, 10),
        diagnoses=["J20.9"],
        lines=[
            model.ServiceLine(line_number=n, procedure_code=code, charge=D(charge))
            for n, (code, charge) in enumerate(services, start=1)
        ],
    )
    record_encounter(engine, workflow_id=f"encounter-{encounter_id}", encounter=encounter,
                     status="billing")  # fmt: skip
    coverage = model.Coverage(payer_id=payer, member_id=f"M-{payer}", plan_type=PLANS[payer],
                              effective_date=date(2024, 1, 1))  # fmt: skip
    submission = model.ClaimSubmission(
        claim_control_number=ccn, frequency=frequency, original_payer_claim_number=original,
        payer_sequence=sequence, encounter=encounter, coverage=coverage,
    )  # fmt: skip
    ack = model.ClaimAcknowledgment(
        claim_control_number=ccn, accepted=filed is not None, payer_claim_number=f"PCN-{ccn}",
        status_code="A2" if filed else "A7",
    )  # fmt: skip
    remittance = None
    if remit is not None:
        status, on, lines = remit
        remittance = model.Remittance(
            claim_control_number=ccn, payer_id=payer, member_id=coverage.member_id,
            payer_claim_number=f"PCN-{ccn}", payer_sequence=sequence, status=status,
            adjudication_date=on,
            lines=[_line(n, *service, text) for n, (service, text) in
                   enumerate(zip(services, lines, strict=True), start=1)],
        )  # fmt: skip
    record_claim(engine, encounter_id=encounter_id, submission=submission, ack=ack,
                 remittance=remittance)  # fmt: skip
    if filed is not None:
        record_filing(engine, ccn=ccn, payer_id=payer, filed_on=day(filed), deadline=DEADLINE)


def _line(number: int, code: str, charge: str, text: str) -> model.LineAdjudication:
    allowed, paid, *cas = text.split()
    adjustments = [
        model.Adjustment(group=group_reason[:2], reason=group_reason[3:], amount=D(amount))
        for group_reason, amount in zip(cas[::2], cas[1::2], strict=True)
    ]
    assert D(paid) + sum(a.amount for a in adjustments) == D(charge), f"line {number} unbalanced"
    return model.LineAdjudication(
        line_number=number, procedure_code=code, charge=D(charge), allowed=D(allowed),
        paid=D(paid), adjustments=adjustments,
    )  # fmt: skip


def review(engine: Engine, encounter_id: str, payer: str, *lines: tuple[str, str | None]) -> None:
    """The payment review the encounter's close records (activities/encounter.py): per line
    (paid, expected); expected None for a denied line."""
    checked = PaymentReview(
        payer_id=payer,
        lines=[
            LineExpectation(line_number=n, paid=D(paid),
                            expected=None if expected is None else D(expected), working="test")
            for n, (paid, expected) in enumerate(lines, start=1)
        ],
    )  # fmt: skip
    append_audit_event(
        engine,
        workflow_id=f"encounter-{encounter_id}",
        step=f"payment_review:1:{payer}",
        kind="payment_review",
        detail={
            "summary": checked.summary(),
            "underpaid": checked.underpaid,
            "lines": [line.model_dump(mode="json") for line in checked.lines],
        },
    )


def underpaid_task(engine: Engine, encounter_id: str, payer: str, ccn: str) -> None:
    worklist.open_task(
        engine, workflow_id=f"encounter-{encounter_id}/claim-1-{payer}", encounter_id=encounter_id,
        payer_id=payer, claim_control_number=ccn, kind="underpaid", reason="underpaid",
        due=date(2025, 7, 30), opened_on=date(2025, 6, 30),
    )  # fmt: skip


def build_ledger(engine: Engine) -> None:
    """CASE (the module's docstring), written with the ledger's own write functions."""
    # ACME01
    bill(engine, "E1-1-1", "ACME01", [("99213", "200.00")], filed="03-03",
         remit=answer("1", "03-21", "150.00 120.00 CO-45 50.00 PR-2 30.00"))  # fmt: skip
    review(engine, "E1", "ACME01", ("120.00", "120.00"))
    bill(engine, "E2-1-1", "ACME01", [("99214", "300.00")], filed="03-10",
         remit=answer("1", "04-09", "250.00 180.00 CO-45 50.00 PR-2 70.00"))  # fmt: skip
    review(engine, "E2", "ACME01", ("180.00", "200.00"))
    underpaid_task(engine, "E2", "ACME01", "E2-1-1")
    bill(engine, "E3-1-1", "ACME01", [("99214", "500.00")], filed="06-10")
    bill(engine, "E4-1-1", "ACME01", [("99213", "400.00")], filed="04-01")
    bill(engine, "E5-1-1", "ACME01", [("99213", "150.00")], filed=None)
    bill(engine, "E5-1-2", "ACME01", [("99213", "150.00")], filed="05-01")
    bill(engine, "E15-1-1", "ACME01", [("99213", "100.00")], filed="05-05",
         remit=answer("1", "05-15", "80.00 0.00 CO-45 20.00 PR-1 80.00"))  # fmt: skip
    bill(engine, "E16-1-1", "ACME01", [("99213", "100.00")], filed="04-01",
         remit=answer("1", "05-16", "80.00 80.00 CO-45 20.00"))  # fmt: skip
    bill(engine, "E17-1-1", "ACME01", [("99213", "100.00")], filed="02-01",
         remit=answer("1", "04-02", "80.00 80.00 CO-45 20.00"))  # fmt: skip
    # BLUE02
    bill(engine, "E6-1-1", "BLUE02", [("99213", "250.00")], filed="02-03",
         remit=answer("4", "02-20", "0.00 0.00 CO-16 250.00"))  # fmt: skip
    bill(engine, "E6-1-2", "BLUE02", [("99213", "250.00")], filed="03-01", frequency="7",
         original="PCN-E6-1-1",
         remit=answer("1", "03-25", "200.00 160.00 CO-45 50.00 PR-2 40.00"))  # fmt: skip
    review(engine, "E6", "BLUE02", ("160.00", "160.00"))
    bill(engine, "E7-1-1", "BLUE02", [("99213", "100.00"), ("36415", "50.00")], filed="04-01",
         remit=answer("1", "05-11", "80.00 64.00 CO-45 20.00 PR-2 16.00",
                      "0.00 0.00 CO-97 50.00"))  # fmt: skip
    review(engine, "E7", "BLUE02", ("64.00", "64.00"), ("0.00", None))
    bill(engine, "E8-1-1", "BLUE02", [("99215", "1000.00")], filed="01-15")
    bill(engine, "E9-1-1", "BLUE02", [("99213", "350.00")], filed="03-02")
    bill(engine, "E10-1-1", "BLUE02", [("99215", "600.00")], filed="03-15",
         remit=answer("4", "04-14", "0.00 0.00 CO-50 600.00"))  # fmt: skip
    # MCARE, and ACME01 second to it on E11
    bill(engine, "E11-1-1", "MCARE", [("99213", "180.00")], filed="05-02",
         remit=answer("1", "05-16", "100.00 78.40 CO-45 80.00 PR-2 20.00 CO-253 1.60"))  # fmt: skip
    review(engine, "E11", "MCARE", ("78.40", "75.00"))
    bill(engine, "E11-2-1", "ACME01", [("99213", "180.00")], filed="05-20", sequence=2)
    bill(engine, "E12-1-1", "MCARE", [("99213", "220.00")], filed="06-01",
         remit=answer("1", "07-10", "150.00 120.00 CO-45 70.00 PR-2 30.00"))  # fmt: skip
    underpaid_task(engine, "E12", "MCARE", "E12-1-1")  # its encounter has not closed: no review
    bill(engine, "E13-1-1", "MCARE", [("99213", "90.00")], filed="07-05")
    bill(engine, "E14-1-1", "MCARE", [("99213", "130.00")], filed="04-20",
         remit=answer("4", "05-05", "0.00 0.00 CO-22 130.00"))  # fmt: skip
    set_aside_claims(engine, ccns=["E14-1-1"])
    review(engine, "E14", "MCARE", ("0.00", None))  # denied whole: no line reviewed
    bill(engine, "E18-1-1", "MCARE", [("20610", "75.00")], filed="06-02",
         remit=answer("4", "06-16", "0.00 0.00 CO-16 75.00"))  # fmt: skip


@pytest.fixture
def ledger(ledger_engine: Engine) -> Engine:
    build_ledger(ledger_engine)
    return ledger_engine


def aging(payer, claims, d30, d60, d90, d120, over, total) -> dict:
    money = [D(v) for v in (d30, d60, d90, d120, over, total)]
    columns = ["days_0_30", "days_31_60", "days_61_90", "days_91_120", "days_over_120", "total"]
    return {"payer_id": payer, "claims": claims, **dict(zip(columns, money, strict=True))}


def test_ar_aging_ages_each_open_claim_from_its_277ca_acceptance(ledger: Engine) -> None:
    # Open as of 06-30 (accepted, not replaced or set aside, no 835 by then):
    # ACME01: E3 500.00 at 20 days; E5-1-2 150.00 at 60 (05-01 to 06-30: 31 + 29, the last
    #   day of 31-60); E11-2-1 180.00 at 41; E4 400.00 at 90 (04-01 to 06-30: 30 + 31 + 29,
    #   the last day of 61-90). 0-30 500.00, 31-60 330.00, 61-90 400.00: 1230.00, 4 claims.
    # BLUE02: E9 350.00 at 120 (the last day of 91-120), E8 1000.00 at 166: 1350.00.
    # MCARE: E12 220.00 at 29 (its 835 came 07-10, after the day). E13 was filed 07-05.
    # Not open: E5-1-1 (rejected), E6-1-1 (replaced), E14 (set aside), every claim with an
    # 835 by 06-30 (paid, partly paid, denied, under appeal).
    # Total: 500 + 220 = 720.00; 330.00; 400.00; 350.00; 1000.00; 2800.00 over 7 claims.
    assert run_report(ledger, "ar-aging", as_of=AS_OF) == [
        aging("ACME01", 4, "500.00", "330.00", "400.00", "0.00", "0.00", "1230.00"),
        aging("BLUE02", 2, "0.00", "0.00", "0.00", "350.00", "1000.00", "1350.00"),
        aging("MCARE", 1, "220.00", "0.00", "0.00", "0.00", "0.00", "220.00"),
        aging(None, 7, "720.00", "330.00", "400.00", "350.00", "1000.00", "2800.00"),
    ]
    assert open_claims_balance(ledger, as_of=AS_OF) == D("2800.00")


@pytest.mark.parametrize(
    "as_of, balance",
    [
        # E8 1000.00 and E17 100.00 (filed 02-01, paid 04-02); E6-1-1 (filed 02-03, denied
        # 02-20) was open then but is replaced now.
        ("2025-02-10", "1100.00"),
        ("2025-06-30", "2800.00"),
        # 07-31: E12 is paid (07-10), E13 90.00 is filed (07-05): 2800 - 220 + 90.
        ("2025-07-31", "2670.00"),
    ],
)
def test_ar_aging_total_is_the_ledgers_open_balance(ledger: Engine, as_of: str, balance: str):
    rows = run_report(ledger, "ar-aging", as_of=as_of)
    total = rows[-1]
    assert total["payer_id"] is None and total["total"] == D(balance)
    assert open_claims_balance(ledger, as_of=date.fromisoformat(as_of)) == D(balance)
    assert sum((row["total"] for row in rows[:-1]), D(0)) == D(balance)


def test_ar_aging_as_of_a_later_day_moves_claims_between_buckets(ledger: Engine) -> None:
    # 07-31: MCARE has E13 (07-05, 26 days) alone; BLUE02's E9 is 151 days old: over 120.
    rows = {row["payer_id"]: row for row in run_report(ledger, "ar-aging", as_of="2025-07-31")}
    assert rows["MCARE"] == aging("MCARE", 1, "90.00", "0.00", "0.00", "0.00", "0.00", "90.00")
    assert rows["BLUE02"]["days_over_120"] == D("1350.00")


def denial(payer, carc, adjudicated, denied, rate, amount) -> dict:
    return {
        "payer_id": payer, "carc": carc, "adjudicated": adjudicated, "denied": denied,
        "denial_rate": None if rate is None else D(rate), "denied_amount": D(amount),
    }  # fmt: skip


def test_denial_rate_by_payer_and_by_carc(ledger: Engine) -> None:
    # Adjudicated (an 835): ACME01 E1 E2 E15 E16 E17 = 5, none denied (E15's PR-1 is the
    # deductible, not a denial). BLUE02 E6-1-1 E6-1-2 E7 E10 = 4, denied E6-1-1 (CLP02 4,
    # CO-16 250.00), E7 (line 2 CO-97 50.00 on a paid claim), E10 (CO-50 600.00): 3/4,
    # 900.00. MCARE E11 E12 E14 E18 = 4 (E11's CO-253 is sequestration), denied E14 (CO-22
    # 130.00) and E18 (CO-16 75.00): 2/4, 205.00. All: 13, 5 denied = 0.3846, 1105.00;
    # CO-16 on 2 claims (325.00) = 2/13 = 0.1538, the others 1/13 = 0.0769.
    assert run_report(ledger, "denials") == [
        denial("ACME01", None, 5, 0, "0.0000", "0.00"),
        denial("BLUE02", None, 4, 3, "0.7500", "900.00"),
        denial("BLUE02", "16", 4, 1, "0.2500", "250.00"),
        denial("BLUE02", "50", 4, 1, "0.2500", "600.00"),
        denial("BLUE02", "97", 4, 1, "0.2500", "50.00"),
        denial("MCARE", None, 4, 2, "0.5000", "205.00"),
        denial("MCARE", "16", 4, 1, "0.2500", "75.00"),
        denial("MCARE", "22", 4, 1, "0.2500", "130.00"),
        denial(None, None, 13, 5, "0.3846", "1105.00"),
        denial(None, "16", 13, 2, "0.1538", "325.00"),
        denial(None, "22", 13, 1, "0.0769", "130.00"),
        denial(None, "50", 13, 1, "0.0769", "600.00"),
        denial(None, "97", 13, 1, "0.0769", "50.00"),
    ]


def test_nearest_rank_is_the_ceiling_rank_never_an_interpolation() -> None:
    assert nearest_rank([15, 20, 35, 40, 50], 30) == 20  # ceil(1.5) = 2nd
    assert nearest_rank([15, 20, 35, 40, 50], 50) == 35  # ceil(2.5) = 3rd
    assert nearest_rank([15, 20, 35, 40, 50], 90) == 50  # ceil(4.5) = 5th (44 interpolated)
    assert nearest_rank([24, 40], 50) == 24  # ceil(1) = 1st: the lower middle, not 32
    assert nearest_rank(list(range(1, 11)), 90) == 9  # ceil(9) = 9th
    assert nearest_rank([7], 90) == 7


def test_days_to_pay_from_277ca_acceptance_to_the_835(ledger: Engine) -> None:
    # Processed claims (CLP02 1), days from filed_on to the 835's adjudication date:
    # ACME01 E15 10, E1 18, E2 30, E16 45, E17 60: median the 3rd (ceil 2.5) = 30, p90 the
    #   5th (ceil 4.5) = 60. BLUE02 E6-1-2 24, E7 40: median the 1st = 24, p90 the 2nd = 40.
    # MCARE E11 14, E12 39 (adjudicated after 06-30: this report has no as-of day).
    # All 9: 10 14 18 24 30 39 40 45 60: median the 5th = 30, p90 the 9th (ceil 8.1) = 60.
    # Denied claims (E6-1-1, E10, E14, E18) are not payments.
    def row(payer, claims, median, p90):
        return {"payer_id": payer, "claims": claims, "median_days": median, "p90_days": p90}

    assert run_report(ledger, "days-to-pay") == [
        row("ACME01", 5, 30, 60),
        row("BLUE02", 2, 24, 40),
        row("MCARE", 2, 14, 39),
        row(None, 9, 30, 60),
    ]


def test_first_pass_acceptance_and_clean_claim_rate(ledger: Engine) -> None:
    # First submissions (attempt 1): ACME01 E1 E2 E3 E4 E5-1-1 E11-2-1 E15 E16 E17 = 9,
    #   accepted 8 (E5-1-1 rejected A7): 8/9 = 0.8889; answered (rejected or adjudicated):
    #   E5-1-1 E1 E2 E15 E16 E17 = 6, all clean but the rejection: 5/6 = 0.8333 (E2's
    #   underpayment and E15's 0.00 to the deductible are no denial).
    # BLUE02 E6-1-1 E7 E8 E9 E10 = 5, accepted 5; answered E6-1-1 E7 E10 = 3, clean 0
    #   (E6-1-1 denied and replaced, E7 a line denied CO-97, E10 denied).
    # MCARE E11 E12 E13 E14 E18 = 5, accepted 5; answered E11 E12 E14 E18 = 4, clean E11
    #   and E12: 2/4.  All: 19, 18 accepted = 0.9474; 13 answered, 7 clean = 0.5385.
    def row(payer, first, accepted, first_rate, answered, clean, clean_rate):
        return {
            "payer_id": payer, "first_submissions": first, "accepted": accepted,
            "answered": answered, "clean": clean, "first_pass_rate": D(first_rate),
            "clean_rate": D(clean_rate),
        }  # fmt: skip

    assert run_report(ledger, "first-pass") == [
        row("ACME01", 9, 8, "0.8889", 6, 5, "0.8333"),
        row("BLUE02", 5, 5, "1.0000", 3, 0, "0.0000"),
        row("MCARE", 5, 5, "1.0000", 4, 2, "0.5000"),
        row(None, 19, 18, "0.9474", 13, 7, "0.5385"),
    ]


def test_underpayments_from_the_engines_payment_reviews(ledger: Engine) -> None:
    # ACME01: E1 expected 120.00 paid 120.00; E2 expected 200.00 paid 180.00 (short 20.00):
    #   reviewed 2, underpaid 1, 320.00 vs 300.00, variance -20.00, shortfall 20.00, E2's
    #   task open.
    # BLUE02: E6 160.00/160.00; E7 line 1 64.00/64.00, line 2 denied (not reviewed): 224.00
    #   both ways.
    # MCARE: E11 expected 75.00, paid 78.40 (over by 3.40: a variance, no shortfall); E12's
    #   task is open, its encounter not closed, so no review.
    # All: 5 reviewed, 1 underpaid, 619.00 expected, 602.40 paid, variance -16.60,
    #   shortfall 20.00, 2 open tasks.
    def row(payer, reviewed, underpaid, expected, paid, variance, shortfall, tasks):
        money = dict(expected=D(expected), paid=D(paid), variance=D(variance),
                     shortfall=D(shortfall))  # fmt: skip
        return {"payer_id": payer, "reviewed": reviewed, "underpaid": underpaid, **money,
                "open_tasks": tasks}  # fmt: skip

    assert run_report(ledger, "underpayments") == [
        row("ACME01", 2, 1, "320.00", "300.00", "-20.00", "20.00", 1),
        row("BLUE02", 2, 0, "224.00", "224.00", "0.00", "0.00", 0),
        row("MCARE", 1, 0, "75.00", "78.40", "3.40", "0.00", 1),
        row(None, 5, 1, "619.00", "602.40", "-16.60", "20.00", 2),
    ]


def test_top_procedures_by_charges_and_by_denials(ledger: Engine) -> None:
    # Lines an 835 carries, each service once: 99213 E1 200 + E15 E16 E17 3 x 100 + E6 250
    # (on E6-1-1 and E6-1-2: once) + E7 100 + E11 180 + E12 220 + E14 130 = 9 services,
    # 1380.00; 99215 E10 600.00; 99214 E2 300.00; 20610 75.00; 36415 50.00.
    # Denied lines: 99213 E6-1-1 250.00 + E14 130.00 = 2, 380.00; 99215 600.00; 20610 75.00;
    # 36415 50.00 (ties on one line ranked by amount).
    def row(by, rank, code, services, charges, denied, amount):
        return {"ranked_by": by, "rank": rank, "procedure_code": code, "services": services,
                "charges": D(charges), "denied_lines": denied, "denied_amount": D(amount)}  # fmt: skip

    assert run_report(ledger, "top-procedures", limit=3) == [
        row("charges", 1, "99213", 9, "1380.00", 2, "380.00"),
        row("charges", 2, "99215", 1, "600.00", 1, "600.00"),
        row("charges", 3, "99214", 1, "300.00", 0, "0.00"),
        row("denials", 1, "99213", 9, "1380.00", 2, "380.00"),
        row("denials", 2, "99215", 1, "600.00", 1, "600.00"),
        row("denials", 3, "20610", 1, "75.00", 1, "75.00"),
    ]
    assert len(run_report(ledger, "top-procedures")) == 5 + 4  # the default limit, 10


def test_every_report_gives_its_columns_in_order(ledger: Engine) -> None:
    for name, report in REPORTS.items():
        rows = run_report(ledger, name)
        assert rows, name
        assert all(list(row) == list(report.columns) for row in rows), name


def test_an_empty_ledger_gives_no_rows(ledger_engine: Engine) -> None:
    for name in REPORTS:
        assert run_report(ledger_engine, name) == [], name
    assert open_claims_balance(ledger_engine, as_of=AS_OF) == D("0.00")


def test_a_bad_name_or_parameter_is_named(ledger_engine: Engine) -> None:
    with pytest.raises(UnknownReport, match="'aging'.*ar-aging, denials, days-to-pay"):
        run_report(ledger_engine, "aging")
    bad = [
        ("ar-aging", {"as_of": "30/06/2025"}, "as_of"),
        ("top-procedures", {"limit": 0}, "limit"),
        ("top-procedures", {"limit": "ten"}, "limit"),
        ("denials", {"as_of": AS_OF}, "as_of"),
    ]
    for name, params, param in bad:
        with pytest.raises(ReportParamError) as raised:
            run_report(ledger_engine, name, **params)
        assert raised.value.param == param and str(raised.value).startswith(f"{param}: ")


def test_each_task_says_what_it_puts_at_stake(ledger: Engine) -> None:
    """The worklist's amount at stake (ledger.worklist.amounts_at_stake), from CASE."""

    def task(encounter_id: str, kind: str, ccn: str | None, payer: str = "MCARE") -> None:
        worklist.open_task(
            ledger, workflow_id=f"encounter-{encounter_id}", encounter_id=encounter_id,
            payer_id=payer, claim_control_number=ccn, kind=kind, reason=kind,
            due=date(2025, 7, 30), opened_on=AS_OF,
        )  # fmt: skip

    task("E18", "correction_needed", "E18-1-1")  # denied: 75.00 charged, nothing paid
    task("E3", "status_check", "E3-1-1", "ACME01")  # no 835 yet: all 500.00 of it
    task("E7", "appeal_due", "E7-1-1", "BLUE02")  # 150.00 charged - 64.00 paid
    task("E11", "order_review", None)  # the encounter: 180.00 - MCARE's 78.40 (E11-2-1 unpaid)
    task("E6", "archive_conflict", None, "BLUE02")  # records, not money
    stakes = {(t["encounter_id"], t["kind"]): t["at_stake"] for t in worklist.tasks(ledger)}
    assert stakes == {
        ("E2", "underpaid"): "20.00",  # its review: expected 200.00, paid 180.00
        ("E12", "underpaid"): None,  # not closed, so not reviewed yet: unknown
        ("E18", "correction_needed"): "75.00",
        ("E3", "status_check"): "500.00",
        ("E7", "appeal_due"): "86.00",
        ("E11", "order_review"): "101.60",
        ("E6", "archive_conflict"): None,
    }
