"""The ERA mailbox as a real clearinghouse may fill it, over real HTTP: a document that is not
an 835 at all beside a good one. The engine keeps both, links the good one's claims, and
makes the unreadable one a task, never silence (activities/claims.py, pick_up_remittance)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.claims import ClaimActivities
from cob.model import ClaimSubmission
from ledger import tables as t
from ledger.db import make_engine
from ledger.worklist import tasks
from tests.x12_batch import example_encounter
from workers.devserver import free_port
from workflows.messages import SubmitClaim

GOOD_835 = (Path(__file__).parent / "x12_corpus/linuxforhealth/835_005010X221A1/managed-care.835")


def mailbox(documents: list[dict]) -> ThreadingHTTPServer:
    """GET /x12/era: every document from the top; nothing after a cursor."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            cursor = parse_qs(urlparse(self.path).query).get("cursor")
            body = json.dumps({"documents": [] if cursor else documents, "more": False}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def test_an_unreadable_835_in_the_mailbox_is_kept_and_becomes_a_task(tmp_path: Path):
    server = mailbox([
        {"cursor": "m.1", "payer_id": "ACME01", "x12": "this is not an 835 at all"},
        {"cursor": "m.2", "payer_id": "ACME01", "x12": GOOD_835.read_text()},
    ])  # fmt: skip
    ledger = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    activities = ClaimActivities(url, ledger, tmp_path)
    encounter = example_encounter("01-commercial", encounter_id="M1")
    claim = SubmitClaim(workflow_id="encounter-M1/claim-1", submission=ClaimSubmission(
        claim_control_number="M1-1-1", payer_sequence=1, encounter=encounter,
        coverage=encounter.coverages[0]))  # fmt: skip
    try:
        env = ActivityEnvironment()
        assert await env.run(activities.pick_up_remittance, claim) is None
        assert await env.run(activities.pick_up_remittance, claim) is None  # nothing new
    finally:
        server.shutdown()
        server.server_close()
    with Session(ledger) as session:
        kept = {d.key: d.problem for d in session.exec(select(t.X12Document)).all()}
        links = session.exec(select(t.RemittanceDocument)).all()
    assert set(kept) == {"era/m.1", "era/m.2"} and "must start with ISA" in kept["era/m.1"]
    assert kept["era/m.2"] == ""
    assert sorted(link.claim_control_number for link in links) == ["5554555444", "8765432112"]
    [task] = tasks(ledger)
    assert task["kind"] == "era_unusable" and "era/m.1" in task["reason"]
    assert task["due"] > task["opened_on"]
