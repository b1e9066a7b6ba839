"""What the Temporal server keeps: on a real dev server, the demo's examples run to the end
with the real worker and simulator, and the server's SQLite file then holds none of their
patients' last names, birth dates or member ids; the same history read through our client
decrypts back to the encounter."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from cli.demo import example_files, poll, start_examples
from contract.messages import EncounterRun
from payers.simulator.serve import start_in_thread
from workers.codec import ENCODING
from workers.devserver import DevServer, free_port
from workers.temporal import connect
from workers.worker import WorkerSettings, build_worker

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def patient_data() -> set[str]:
    """Every example's last names, birth dates and member ids (the patient's and the
    subscribers'). A short name is looked for as JSON and X12 carry it ("Shah", *Shah*):
    4 given bytes turn up by chance in the megabytes of ciphertext about once in 600 runs."""
    found: set[str] = set()
    for path in example_files(EXAMPLES):
        data = json.loads(path.read_text())
        people = [data["patient"], *(c.get("subscriber") or {} for c in data["coverages"])]
        names = {p["last_name"] for p in people if "last_name" in p}
        found |= {name for name in names if len(name) >= 5}
        found |= {f'"{name}"' for name in names} | {f"*{name}*" for name in names}
        found |= {p["birth_date"] for p in people if "birth_date" in p}
        found |= {c["member_id"] for c in data["coverages"]}
    return found


async def test_no_patient_data_in_the_temporal_database(tmp_path: Path) -> None:
    secrets_ = patient_data()
    assert {"Moreno", "1985-04-02", "ACM100200300", "Alvarez"} <= secrets_
    server = DevServer(tmp_path / "temporal", free_port(), ui_port=None)
    simulator = start_in_thread(tmp_path / "payers.db")
    try:
        await server.start()
        client = await connect(server.address)
        settings = WorkerSettings(
            payer_url=simulator.url,
            database_url=f"sqlite:///{tmp_path / 'ledger.db'}",
            statements_dir=tmp_path / "statements",
        )
        async with build_worker(client, settings):
            items = await start_examples(client, EXAMPLES, "rest")
            for _ in range(1200):  # up to 4 minutes
                await asyncio.gather(*(poll(client, i) for i in items if not i.done))
                if all(item.done for item in items):
                    break
                await asyncio.sleep(0.2)
        assert all(item.done for item in items), [i.name for i in items if not i.done]

        # read through our client, the history decrypts to the encounter it started with
        first = items[0]
        history = await first.handle.fetch_history()
        started = history.events[0]
        assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        [stored] = started.workflow_execution_started_event_attributes.input.payloads
        assert stored.metadata["encoding"] == ENCODING
        [run] = await client.data_converter.decode([stored], [EncounterRun])
        assert run.encounter.patient.last_name == "Moreno"
        assert run.encounter.encounter_id == "E1001-rest"
    finally:
        simulator.stop()
        server.stop()

    files = sorted((tmp_path / "temporal").glob("temporal.db*"))
    stored_bytes = b"".join(path.read_bytes() for path in files)
    assert b"encounter-E1001-rest" in stored_bytes  # the right file, written: ids are not secret
    found = sorted(value for value in secrets_ if value.encode() in stored_bytes)
    assert found == [], f"patient data in plaintext in {[p.name for p in files]}"
