"""The ERA mailbox as a real clearinghouse may fill it, over real HTTP: a document that is not
an 835 at all beside a good one. The engine keeps both, links the good one's claims, and
makes the unreadable one a task, never silence (activities/claims.py, pick_up_remittance)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.claims import ClaimActivities
from cob.model import ClaimSubmission
from contract.messages import SubmitClaim
from ledger import tables as t
from ledger.db import make_engine
from ledger.worklist import tasks
from tests.payer_stub import payer_stub
from tests.x12.x12_batch import example_encounter

GOOD_835 = (Path(__file__).parents[1] / "x12_corpus/linuxforhealth/835_005010X221A1/managed-care.835")


def mailbox(documents: list[dict]):
    """GET /x12/era: every document from the top; nothing after a cursor."""

    def answer(method: str, path: str) -> tuple[str, bytes]:
        cursor = parse_qs(urlparse(path).query).get("cursor")
        batch = {"documents": [] if cursor else documents, "more": False}
        return "application/json", json.dumps(batch).encode()

    return payer_stub(answer)


async def test_an_unreadable_835_in_the_mailbox_is_kept_and_becomes_a_task(tmp_path: Path):
    documents = [
        {"cursor": "m.1", "payer_id": "ACME01", "x12": "this is not an 835 at all"},
        {"cursor": "m.2", "payer_id": "ACME01", "x12": GOOD_835.read_text()},
    ]
    ledger = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    encounter = example_encounter("01-commercial", encounter_id="M1")
    claim = SubmitClaim(workflow_id="encounter-M1/claim-1", submission=ClaimSubmission(
        claim_control_number="M1-1-1", payer_sequence=1, encounter=encounter,
        coverage=encounter.coverages[0]))  # fmt: skip
    with mailbox(documents) as url:
        activities = ClaimActivities(url, ledger, tmp_path)
        env = ActivityEnvironment()
        assert await env.run(activities.pick_up_remittance, claim) is None
        assert await env.run(activities.pick_up_remittance, claim) is None  # nothing new
    with Session(ledger) as session:
        kept = {d.key: d.problem for d in session.exec(select(t.X12Document)).all()}
        links = session.exec(select(t.RemittanceDocument)).all()
    assert set(kept) == {"era/m.1", "era/m.2"} and "must start with ISA" in kept["era/m.1"]
    assert kept["era/m.2"] == ""
    assert sorted(link.claim_control_number for link in links) == ["5554555444", "8765432112"]
    [task] = tasks(ledger)
    assert task["kind"] == "era_unusable" and "era/m.1" in task["reason"]
    assert task["due"] > task["opened_on"]
