"""The scale-out shape in small: two `cob worker` processes on one Temporal dev server and one
PostgreSQL ledger (a schema of the test's own, migrated by `cob db upgrade` first, as
docker-compose does), the payer simulator over HTTP, and 24 encounters from the examples that
close by themselves. Every encounter closes, each claim reaches the payers once, the ledger
holds each encounter and claim once and balances, and both workers did work (each one's
activity count from its own metrics endpoint).

Skipped without PostgreSQL (COB_TEST_DATABASE_URL unset), as the other ledger tests are.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from cli.encounters import start_encounter
from ledger import tables as t
from ledger.db import make_engine
from ledger.queries import unbalanced_lines
from payers.simulator.serve import start_in_thread
from tests.faults.encounters import fault_suite_encounters
from tests.ledger_db import backends, empty_database_url
from tests.workers.worker_processes import metrics_served, scrape, spawn_cob, stop, value
from tests.workflows.test_end_to_end import dev_server_on_a_free_port
from workers.devserver import free_port
from workers.temporal import connect

ROOT = Path(__file__).resolve().parents[2]
ENCOUNTERS = 24

pytestmark = pytest.mark.skipif(
    "postgresql" not in backends(), reason="COB_TEST_DATABASE_URL is not set"
)


async def test_two_workers_on_one_postgresql_ledger_do_no_encounter_twice(tmp_path):
    server = await dev_server_on_a_free_port(tmp_path)
    simulator = start_in_thread(tmp_path / "payers.db")
    workers: list[subprocess.Popen] = []
    try:
        with empty_database_url("postgresql", tmp_path) as database_url:
            env = {
                "TEMPORAL_ADDRESS": server.address,
                "DATABASE_URL": database_url,
                "COB_PAYER_URL": simulator.url,
            }
            upgraded = subprocess.run(
                [sys.executable, "-m", "cli.main", "db", "upgrade"], cwd=ROOT,
                env={**os.environ, **env, "COB_HOME": str(tmp_path / "home-0")},
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert upgraded.returncode == 0 and "(head)" in upgraded.stdout, upgraded.stderr

            addresses = [f"127.0.0.1:{free_port()}" for _ in range(2)]
            for n, address in enumerate(addresses, start=1):
                log = tmp_path / f"worker-{n}.log"
                worker_env = {**env, "COB_HOME": str(tmp_path / f"home-{n}"),
                              "COB_METRICS_ADDRESS": address}  # fmt: skip
                workers.append(spawn_cob("worker", env=worker_env, log=log))
                await metrics_served(address, workers[-1], log)

            client = await connect(server.address)
            encounters = fault_suite_encounters(ENCOUNTERS, seed=17)
            handles = [await start_encounter(client, e) for e in encounters]
            statuses = await asyncio.wait_for(
                asyncio.gather(*(handle.result() for handle in handles)), 180
            )
            activities = [
                value((await scrape(address))[1], "temporal_activity_execution_latency_count")
                for address in addresses
            ]

            assert {s.encounter_id: s.stage for s in statuses} == {
                e.encounter_id: "closed" for e in encounters
            }
            async with httpx.AsyncClient(base_url=simulator.url, timeout=30) as http:
                adjudicated = (await http.get("/admin/claims")).json()
            per_claim = Counter(c["claim_control_number"] for c in adjudicated)
            assert per_claim and max(per_claim.values()) == 1, "a claim reached a payer twice"

            ids = [e.encounter_id for e in encounters]
            engine = make_engine(database_url)
            with Session(engine) as session:
                rows = session.exec(
                    select(t.Encounter.encounter_id, func.count())
                    .where(col(t.Encounter.encounter_id).in_(ids))
                    .group_by(t.Encounter.encounter_id)
                ).all()
                claims = session.exec(select(t.Claim)).all()
            assert dict(rows) == dict.fromkeys(ids, 1)
            assert {c.claim_control_number for c in claims} == set(per_claim)
            assert len(claims) == sum(len(s.claims) for s in statuses)
            once = Counter((c.encounter_id, c.payer_id, c.payer_sequence, c.frequency)
                           for c in claims)  # fmt: skip
            assert max(once.values()) == 1, "an encounter billed a payer twice"
            assert unbalanced_lines(engine) == []
            assert all(count > 0 for count in activities), f"a worker did nothing: {activities}"
            assert sum(activities) >= len(claims)
    finally:
        for worker in workers:
            stop(worker)
        simulator.stop()
        server.stop()
