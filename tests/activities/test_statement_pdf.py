"""A patient statement as PDF and as text (activities/statement_pdf.py): two encounters, a
primary and a secondary payer, a payment between statements. The PDF is read back with
pdftotext and its first page drawn with pdftoppm (poppler-utils) into test-output/statements/
for a person to look at."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from activities.statement_pdf import render_pdf, render_text
from cob.accounts import AccountLine, PatientPayment, apply_payment
from cob.dunning import DunningStep, PracticePolicy, statement_due_date
from cob.patient_statement import ProviderContact, Statement, UnreconciledStatement, build_statement
from payers.directory import payer_names

D = Decimal
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "statements"
PROVIDER = ProviderContact(
    name="Riverside Family Medicine", address="120 Main St, Hartford, CT 06103",
    phone="(860) 555-0142", portal_url="pay.riversidefm.example", hours="Mon-Fri 8am-5pm",
)  # fmt: skip
POLICY = PracticePolicy(
    financial_assistance_phone="(860) 555-0190", financial_assistance_url="riversidefm.example/help",
    payment_mail_address="PO Box 4410, Hartford, CT 06101",
)  # fmt: skip
DESCRIPTIONS = {
    "99214": "Office visit, established patient, moderate", "85025": "Complete blood count",
    "99213": "Office visit, established patient, low", "90460": "Vaccine administration",
}  # fmt: skip


def line(encounter: str, day: date, number: int, code: str, charge: str, paid: dict[str, str],
         adjusted: str, share: dict[str, str]) -> AccountLine:  # fmt: skip
    return AccountLine(
        encounter_id=encounter, service_date=day, line_number=number, procedure_code=code,
        charge=D(charge), paid_by_payer={k: D(v) for k, v in paid.items()},
        payer_adjustments=D(adjusted), responsibility={k: D(v) for k, v in share.items()},
    )  # fmt: skip


def past_due_statement() -> Statement:
    """Maria Lopez is the guarantor for her own visit (ENC-1) and her son's (ENC-2), both to
    Acme Health PPO then Bluestone Health Plan. Statement 1 (2026-01-05) billed 52.00; she paid
    25.00 by card on 2026-01-20, applied to her oldest visit; the past-due notice of
    2026-02-04 asks for 27.00."""
    lines = [
        line("ENC-1", date(2025, 11, 3), 1, "99214", "250.00",
             {"ACME01": "120.00", "BLUE02": "30.00"}, "70.00",
             {"deductible": "10.00", "coinsurance": "20.00"}),
        line("ENC-1", date(2025, 11, 3), 2, "85025", "40.00",
             {"ACME01": "18.00", "BLUE02": "6.00"}, "14.00", {"coinsurance": "2.00"}),
        line("ENC-2", date(2025, 12, 10), 1, "99213", "180.00",
             {"ACME01": "90.00", "BLUE02": "25.00"}, "50.00", {"copay": "15.00"}),
        line("ENC-2", date(2025, 12, 10), 2, "90460", "35.00",
             {"ACME01": "20.00"}, "10.00", {"not covered": "5.00"}),
    ]  # fmt: skip
    payment = PatientPayment(payment_id="P-1", amount=D("25.00"), received_on=date(2026, 1, 20),
                             method="card")  # fmt: skip
    lines, credit, _ = apply_payment(lines, D("0.00"), payment)
    assert credit == D("0.00")
    return build_statement(
        account_id="A-100234", guarantor="Maria Lopez",
        patients={"ENC-1": "Maria Lopez", "ENC-2": "Daniel Lopez"}, provider=PROVIDER,
        lines=lines, payer_names=payer_names(), payments=[payment],
        previous_statement_date=date(2026, 1, 5), previous_balance=D("52.00"),
        first_billed={"ENC-1": date(2026, 1, 5), "ENC-2": date(2026, 1, 5)},
        statement_date=date(2026, 2, 4), due_date=statement_due_date(POLICY, date(2026, 2, 4)),
        step=DunningStep.PAST_DUE, policy=POLICY, descriptions=DESCRIPTIONS,
    )  # fmt: skip


def poppler(tool: str) -> str:
    """The poppler-utils tool; without it the test skips, unless COB_REQUIRE_POPPLER is set
    (.ci/run installs the package and sets it, so CI always reads the PDFs)."""
    found = shutil.which(tool)
    if not found:
        why = f"{tool} not found: install Debian's poppler-utils"
        if os.environ.get("COB_REQUIRE_POPPLER"):
            pytest.fail(f"COB_REQUIRE_POPPLER is set and {why}")
        pytest.skip(why)
    return found


@pytest.fixture(scope="module")
def pdf_file() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / "two-encounters-past-due.pdf"
    path.write_bytes(render_pdf(past_due_statement()))
    return path


def pdf_text(path: Path) -> str:
    done = subprocess.run([poppler("pdftotext"), "-layout", str(path), "-"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return " ".join(done.stdout.split())  # words in reading order, whatever the spacing


def test_the_pdf_shows_everything_a_statement_must(pdf_file: Path):
    text = pdf_text(pdf_file)
    required = [
        # who, which account, when, how much
        "PAST DUE",
        "Statement for Maria Lopez",
        "Patients Maria Lopez, Daniel Lopez",
        "Account number A-100234",
        "Statement date 02/04/2026",
        "Due date 03/06/2026",
        "Amount due $27.00",
        # the provider and how to reach it
        "Riverside Family Medicine",
        "120 Main St, Hartford, CT 06103",
        "(860) 555-0142",
        "pay.riversidefm.example",
        "Mon-Fri 8am-5pm",
        # each date of service, its lines, each payer by name, adjustments, the patient's side
        "Date of service 11/03/2025 Patient: Maria Lopez",
        "Date of service 12/10/2025 Patient: Daniel Lopez",
        "99214 Office visit, established patient, moderate $250.00 $5.00",
        "Paid by Acme Health PPO (primary) $120.00",
        "Paid by Bluestone Health Plan (secondary) $30.00",
        "Insurance adjustments (not billed to you) $70.00",
        "Your payments $25.00",
        "Your share after insurance: deductible $10.00, coinsurance $20.00",
        "Your share after insurance: copay $15.00",
        "Your share after insurance: not covered $5.00",
        "Total for this date of service $290.00 $174.00 $84.00 $25.00 $7.00",
        "Total for this date of service $215.00 $135.00 $60.00 $0.00 $20.00",
        # the summary, the payments since the last statement, aging
        "Previous balance $52.00",
        "Payments received since your last statement -$25.00",
        "New charges and adjustments $0.00",
        "01/20/2026 Payment by card $25.00",
        "Current 31-60 days 61-90 days Over 90 days",
        "$27.00 $0.00 $0.00 $0.00",
        # the notices
        "How to pay",
        "PO Box 4410, Hartford, CT 06101",
        "Financial assistance",
        "(860) 555-0190",
        "Questions or disputes",
        "itemized bill",
        "Your rights and protections against surprise medical bills",
        "1-800-985-3059",
        "Please detach and return this part with your payment",
        "Amount enclosed",
    ]
    assert [item for item in required if item not in text] == []
    assert "not a bill" not in text.lower()


def test_the_first_page_is_drawn_for_a_person_to_look_at(pdf_file: Path):
    page = OUTPUT / "two-encounters-past-due-page1"
    subprocess.run([poppler("pdftoppm"), "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf_file), str(page)], check=True)  # fmt: skip
    png = page.with_suffix(".png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


def test_the_same_statement_gives_the_same_bytes():
    first, again = render_pdf(past_due_statement()), render_pdf(past_due_statement())
    assert first == again and b"D:20260204000000Z" in first


def test_the_text_statement_shows_the_same_items():
    text = render_text(past_due_statement())
    for item in (
        "PAST DUE", "Account number:   A-100234", "Amount due:       $27.00",
        "DATE OF SERVICE 11/03/2025  Patient: Maria Lopez",
        "Paid by Bluestone Health Plan (secondary)", "Your share after insurance: copay $15.00",
        "Payments received since your last statement", "01/20/2026  card",
        "YOUR RIGHTS AND PROTECTIONS AGAINST SURPRISE MEDICAL BILLS",
        "Please pay $27.00 by March 6, 2026.",
    ):  # fmt: skip
        assert item in text
    assert max(len(row) for row in text.splitlines()) <= 78


def test_a_final_notice_pdf_names_the_collections_date():
    made = build_statement(
        account_id="A-100234", guarantor="Maria Lopez", patients={"ENC-1": "Maria Lopez"},
        provider=PROVIDER,
        lines=[line("ENC-1", date(2025, 11, 3), 1, "99214", "250.00", {"ACME01": "200.00"},
                    "20.00", {"coinsurance": "30.00"})],
        payer_names=payer_names(), payments=[], previous_statement_date=date(2026, 3, 6),
        previous_balance=D("30.00"), first_billed={"ENC-1": date(2026, 1, 5)},
        statement_date=date(2026, 4, 5), due_date=date(2026, 5, 5),
        step=DunningStep.FINAL_NOTICE, policy=POLICY, collections_on=date(2026, 5, 5),
    )  # fmt: skip
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / "final-notice.pdf"
    path.write_bytes(render_pdf(made))
    text = pdf_text(path)
    assert "FINAL NOTICE" in text
    assert "by May 5, 2026, the account will be referred to a collection agency" in text
    assert "61-90 days" in text and "$30.00" in text


def test_a_statement_that_does_not_add_up_is_never_rendered():
    wrong = past_due_statement().model_copy(update={"amount_due": D("26.99")})
    with pytest.raises(UnreconciledStatement):
        render_pdf(wrong)
    with pytest.raises(UnreconciledStatement):
        render_text(wrong)
