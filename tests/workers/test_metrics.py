"""A worker's Prometheus endpoint (COB_METRICS_ADDRESS): `cob worker` run as a process on a dev
server with the payer simulator over HTTP and a SQLite ledger, one encounter run, the
endpoint scraped over HTTP. It carries the SDK's temporal_* metrics and the engine's counters,
with the case's numbers, and no patient data in any label.

The case: ACME01's COB file names BLUE02 primary for member ACM700800901
(payers/simulator/members.json), so ACME01 denies the first claim with CO-22 and the engine
bills BLUE02, then ACME01 again: three claims submitted, one denial, two payments.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from cli.encounters import start_encounter
from ledger import tables as t
from ledger.db import make_engine
from ledger.worklist import open_task
from payers.simulator.serve import start_in_thread
from tests.workers.worker_processes import metrics_served, scrape, spawn_cob, stop, value
from tests.workflow_harness import example
from tests.workflows.test_end_to_end import dev_server_on_a_free_port
from workers.devserver import free_port
from workers.temporal import connect


def cob_22_encounter():
    encounter = example("09-three-payers", encounter_id="M22")
    by_payer = {c.payer_id: c for c in encounter.coverages}
    own = by_payer["ACME01"].model_copy(update={"member_id": "ACM700800901"})
    return encounter.model_copy(update={"coverages": [own, by_payer["BLUE02"]]})


async def test_a_workers_endpoint_carries_the_sdks_metrics_and_the_engines_counters(tmp_path):
    server = await dev_server_on_a_free_port(tmp_path)
    simulator = start_in_thread(tmp_path / "payers.db")
    database_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    # One task open before the worker starts: the gauge reads the ledger at start.
    open_task(make_engine(database_url), workflow_id="encounter-M0", encounter_id="M0",
              payer_id="ACME01", claim_control_number=None, kind="correction_needed",
              reason="a correction", due=date(2026, 12, 1), opened_on=date(2026, 11, 1))  # fmt: skip
    address = f"127.0.0.1:{free_port()}"
    env = {
        "TEMPORAL_ADDRESS": server.address,
        "DATABASE_URL": database_url,
        "COB_HOME": str(tmp_path / "home"),
        "COB_PAYER_URL": simulator.url,
        "COB_METRICS_ADDRESS": address,
    }
    log = tmp_path / "worker.log"
    worker = spawn_cob("worker", env=env, log=log)
    try:
        await metrics_served(address, worker, log)
        client = await connect(server.address)
        encounter = cob_22_encounter()
        handle = await start_encounter(client, encounter)
        status = await asyncio.wait_for(handle.result(), 120)
        assert status.stage == "closed"
        assert [(c.payer_id, c.result) for c in status.claims] == [
            ("ACME01", "denied"), ("BLUE02", "adjudicated"), ("ACME01", "adjudicated"),
        ]  # fmt: skip
        text, samples = await scrape(address)
    finally:
        stop(worker)
        simulator.stop()
        server.stop()

    # the SDK's own telemetry, from the same endpoint
    assert value(samples, "temporal_workflow_completed", workflow_type="EncounterWorkflow") == 1
    assert value(samples, "temporal_workflow_completed", workflow_type="PayerClaimWorkflow") == 3
    assert value(samples, "temporal_activity_execution_latency_count",
                 activity_type="submit_claim") == 3  # fmt: skip
    assert any(name.startswith("temporal_") and "poll" in name for name, _ in samples)

    # the engine's counters: three claims, one CO-22 denial routed to a COB review
    assert value(samples, "cob_claims_submitted", payer_id="ACME01", accepted="true") == 2
    assert value(samples, "cob_claims_submitted", payer_id="BLUE02", accepted="true") == 1
    assert value(samples, "cob_claims_submitted", accepted="false") == 0
    assert value(samples, "cob_denials", payer_id="ACME01", group="CO", route="cob_review") == 1
    assert value(samples, "cob_denials") == 1
    # the payments posted, to the cent, are the ledger's: BLUE02 paid 135.00, ACME01 after it 0
    with Session(make_engine(database_url)) as session:
        claims = session.exec(select(t.Claim)).all()
    paid = {payer: sum((c.total_paid or Decimal(0) for c in claims if c.payer_id == payer),
                       Decimal(0)) for payer in ("ACME01", "BLUE02")}  # fmt: skip
    assert paid == {"ACME01": Decimal("0.00"), "BLUE02": Decimal("135.00")}
    assert value(samples, "cob_payments_posted_cents", payer_id="BLUE02") == 13500
    assert value(samples, "cob_payments_posted_cents", payer_id="ACME01") == 0
    assert value(samples, "cob_tasks_open") == 1
    assert value(samples, "cob_tasks_open_by_kind", kind="correction_needed") == 1

    # no patient data in any label or value: ids of encounters, members, names, birth dates
    patient = cob_22_encounter().patient
    for secret in ("M22", "ACM700800901", patient.last_name, patient.first_name,
                   patient.birth_date.isoformat()):  # fmt: skip
        assert secret not in text


@pytest.mark.parametrize("address", ["9464", "localhost", "host:port", "127.0.0.1:70000"])
def test_a_bad_metrics_address_stops_the_worker_in_one_line(address):
    from workers.metrics import MetricsAddressError, metrics_address

    with pytest.raises(MetricsAddressError, match="COB_METRICS_ADDRESS: .* is not host:port"):
        metrics_address({"COB_METRICS_ADDRESS": address})
    assert metrics_address({}) is None
    assert metrics_address({"COB_METRICS_ADDRESS": " 0.0.0.0:9464 "}) == "0.0.0.0:9464"


async def test_a_taken_metrics_port_is_named(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "worker"],
            env={**os.environ, "TEMPORAL_ADDRESS": "127.0.0.1:1",
                 "COB_HOME": str(tmp_path), "COB_METRICS_ADDRESS": f"127.0.0.1:{port}"},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"COB_METRICS_ADDRESS: cannot serve metrics on 127.0.0.1:{port}" in result.stderr
