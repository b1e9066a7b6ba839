"""`make bench`: the engine's throughput against a reference workload on the same server.

Starts its own Temporal dev server (the embedded one, with the project's SQLite pragmas), the
payer simulator, an engine worker (`cob worker`) and a reference worker, each its own process
on free ports, then runs rounds in turn: the reference workload (bench/reference.py), then the
pipeline (encounters from examples/ that close without a person, each with its own members),
`--rounds` times each. A round's workflows start through the admission `cob import` uses
(cli/admission.py; `--no-admission`: all at once). A round ends when nothing it started is
still running and the engine's worker has gone quiet (an account writing statements counts
in the round). For each figure it prints min / median / max over the rounds:

    encounters/s, reference workflows/s, their ratio
    events, workflow tasks, activities, ... per encounter (the round's events, accounts' too)
    worker, server and simulator CPU seconds per encounter; worker peak RSS
    histories replayed per second

`--hold N` then starts N encounters whose payers hold every claim (acknowledged, never paid)
and reports the worker's memory once all N wait in flight.

    python -m bench [--n 200] [--rounds 3] [--ledger sqlite|postgresql] [--hold N]
                    [--no-admission] [--detail] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from bench.measure import (
    CpuMeter,
    HistoryCounts,
    memory_mb,
    replay_rate,
    round_histories,
    until_quiet,
)
from bench.reference import ACTIVITIES, TASK_QUEUE, ReferenceWorkflow
from cli.admission import Admission
from contract.ids import TASK_QUEUE as ENGINE_QUEUE

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
START_CONCURRENCY = 50  # workflow starts in flight at once from the bench's client
POLL = 0.25  # seconds between counts of the round's running workflows


@dataclass
class Round:
    kind: str  # pipeline | reference
    n: int
    seconds: float
    cpu: dict[str, float]
    counts: HistoryCounts
    peak_rss_mb: float
    replay_per_s: float = 0.0
    starting: float = 0.0  # seconds until the last of its workflows had started
    per_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.per_s = self.n / self.seconds

    def per_unit(self, name: str) -> float:
        if name == "events":
            return self.counts.events / self.n
        if name == "history_kb":
            return self.counts.bytes / 1024 / self.n
        return self.counts.kinds[name] / self.n


class Processes:
    """The server, simulator and workers of one benchmark, in a private folder."""

    def __init__(self, home: Path, database_url: str) -> None:
        self.home = home
        self.database_url = database_url
        self.children: dict[str, subprocess.Popen] = {}
        self.server = None
        self.env = dict(os.environ)

    async def start(self) -> None:
        from workers.codec import local_key_file
        from workers.devserver import DevServer, free_port

        keys = local_key_file(self.home)
        self.env.update(
            COB_HOME=str(self.home),
            COB_PAYLOAD_KEYS=str(keys),
            DATABASE_URL=self.database_url,
            PYTHONUNBUFFERED="1",
        )
        os.environ.update(COB_PAYLOAD_KEYS=str(keys), COB_HOME=str(self.home))
        self.server = DevServer(self.home / "temporal", free_port(), ui_port=None)
        await self.server.start()
        self.env["TEMPORAL_ADDRESS"] = self.server.address
        os.environ["TEMPORAL_ADDRESS"] = self.server.address
        payer_port = free_port()
        self.payer_url = f"http://127.0.0.1:{payer_port}"
        self.env["COB_PAYER_URL"] = self.payer_url
        cob = str(Path(sys.executable).parent / "cob")
        self._spawn(
            "simulator",
            [cob, "payers", "serve", "--port", str(payer_port),
             "--state", str(self.home / "payers.db")],
        )  # fmt: skip
        await self._wait_http(f"{self.payer_url}/health")
        self._spawn("worker", [cob, "worker", "--payer-url", self.payer_url])
        self._spawn("reference", [sys.executable, "-m", "bench.reference"])

    def _spawn(self, name: str, command: list[str]) -> None:
        from workers.devserver import owner_only_log

        log = owner_only_log(self.home / f"{name}.log")  # a worker's log may name patients
        self.children[name] = subprocess.Popen(
            command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            start_new_session=True,
        )  # fmt: skip

    async def _wait_http(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as http:
            while True:
                try:
                    await http.get(url)
                    return
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"nothing answers at {url}") from None
                    await asyncio.sleep(0.2)

    def pids(self) -> dict[str, int]:
        assert self.server is not None and self.server.process is not None
        return {
            "worker": self.children["worker"].pid,
            "reference": self.children["reference"].pid,
            "simulator": self.children["simulator"].pid,
            "server": self.server.process.pid,
        }

    def check_alive(self) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                raise RuntimeError(
                    f"the {name} exited with {child.returncode}; see {self.home / name}.log"
                )

    def stop(self) -> None:
        """Every process at once (SIGTERM to each group, SIGKILL after 20 s), the server too."""
        from workers.devserver import stop_process_groups

        server = self.server.process if self.server is not None else None
        stop_process_groups([*self.children.values(), *([server] if server else [])], grace=20)


async def _running(client, query: str) -> int:
    return (await client.count_workflows(f"ExecutionStatus = 'Running' AND {query}")).count


async def _wait_closed(client, query: str, processes: Processes, pid: int) -> float:
    """Until nothing the query names runs and the process is quiet; when that happened."""
    while await _running(client, query):
        processes.check_alive()
        await asyncio.sleep(POLL)
    return await until_quiet(pid)


async def _start_all(starts, admission: Admission | None = None) -> None:
    """Run the starts, START_CONCURRENCY at a time, each once `admission` lets it (when given:
    as the product's imports start encounters, cli/admission.py)."""
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def one(start) -> None:
        async with gate:
            if admission is not None:
                await admission.wait()
            await start()

    await asyncio.gather(*(one(s) for s in starts))


# The reference workflows in the admission's window: every one running (the same window)
REFERENCE_AT_WORK = "WorkflowType = 'ReferenceWorkflow' AND ExecutionStatus = 'Running'"

ROUND_QUERY = {
    # an encounter's own workflows; its guarantor's account idles once it has billed
    "pipeline": "WorkflowType != 'PatientAccountWorkflow' AND WorkflowType != 'ReferenceWorkflow'",
    "reference": "WorkflowType = 'ReferenceWorkflow'",
}


def encounters(n: int, seed: int, tag: str):
    """The fault suite's encounters (examples that close by themselves, each with its own
    members), each with a guarantor of its own, as a practice's patients mostly have: the
    examples' few patients would otherwise put every balance on a handful of accounts."""
    from cob.model import Person
    from tests.faults.encounters import fault_suite_encounters

    def guarantor(number: int) -> Person:
        letters = "".join(chr(ord("a") + (number // 26**k) % 26) for k in range(4))
        return Person(first_name="Pat", last_name=f"Bench {tag} {letters}",
                      birth_date=date(1970, 1, 1))  # fmt: skip

    return [
        e.model_copy(update={"encounter_id": f"{e.encounter_id}-{tag}", "guarantor": guarantor(i)})
        for i, e in enumerate(fault_suite_encounters(n, seed, date.today()))
    ]


async def run_round(
    client, kind: str, n: int, number: int, processes: Processes, admit: bool = True
) -> Round:
    from cli.encounters import start_encounter
    from workers.worker import WORKFLOWS

    pids = processes.pids()
    worker_pid = pids["worker" if kind == "pipeline" else "reference"]
    tag = f"b{number}{secrets.token_hex(2)}"
    if kind == "pipeline":
        batch = encounters(n, seed=number, tag=tag)
        starts = [lambda e=e: start_encounter(client, e) for e in batch]
    else:
        starts = [
            lambda i=i: client.start_workflow(
                ReferenceWorkflow.run, ACTIVITIES, id=f"reference-{tag}-{i}",
                task_queue=TASK_QUEUE,
            )
            for i in range(n)
        ]  # fmt: skip
    admission = (
        Admission(client, TASK_QUEUE, REFERENCE_AT_WORK)
        if kind == "reference"
        else Admission(client, ENGINE_QUEUE)
    )
    meter = CpuMeter(pids)
    since = datetime.now(UTC)
    meter.start()
    began = time.monotonic()
    await _start_all(starts, admission if admit else None)
    starting = time.monotonic() - began
    ended = await _wait_closed(client, ROUND_QUERY[kind], processes, worker_pid)
    meter.stop()
    until = datetime.now(UTC)
    seconds = ended - began
    listed = (
        f"StartTime >= '{since.isoformat()}' OR WorkflowType = 'PatientAccountWorkflow'"
        if kind == "pipeline"
        else f"WorkflowType = 'ReferenceWorkflow' AND StartTime >= '{since.isoformat()}'"
    )
    counts = await round_histories(client, since, until, listed)
    workflows = WORKFLOWS if kind == "pipeline" else [ReferenceWorkflow]
    closed = [h for h in counts.histories if _closed(h)]
    replay = await replay_rate(closed, workflows, client.data_converter)
    return Round(
        kind, n, seconds, meter.used, counts, memory_mb(worker_pid)[1], replay_per_s=replay,
        starting=starting,
    )  # fmt: skip


def _closed(history) -> bool:
    from temporalio.api.enums.v1 import EventType

    return history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED


async def hold_in_flight(
    client, n: int, processes: Processes, admit: bool = True
) -> tuple[float, float, float, int]:
    """N encounters held open at their first payer (every payer holding its claims: each
    acknowledged, none paid): the worker's RSS when all wait, its peak, the seconds it took
    to get them there, and how many wait for an 835."""
    from cli.encounters import start_encounter
    from payers.directory import known_payer_ids

    async with httpx.AsyncClient(base_url=processes.payer_url, timeout=30) as http:
        for payer_id in sorted(known_payer_ids()):
            (await http.post("/admin/hold", json={"payer_id": payer_id, "hold": True}))
    batch = encounters(n, seed=10_000, tag=f"h{secrets.token_hex(2)}")
    began = time.monotonic()
    starts = [lambda e=e: start_encounter(client, e) for e in batch]
    await _start_all(starts, Admission(client) if admit else None)
    # Until every one waits, or has gone as far as it can (a self-pay encounter closes; one
    # whose payer holds a prior authorization waits in another stage): no change in a minute.
    waiting = "WorkflowType = 'EncounterWorkflow' AND CobStage = 'awaiting_remittance'"
    counts: list[int] = []
    while True:
        held = (await client.count_workflows(f"ExecutionStatus = 'Running' AND {waiting}")).count
        counts.append(held)
        processes.check_alive()
        if held >= n or (len(counts) > 2 and counts[-3] == held):
            break
        rss, peak = memory_mb(processes.pids()["worker"])
        print(f"  {held} of {n} held after {time.monotonic() - began:.0f} s; worker RSS "
              f"{rss:.0f} MB, peak {peak:.0f} MB", flush=True)  # fmt: skip
        await asyncio.sleep(30)
    seconds = time.monotonic() - began
    await until_quiet(processes.pids()["worker"])
    rss, peak = memory_mb(processes.pids()["worker"])
    return rss, peak, seconds, held


FIGURES = [
    # (label, how to read it from a pipeline round, the reference round)
    ("encounters/s (pipeline)", lambda p, r: p.per_s),
    ("workflows/s (reference)", lambda p, r: r.per_s),
    ("ratio pipeline/reference", lambda p, r: p.per_s / r.per_s),
    ("events per encounter", lambda p, r: p.per_unit("events")),
    ("history KB per encounter (protobuf)", lambda p, r: p.per_unit("history_kb")),
    ("workflow executions per encounter", lambda p, r: p.per_unit("executions")),
    ("workflow tasks per encounter", lambda p, r: p.per_unit("workflow_tasks")),
    ("workflow task timeouts per encounter", lambda p, r: p.per_unit("workflow_task_timeouts")),
    ("activities per encounter", lambda p, r: p.per_unit("activities")),
    ("local activities per encounter", lambda p, r: p.per_unit("local_activities")),
    ("version markers per encounter", lambda p, r: p.per_unit("markers")),
    ("signals per encounter", lambda p, r: p.per_unit("signals")),
    ("search-attribute upserts per encounter", lambda p, r: p.per_unit("upserts")),
    ("timers per encounter", lambda p, r: p.per_unit("timers")),
    ("worker CPU s per encounter", lambda p, r: p.cpu["worker"] / p.n),
    ("server CPU s per encounter", lambda p, r: p.cpu["server"] / p.n),
    ("simulator CPU s per encounter", lambda p, r: p.cpu["simulator"] / p.n),
    ("server CPU s per reference workflow", lambda p, r: r.cpu["server"] / r.n),
    ("worker CPU s per reference workflow", lambda p, r: r.cpu["reference"] / r.n),
    ("worker peak RSS MB", lambda p, r: p.peak_rss_mb),
    ("replay: encounter histories/s", lambda p, r: p.replay_per_s),
]


def report(pairs: list[tuple[Round, Round]]) -> list[str]:
    width = max(len(label) for label, _ in FIGURES)
    lines = [f"{'':{width}}  {'min':>9} {'median':>9} {'max':>9}"]
    for label, read in FIGURES:
        values = [read(p, r) for p, r in pairs]
        lines.append(
            f"{label:{width}}  {min(values):9.3f} {statistics.median(values):9.3f} "
            f"{max(values):9.3f}"
        )
    return lines


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def _postgres_database() -> tuple[str, str]:
    import psycopg

    name = f"cob_bench_{secrets.token_hex(3)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def bench(args: argparse.Namespace) -> int:
    from workers.temporal import connect

    home = Path(tempfile.mkdtemp(prefix="cob-bench-"))
    os.chmod(home, 0o700)
    database = None
    if args.ledger == "postgresql":
        database, url = _postgres_database()
    else:
        url = f"sqlite:///{home / 'ledger.db'}"
    processes = Processes(home, url)
    print(f"cob bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")
    print(f"  ledger {args.ledger}; {args.n} encounters and {args.n} reference workflows a "
          f"round, {args.rounds} rounds each, alternating; state in {home}")  # fmt: skip
    try:
        await processes.start()
        client = await connect()
        # a warm-up: imports, connections and caches, not measured
        await run_round(client, "reference", min(args.n, 20), 0, processes)
        await run_round(client, "pipeline", min(args.n, 20), 0, processes)
        pairs = []
        for number in range(1, args.rounds + 1):
            reference = await run_round(
                client, "reference", args.n, number, processes, args.admission
            )
            pipeline = await run_round(client, "pipeline", args.n, number, processes, args.admission)
            print(
                f"  round {number}: reference {reference.per_s:.2f}/s, "
                f"pipeline {pipeline.per_s:.2f} encounters/s ({pipeline.seconds:.1f} s), "
                f"{pipeline.per_unit('events'):.0f} events and "
                f"{pipeline.per_unit('workflow_task_timeouts'):.2f} task timeouts per encounter; "
                f"the last started after {pipeline.starting:.0f} s",
                flush=True,
            )
            pairs.append((pipeline, reference))
        print()
        print("\n".join(report(pairs)))
        if args.detail:
            last = pairs[-1][0]
            print("\nper encounter, by type (the last round):")
            for name, count in sorted(last.counts.activity_types.items()):
                print(f"  {count / last.n:6.2f}  {name}")
            print("events per encounter, by type (the last round):")
            for name, count in last.counts.event_types.most_common():
                print(f"  {count / last.n:6.2f}  {name}")
        if args.hold:
            rss, peak, seconds, held = await hold_in_flight(
                client, args.hold, processes, args.admission
            )
            print(
                f"\n{args.hold} encounters started, {held} of them waiting for an 835 at "
                f"payers that hold their claims: worker RSS {rss:.0f} MB, peak {peak:.0f} MB; "
                f"{seconds:.0f} s to get them there"
            )
        return 0
    finally:
        # A second Ctrl-C or kill must not cut the clean-up short: nothing would stop what
        # is left (each process runs in its own session), and the state would stay on disk.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        processes.stop()
        if database:
            _drop_postgres(database)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="encounters (and reference workflows) a round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each, alternating (3 or more)")
    parser.add_argument("--ledger", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--hold", type=int, default=0, metavar="N",
                        help="then N encounters held in flight: the worker's memory")
    parser.add_argument("--detail", action="store_true",
                        help="also the activities and workflows per encounter, by type")
    parser.add_argument("--keep", action="store_true", help="keep the state folder and logs")
    parser.add_argument("--no-admission", dest="admission", action="store_false",
                        help="start a round's workflows all at once, not as the workers keep up")
    args = parser.parse_args(argv)  # fmt: skip
    if args.rounds < 1 or args.n < 1 or args.hold < 0:
        parser.error("--n and --rounds must be 1 or more, --hold 0 or more")
    # A kill stops the run as Ctrl-C does: its server, simulator and workers stop with it.
    # SIGINT too, even when it came in ignored (a job started in the background with `&`, or
    # under nohup, has it ignored, so `kill -INT` and `timeout -s INT` did nothing).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return asyncio.run(bench(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
