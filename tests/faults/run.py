"""The fault suite: the same encounters run twice on the time-skipping Temporal server with
the real worker, simulator and ledger: once straight to the payers, once through the fault
proxy (each run with a fresh server, simulator and ledger). Every encounter must come out
the same: none lost, nothing done twice, every line balanced, the same stage and money.

    python -m tests.faults.run --encounters 300 --seed 7

Exit 0 when lost, doubled, unbalanced and different are all 0; 1 otherwise, with the first
differences listed (encounter, field, expected, got) and the faults that touched them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.api.testservice.v1 import LockTimeSkippingRequest, UnlockTimeSkippingRequest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from cli.encounters import start_encounter
from cob.model import Encounter
from contract.messages import EncounterStatus
from ledger.db import dispose_engine, make_engine
from payers.simulator.serve import start_in_thread
from tests.faults.encounters import fault_suite_encounters
from tests.faults.outcomes import (
    Comparison,
    EncounterResult,
    compare,
    ledger_view,
    outcome_fields,
    payer_counts,
)
from tests.faults.plan import DEFAULT_RATES, FaultPlan, parse_rates
from tests.faults.proxy import InjectedFault, start_proxy
from tests.faults.report import report_lines
from tests.workflow_harness import running_worker, start_time_skipping
from workflows.encounter import EncounterWorkflow

RPC_TIMEOUT = timedelta(seconds=15)
RESULT_SLICE = 20.0  # seconds of waiting for a result before reading the history instead
WORKFLOW_ENDS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "FAILED",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "TIMED_OUT",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "TERMINATED",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "CANCELED",
}


@dataclass
class RunResult:
    """One run of every encounter, with or without the proxy."""

    results: dict[str, EncounterResult]
    payers_doubled: dict[str, Counter[str]]
    seconds: float
    requests: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    faults: list[InjectedFault] = field(default_factory=list)

    def stages(self) -> Counter[str]:
        return Counter(r.fields.get("stage", r.finished) for r in self.results.values())


@dataclass
class SuiteReport:
    clean: RunResult
    faulty: RunResult
    comparison: Comparison


@asynccontextmanager
async def _time_skipping_while_waiting(env: WorkflowEnvironment):
    """Time skips while every result is awaited, by one unlock for all of them. (The SDK's
    own unlock per awaited result, with hundreds awaited at once and some given up, left
    the test server with "Unbalanced lock and unlock calls" and a workflow that no call
    could reach.)"""
    with env.auto_time_skipping_disabled():
        await env.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
        try:
            yield
        finally:
            await env.client.test_service.lock_time_skipping(LockTimeSkippingRequest())


def _failure(error: BaseException) -> str:
    """The innermost cause of a failed workflow, short."""
    while getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[assignment]
    return f"{type(error).__name__}: {error}"[:200]


async def _closed(
    client: Client, handle: WorkflowHandle
) -> tuple[str, EncounterStatus | None, str] | None:
    """How the workflow ended, read from its history (no long poll), or None while it runs."""
    history = await handle.fetch_history(rpc_timeout=RPC_TIMEOUT)
    last = history.events[-1]
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        payloads = last.workflow_execution_completed_event_attributes.result.payloads
        [status] = await client.data_converter.decode(payloads, [EncounterStatus])
        return "completed", status, ""
    if last.event_type in WORKFLOW_ENDS:
        end = WORKFLOW_ENDS[last.event_type]
        failure = last.workflow_execution_failed_event_attributes.failure
        if not failure.message:
            return end, None, end
        # the message is encrypted with the payloads (workers/codec.py): decoded here
        error = await client.data_converter.decode_failure(failure)
        while getattr(error, "cause", None) is not None:
            error = error.cause  # type: ignore[assignment]
        return end, None, str(getattr(error, "message", error))[:200] or end
    return None


async def _finish(
    client: Client, handle: WorkflowHandle, deadline: float
) -> tuple[str, EncounterStatus | None, str]:
    """The encounter's end: its result, awaited in slices and between them read from the
    history (no long poll), so that one unanswered call cannot hold up the run."""
    while True:
        left = deadline - time.monotonic()
        try:
            status = await asyncio.wait_for(handle.result(), max(1.0, min(RESULT_SLICE, left)))
            return "completed", status, ""
        except (WorkflowFailureError, TimeoutError):
            pass
        ended = await _closed(client, handle)
        if ended is not None:
            return ended
        if left <= RESULT_SLICE:
            break
    # still running (e.g. held, asking a payer again): its stage as it stands
    waited = "still running at the run's timeout"
    try:
        status = await handle.query(EncounterWorkflow.status, rpc_timeout=RPC_TIMEOUT)
    except Exception as error:  # noqa: BLE001  (reported as the reason it is lost)
        return "RUNNING", None, f"{waited}; {_failure(error)}"
    return "RUNNING", status, waited


async def run_encounters(
    encounters: list[Encounter], workdir: Path, plan: FaultPlan | None, timeout: float
) -> RunResult:
    """Every encounter through a fresh test server, simulator and ledger; through the fault
    proxy when `plan` is given."""
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{workdir / 'ledger.db'}"
    simulator = start_in_thread(workdir / "payers.db")
    proxy = start_proxy(simulator.url, plan) if plan is not None else None
    started = time.monotonic()
    try:
        async with await start_time_skipping() as env:
            payer_url = proxy.url if proxy else simulator.url
            async with running_worker(env.client, payer_url, database_url, workdir) as settings:
                handles = [
                    await start_encounter(env.client, e, task_queue=settings.task_queue)
                    for e in encounters
                ]
                async with _time_skipping_while_waiting(env):
                    ends = await asyncio.gather(
                        *(_finish(env.client, h, started + timeout) for h in handles)
                    )
        seconds = time.monotonic() - started
        simulator_claims = httpx.get(f"{simulator.url}/admin/claims", timeout=30).json()
        engine = make_engine(database_url)
        results = {}
        for encounter, (finished, status, failure) in zip(encounters, ends, strict=True):
            view = ledger_view(engine, encounter.encounter_id)
            fields = outcome_fields(status, view.auths) if status is not None else {}
            results[encounter.encounter_id] = EncounterResult(
                encounter.encounter_id, finished, fields, view, failure
            )
        run = RunResult(results, payer_counts(simulator_claims), seconds)
        if proxy is not None:
            run.requests = proxy.proxy.requests
            run.injected = Counter(proxy.proxy.injected)
            run.faults = list(proxy.proxy.faults)
        return run
    finally:
        if proxy is not None:
            proxy.stop()
        simulator.stop()
        dispose_engine(database_url)


async def fault_suite(
    encounters: list[Encounter],
    plan: FaultPlan,
    workdir: Path,
    timeout: float = 900.0,
    say=lambda line: None,
) -> SuiteReport:
    clean = await run_encounters(encounters, workdir / "without-faults", None, timeout)
    say(f"without faults: {clean.seconds:.1f} s")
    faulty = await run_encounters(encounters, workdir / "with-faults", plan, timeout)
    say(f"with faults: {faulty.seconds:.1f} s")
    return SuiteReport(clean, faulty, compare(clean.results, faulty.results, faulty.payers_doubled))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--encounters", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rates",
        default="",
        help="fault rates replacing the defaults, e.g. '500=0.1,hang=0' (kinds: "
        + ", ".join(f"{k}={v}" for k, v in DEFAULT_RATES.items())
        + ")",
    )
    parser.add_argument("--hang-seconds", type=float, default=11.0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--show", type=int, default=20, help="differences listed")
    parser.add_argument("--workdir", type=Path, help="kept afterwards (default: a temp dir)")
    args = parser.parse_args(argv)
    try:
        plan = FaultPlan(
            seed=args.seed,
            rates={**DEFAULT_RATES, **parse_rates(args.rates)},
            hang_seconds=args.hang_seconds,
        )
    except ValueError as error:
        parser.error(str(error))  # exit 2, naming the rate at fault
    encounters = fault_suite_encounters(args.encounters, args.seed)
    # A failed activity attempt is the point here, not news: its traceback is left out.
    logging.getLogger("temporalio").setLevel(logging.ERROR)
    print(f"fault suite: {len(encounters)} encounters, seed {args.seed}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cob-faults-") as scratch:
        workdir = args.workdir or Path(scratch)
        say = lambda line: print(line, flush=True)  # noqa: E731
        report = asyncio.run(fault_suite(encounters, plan, workdir, args.timeout, say))
    print("\n".join(report_lines(report, encounters, args.show)), flush=True)
    return 1 if report.comparison.failed else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio's native runtime can abort at interpreter exit (see tests/conftest.py)
    os._exit(code)
