"""`cob era post` as a billing team runs it, on a public Medicare Part A 835 (two claims paid
at the claim level with claim CAS, and a PLB): matched claims linked for their workflows,
unmatched ones become tasks, the PLB lands in the provider-level account, and posting the
same file twice changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

from sqlmodel import Session, select

from ledger import tables as t
from ledger.db import dispose_engine, make_engine, utcnow
from tests.cli.test_cli import cob

PART_A = Path(__file__).parents[1] / "x12_corpus/linuxforhealth/835_005010X221A1/medicare-part-a.835"


def claim(ccn: str, payer_id: str, **settled) -> t.Claim:
    return t.Claim(**settled,
        claim_control_number=ccn, encounter_id=f"E{ccn}", payer_id=payer_id, member_id="M1",
        payer_sequence=1, frequency="1", accepted=True, ack_status_code="A2",
        total_charge=D("100.00"), updated_at=utcnow(),
    )  # fmt: skip


def on_file(home: Path, *claims: t.Claim) -> None:
    """The ledger of `home` with these claims billed."""
    url = f"sqlite:///{home / 'ledger.db'}"
    with Session(make_engine(url)) as session:
        session.add_all(claims)
        session.commit()
    dispose_engine(url)


def ledger_rows(home: Path, table) -> list:
    url = f"sqlite:///{home / 'ledger.db'}"
    with Session(make_engine(url)) as session:
        rows = list(session.exec(select(table)).all())
    dispose_engine(url)
    return rows


def test_claims_on_file_are_posted_once_and_the_plb_is_kept(tmp_path: Path) -> None:
    on_file(tmp_path, claim("666123", "MCARE"), claim("777777", "MCARE"))
    env = {"COB_HOME": str(tmp_path)}

    first = cob("era", "post", str(PART_A), "--payer", "MCARE", env=env)
    assert first.returncode == 0, first.stderr
    assert "CLP 666123 status 1 charge 211366.97 paid 138018.40: posted" in first.stdout
    assert "CLP 777777 status 1 charge 15000.00 paid 11980.33: posted" in first.stdout
    assert "PLB CV -1.27 ref CP provider 6543210903" in first.stdout
    assert "2 claim(s) posted, 0 for the worklist, 1 provider adjustment(s)" in first.stdout

    again = cob("era", "post", str(PART_A), "--payer", "MCARE", env=env)
    assert again.returncode == 0 and "already posted" in again.stdout
    links = ledger_rows(tmp_path, t.RemittanceDocument)
    assert sorted((r.claim_control_number, r.payer_id, r.position) for r in links) == [
        ("666123", "MCARE", 1), ("777777", "MCARE", 2)]  # fmt: skip
    [plb] = ledger_rows(tmp_path, t.ProviderAdjustment)
    assert (plb.payer_id, plb.reason, plb.reference, plb.amount) == ("MCARE", "CV", "CP", D("-1.27"))
    assert plb.paid_on == date(2002, 9, 16) and plb.trace_number == "12345"
    account = cob("era", "adjustments", env=env)
    assert "1 adjustment(s); net reduction of payments -1.27" in account.stdout


def test_claims_that_match_nothing_become_tasks_not_silence(tmp_path: Path) -> None:
    env = {"COB_HOME": str(tmp_path)}
    result = cob("era", "post", str(PART_A), env=env)
    assert result.returncode == 1
    assert "era_unmatched_claim 666123: the 835's payer 'INSURANCE COMPANY OF TIMBUCKTU' " \
        "(ids 999, 1512345678) is not in the payer directory" in result.stderr
    tasks = ledger_rows(tmp_path, t.WorklistTask)
    assert sorted((task.kind, task.claim_control_number) for task in tasks) == [
        ("era_unmatched_claim", "666123"), ("era_unmatched_claim", "777777")]  # fmt: skip
    assert all(task.due is not None and task.due > task.opened_on for task in tasks)
    again = cob("era", "post", str(PART_A), env=env)
    assert again.returncode == 0 and len(ledger_rows(tmp_path, t.WorklistTask)) == 2


def test_a_file_that_does_not_balance_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    broken = tmp_path / "broken.835"
    broken.write_text(PART_A.read_text().replace("BPR*C*150000.00", "BPR*C*150001.00"))
    result = cob("era", "post", str(broken), "--payer", "MCARE", env={"COB_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "segment BPR at position 4: BPR02 150001.00 differs" in result.stderr
    assert ledger_rows(tmp_path, t.X12Document) == []


def test_a_file_posted_before_its_payer_was_known_is_linked_when_posted_again(tmp_path: Path) -> None:
    on_file(tmp_path, claim("666123", "MCARE"), claim("777777", "MCARE"))
    env = {"COB_HOME": str(tmp_path)}
    assert cob("era", "post", str(PART_A), env=env).returncode == 1  # payer unknown: 2 tasks
    again = cob("era", "post", str(PART_A), "--payer", "MCARE", env=env)
    assert again.returncode == 0
    assert "already posted as era/file/" in again.stdout
    assert "2 claim(s) matched now and linked, their tasks closed" in again.stdout
    links = ledger_rows(tmp_path, t.RemittanceDocument)
    assert sorted((r.claim_control_number, r.position) for r in links) == [("666123", 1), ("777777", 2)]
    assert {task.status for task in ledger_rows(tmp_path, t.WorklistTask)} == {"closed"}
    assert len(ledger_rows(tmp_path, t.ProviderAdjustment)) == 1  # the PLB is posted once


def test_a_settled_claim_sent_again_is_a_duplicate_and_a_changed_one_a_task(tmp_path: Path) -> None:
    on_file(
        tmp_path,
        claim("666123", "MCARE", claim_status="1", total_paid=D("138018.40"),
              payer_claim_number="1999999444444"),  # exactly what the 835 says
        claim("777777", "MCARE", claim_status="1", total_paid=D("11000.00"),
              payer_claim_number="1999999444445"),  # the 835 now says 11980.33
    )  # fmt: skip
    result = cob("era", "post", str(PART_A), "--payer", "MCARE", env={"COB_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "CLP 666123 status 1 charge 211366.97 paid 138018.40: already posted" in result.stdout
    assert "CLP 777777 status 1 charge 15000.00 paid 11980.33: posted, TASK era_after_settlement" in result.stdout
    [task] = ledger_rows(tmp_path, t.WorklistTask)
    assert task.kind == "era_after_settlement" and "paid 11000.00" in task.reason
    links = ledger_rows(tmp_path, t.RemittanceDocument)
    assert [(r.claim_control_number, r.position) for r in links] == [("777777", 2)]


def test_a_recovery_naming_an_encounters_claim_is_shown_with_its_documents(tmp_path: Path) -> None:
    """An 835 for another claim carries PLB WO:ICN-A1 30: the payer takes back 30.00 of the
    payment of claim A1 (its claim number ICN-A1) from this check (005010X221A1 PLB03)."""
    on_file(tmp_path, claim("A1", "MCARE", claim_status="1", total_paid=D("80.00"),
                            payer_claim_number="ICN-A1"), claim("B2", "MCARE"))  # fmt: skip
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Session(make_engine(url)) as session:  # the 837 the engine sent for A1
        session.add(t.X12Document(key="837/A1", transaction="837", direction="sent",
                                  payer_id="MCARE", encounter_id="EA1", text="ISA~",
                                  recorded_at=utcnow()))  # fmt: skip
        session.commit()
    dispose_engine(url)
    segments = [
        "ISA*00*          *00*          *ZZ*MEDICARE       *ZZ*CLINIC         *261101*1200*^*00501*000000005*0*P*:",
        "GS*HP*MEDICARE*CLINIC*20261101*1200*5*X*005010X221A1", "ST*835*0001",
        "BPR*I*70*C*CHK************20261101", "TRN*1*CHK555*1999999999", "N1*PR*MEDICARE",
        "N1*PE*CLINIC*XX*1234567893", "LX*1", "CLP*B2*1*100*100*0*MB*ICN-B2",
        "SVC*HC:99213*100*100", "PLB*1234567893*20261231*WO:ICN-A1*30", "SE*10*0001",
        "GE*1*5", "IEA*1*000000005",
    ]  # fmt: skip
    era = tmp_path / "recovery.835"
    era.write_text("~\n".join(segments) + "~\n")
    env = {"COB_HOME": str(tmp_path)}
    posted = cob("era", "post", str(era), "--payer", "MCARE", env=env)
    assert posted.returncode == 0, posted.stderr
    assert "PLB WO 30.00 ref ICN-A1" in posted.stdout
    shown = cob("documents", "EA1", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "PLB WO 30.00 names claim ICN-A1" in shown.stdout
