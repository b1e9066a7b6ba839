"""The engine talks to payers in X12 only, and keeps every document it sent and received
(issue: payers speak X12 5010). A three-payer encounter on the time-skipping server, with the
real activities, the simulator over HTTP and a SQLite ledger; the documents the engine kept are
read back from the ledger and validated with pyx12."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from ledger.db import make_engine
from ledger.documents import documents_for
from ledger.queries import unbalanced_lines
from ledger.tables import ClaimFiling
from payers.x12.claim_837p import check_837p_balance
from payers.x12.remittance_835 import check_835_balance, parse_835
from tests.workflow_harness import example, run_encounter, running_worker
from tests.x12.pyx12_check import pyx12_valid


async def test_a_tertiary_claim_goes_out_as_x12_and_every_document_is_kept(
    client, simulator, tmp_path: Path
):
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    async with running_worker(client, simulator.url, ledger_url, tmp_path) as settings:
        _, status = await run_encounter(client, settings, example("09-three-payers"))
    # Own plan, then the spouse's plan (NAIC non-dependent first), Medicaid last (42 USC 1396a(a)(25)).
    assert status.payer_order == ["ACME01", "BLUE02", "MCAID"]
    assert status.stage == "closed"
    ledger = make_engine(ledger_url)
    assert unbalanced_lines(ledger) == []

    kept = documents_for(ledger, status.encounter_id)
    assert Counter((d.transaction, d.direction) for d in kept) == {
        ("270", "sent"): 3, ("271", "received"): 3,
        ("837", "sent"): 3, ("999", "received"): 3, ("277CA", "received"): 3,
        ("835", "received"): 3,
    }  # fmt: skip
    claims = [d for d in kept if d.transaction == "837"]
    tertiary = claims[-1].text
    # Two prior payers: a 2320 set for each, and a 2430 SVD from each on every line.
    assert "SBR*T*18*" in tertiary and "SBR*P*18*" in tertiary and "SBR*S*01*" in tertiary
    assert tertiary.count("SVD*ACME01*") == 2 and tertiary.count("SVD*BLUE02*") == 2
    # Each prior payer's paid amount and what it left to the patient (2320 AMT*D, AMT*EAF).
    assert tertiary.count("AMT*D*") == 2 and tertiary.count("AMT*EAF*") == 2
    for claim in claims:
        check_837p_balance(claim.text)
        assert pyx12_valid(claim.text), claim.text
    for era in (d for d in kept if d.transaction == "835"):
        check_835_balance(era.text)
        assert pyx12_valid(era.text), era.text
        assert era.problem == ""
    # Proof of timely filing: the 277CA acceptance day against each payer's rule (42 CFR 424.44, 447.45(d)(1)).
    with Session(ledger) as session:
        filings = {f.payer_id: f for f in session.exec(select(ClaimFiling)).all()}
    assert {p: (f.deadline, f.rule, f.on_time) for p, f in filings.items()} == {
        "ACME01": (date(2027, 4, 18), "180 days from the date of service", True),
        "BLUE02": (date(2027, 10, 20), "365 days from the date of service", True),
        "MCAID": (date(2027, 10, 20), "1 calendar year from the date of service", True),
    }
    assert filings["MCAID"].citation == "42 CFR 447.45(d)(1)"
    medicaid = [r for d in kept if d.transaction == "835" for r in parse_835(d.text)][-1]
    assert (medicaid.payer_id, medicaid.status) == ("MCAID", "3")  # CLP02 3: processed as tertiary
