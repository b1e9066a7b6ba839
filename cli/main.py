"""The `cob` command: parse, call, print. Rules live in cob/, I/O in activities/ and payers/."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer
from rich.console import Console
from temporalio.exceptions import WorkflowAlreadyStartedError

from cob.validation import InvalidInput

app = typer.Typer(no_args_is_help=True, add_completion=False, help="COB workflow engine")
payers_app = typer.Typer(no_args_is_help=True, help="The payer simulator")
app.add_typer(payers_app, name="payers")
explain_app = typer.Typer(no_args_is_help=True, help="Check one case by hand: JSON in, JSON out")
app.add_typer(explain_app, name="explain")
from cli.appeals import app as appeals_app  # noqa: E402
from cli.era import app as era_app  # noqa: E402
from cli.x12 import app as x12_app  # noqa: E402

app.add_typer(appeals_app, name="appeal")
app.add_typer(era_app, name="era")
app.add_typer(x12_app, name="x12")
console = Console()
if not console.is_terminal:  # logs and pipes: wide enough for the summary table
    console = Console(width=150)
errors = Console(stderr=True, soft_wrap=True)  # messages are never broken mid-line

EXAMPLES = Path("examples")


def _interrupt(signum, frame):  # SIGTERM stops as cleanly as Ctrl-C
    raise KeyboardInterrupt


def run(coroutine) -> object:
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        errors.print("interrupted")
        raise typer.Exit(130) from None


@app.command()
def demo(
    keep: bool = typer.Option(False, "--keep", help="leave the server and UI up until Ctrl-C"),
    examples: Path = typer.Option(EXAMPLES, help="folder of encounter JSON files"),
    port: int = typer.Option(7233, help="Temporal frontend port"),
    ui_port: int = typer.Option(8233, help="Temporal UI port"),
) -> None:
    """Start Temporal, the payer simulator and a worker; run every example encounter."""
    from cli.demo import run_demo

    code = run(run_demo(examples, keep, console, port, ui_port))
    raise typer.Exit(code)


@app.command()
def server(port: int = typer.Option(7233), ui_port: int = typer.Option(8233)) -> None:
    """Run the embedded Temporal dev server alone, until Ctrl-C."""
    from ledger.db import cob_home
    from workers.devserver import DevServer

    async def serve() -> None:
        dev = DevServer(cob_home() / "temporal", port, ui_port)
        try:
            await dev.start()
            console.print(f"Temporal at {dev.address}, UI at {dev.ui_url}; Ctrl-C stops it")
            await asyncio.Event().wait()
        finally:
            dev.stop()

    run(serve())


@app.command()
def worker(
    payer_url: str = typer.Option(
        os.environ.get("COB_PAYER_URL", "http://127.0.0.1:8090"), help="payer simulator URL"
    ),
) -> None:
    """Run a worker against TEMPORAL_ADDRESS (default the embedded server at 127.0.0.1:7233)."""
    from workers.logs import configure_worker_logging
    from workers.temporal import connect, temporal_address
    from workers.worker import WorkerSettings, build_worker, payers_unreachable

    configure_worker_logging()

    async def work() -> None:
        client = await connect()
        worker = build_worker(client, WorkerSettings(payer_url=payer_url))
        # Not fatal: payers come and go, and their calls are retried; the workflows go on.
        if problem := await payers_unreachable(payer_url):
            errors.print(f"warning: {problem}", markup=False, highlight=False)
        console.print(f"worker on {temporal_address()}, payers at {payer_url}")
        await worker.run()

    run(work())


@payers_app.command("serve")
def payers_serve(
    port: int = typer.Option(8090),
    host: str = typer.Option("127.0.0.1"),
    state: Path = typer.Option(None, help="SQLite file for the payers' own state"),
    latency: float = typer.Option(0.0, help="seconds added to every answer"),
) -> None:
    """Run the payer simulator (HTTP) until Ctrl-C."""
    from ledger.db import cob_home
    from payers.simulator.serve import serve

    serve(host, port, state or cob_home() / "payers.db", latency)


@app.command()
def submit(file: Path, wait: bool = typer.Option(False, help="wait for the encounter to close")):
    """Validate one encounter file and start its workflow."""
    from rich.markup import escape

    from cli.encounters import load_encounter, start_encounter
    from cli.render import summary_table
    from workers.temporal import connect, workflow_url

    try:
        encounter = load_encounter(file)
    except InvalidInput as error:  # the value may hold '[': never read as markup
        errors.print(
            f"[red]invalid encounter[/] {escape(str(file))}: {escape(str(error))}", highlight=False
        )
        raise typer.Exit(2) from None

    async def start() -> None:
        client = await connect()
        try:
            handle = await start_encounter(client, encounter)
        except WorkflowAlreadyStartedError:
            errors.print(f"[red]encounter {encounter.encounter_id} was already started[/]; "
                         f"see `cob status {encounter.encounter_id}`")  # fmt: skip
            raise typer.Exit(1) from None
        console.print(f"started {handle.id}\n  {workflow_url(handle.id)}")
        if wait:
            console.print(summary_table([(handle.id, await handle.result())]))

    run(start())


@app.command("import")
def import_batch(
    file: Path, dry_run: bool = typer.Option(False, help="check the claims, start nothing")
) -> None:
    """Start an encounter for every good claim of an 837P batch; report and skip bad ones.

    Exit 0: every claim started; 1: some claims or transactions were skipped; 2: nothing in
    the file can be read (not X12, a broken envelope, or no 837P claim in it)."""
    from datetime import date

    from rich.markup import escape
    from temporalio.exceptions import WorkflowAlreadyStartedError

    from cli.encounters import start_encounter
    from cli.imports import read_837_batch, read_837_file
    from payers.directory import known_payer_ids
    from payers.x12.segments import X12Error
    from workers.temporal import connect

    try:
        batch = read_837_batch(read_837_file(file), known_payer_ids(), date.today())
    except (InvalidInput, X12Error) as error:
        reason = error.message if isinstance(error, InvalidInput) else str(error)
        errors.print(
            f"[red]cannot import[/] {escape(str(file))}: {escape(reason)}", highlight=False
        )
        raise typer.Exit(2) from None
    total = len(batch.claims) + len(batch.skipped)
    if total == 0:  # an 837I, a 4010 file, no claim at all: one line per transaction refused
        for reason in [r.reason for r in batch.refused] or ["the file holds no 837 transaction"]:
            errors.print(
                f"[red]cannot import[/] {escape(str(file))}: {escape(reason)}", highlight=False
            )
        raise typer.Exit(2)
    for refused in batch.refused:
        errors.print(f"skipped transaction: {escape(refused.reason)}", highlight=False)
    for skipped in batch.skipped:
        errors.print(
            f"skipped claim {escape(skipped.claim_control_number)}: {escape(skipped.reason)}",
            highlight=False,
        )

    def named(ready) -> str:  # the encounter id is CLM01 unless CLM01 does not fit one
        ccn, encounter_id = ready.claim_control_number, ready.encounter.encounter_id
        return ccn if ccn == encounter_id else f"{ccn} as encounter {encounter_id}"

    async def start() -> int:
        client = await connect()
        refused = 0
        for ready in batch.claims:
            try:
                handle = await start_encounter(client, ready.encounter)
                console.print(
                    f"started claim {escape(named(ready))} as {handle.id}", highlight=False
                )
            except WorkflowAlreadyStartedError:
                refused += 1
                errors.print(
                    f"skipped claim {escape(named(ready))}: already started", highlight=False
                )
        return refused

    refused = 0
    if dry_run:
        for ready in batch.claims:
            console.print(f"ready claim {escape(named(ready))}", highlight=False)
    else:
        refused = run(start())
    transactions = f", {len(batch.refused)} transactions refused" if batch.refused else ""
    console.print(
        f"{len(batch.claims) - refused} of {total} claims {'ready' if dry_run else 'started'}, "
        f"{len(batch.skipped) + refused} skipped{transactions}"
    )
    raise typer.Exit(1 if batch.skipped or batch.refused or refused else 0)


@app.command()
def status(encounter: str = typer.Argument(..., help="encounter id or workflow id")) -> None:
    """Show where an encounter is: stage, payer order, claims, money by line."""
    from cli.encounters import encounter_status_or_none
    from cli.render import line_table, summary_table
    from contract.ids import workflow_id_of
    from ledger.db import make_engine
    from ledger.documents import adjustments_naming
    from workers.temporal import connect

    workflow_id = workflow_id_of(encounter)

    async def show() -> None:
        current = await encounter_status_or_none(await connect(), workflow_id)
        if current is None:
            errors.print(f"[red]no encounter workflow {workflow_id}[/]")
            raise typer.Exit(1)
        console.print(summary_table([(workflow_id, current)]))
        if current.lines:
            console.print(line_table(current))
        for plb in adjustments_naming(make_engine(), current.encounter_id):
            console.print(
                f"provider-level adjustment {plb.reason} {plb.amount} naming claim "
                f"{plb.reference} ({plb.payer_id}, {plb.paid_on}, trace {plb.trace_number}): "
                "in the provider's account, not in the lines above"
            )

    run(show())


def parse_balance_over(text: str) -> Decimal:
    """`cob list --balance-over`: an amount from 0 to the largest charge taken, written as the
    visibility query needs it (plain digits, never 1E+3, NaN or Infinity)."""
    from cob.validation import MAX_CHARGE

    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput("--balance-over", f"{text!r} is not an amount like 25.00") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_CHARGE:
        raise InvalidInput("--balance-over", f"{text!r} is not an amount from 0 to {MAX_CHARGE}")
    return Decimal(f"{abs(amount):f}")  # -0 is 0


@app.command("list")
def list_encounters(
    stage: str | None = typer.Option(None, help="only encounters at this stage, e.g. held"),
    payer: str | None = typer.Option(None, help="only encounters whose current payer is this"),
    balance_over: str | None = typer.Option(
        None, help="only a patient balance above this amount, e.g. 25.00"
    ),
    deadline_within: str | None = typer.Option(
        None, help="only a next deadline within this, e.g. 14d or 2w (overdue included)"
    ),
    limit: int = typer.Option(50, min=1, help="at most this many rows, newest first"),
) -> None:
    """List encounters by their search attributes (the same query works in the Temporal UI)."""
    from datetime import UTC, datetime

    from rich.table import Table

    from cli.encounters import list_query, parse_within
    from contract import search_attributes as sa
    from workers.temporal import connect

    try:
        by = datetime.now(UTC) + parse_within(deadline_within) if deadline_within else None
        balance = parse_balance_over(balance_over) if balance_over is not None else None
        query = list_query(stage, payer, balance, by)
    except InvalidInput as error:
        errors.print(str(error), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None

    async def show() -> None:
        client = await connect()
        table = Table(title=f"Encounters where {query}")
        for column in (
            "workflow id",
            "status",
            "stage",
            "current payer",
            "patient balance",
            "next deadline",
            "started",
        ):
            table.add_column(column)
        count = 0
        async for execution in client.list_workflows(query, limit=limit):
            found = execution.typed_search_attributes
            balance = found.get(sa.PATIENT_BALANCE)
            due, kind = found.get(sa.NEXT_DEADLINE), found.get(sa.NEXT_DEADLINE_KIND)
            status = execution.status.name if execution.status else "?"
            table.add_row(
                execution.id, status, found.get(sa.STAGE) or "-", found.get(sa.CURRENT_PAYER) or "-",
                "-" if balance is None else f"{balance:.2f}",
                f"{due:%Y-%m-%d} {kind or ''}" if due else "-",
                f"{execution.start_time:%Y-%m-%d %H:%M}",
            )  # fmt: skip
            count += 1
        console.print(table)
        console.print(f"{count} encounter(s)")

    run(show())


@app.command()
def tasks(
    encounter: str | None = typer.Option(None, help="only this encounter's tasks"),
    all_tasks: bool = typer.Option(False, "--all", help="closed tasks too"),
) -> None:
    """The billing team's worklist: what a deadline or a follow-up needs, by due date."""
    from ledger.db import make_engine
    from ledger.worklist import tasks as worklist_tasks

    found = worklist_tasks(make_engine(), encounter_id=encounter, include_closed=all_tasks)
    for task in found:
        closed = f"  [closed: {task['resolution']}]" if task["status"] == "closed" else ""
        print(f"due {task['due'] or '-':10}  {task['kind']:18} {task['encounter_id']:14} "
              f"{task['payer_id']:7} opened {task['opened_on']}  {task['reason']}{closed}")  # fmt: skip
    print(f"{len(found)} task(s){'' if all_tasks else ' open'}")


@app.command()
def timeline(encounter: str = typer.Argument(..., help="encounter id or workflow id")) -> None:
    """What the engine did for an encounter, step by step with its dates, from the audit
    trail (the encounter, its claims and their appeals)."""
    from contract.ids import workflow_id_of
    from ledger.db import make_engine
    from ledger.queries import encounter_timeline

    workflow_id = workflow_id_of(encounter)
    events = encounter_timeline(make_engine(), workflow_id)
    if not events:
        errors.print(f"[red]no audit events in the ledger for {workflow_id}[/]")
        raise typer.Exit(1)
    for event in events:
        where = event["workflow_id"].removeprefix(workflow_id).lstrip("/") or "encounter"
        print(f"{event['on']}  {where:22} {event['kind']:22} {step_summary(event['detail'])}")


def step_summary(detail: dict) -> str:
    """One line about an audit step: its reason, else the fields a reader looks for."""
    if detail.get("reason"):
        return str(detail["reason"])
    keys = ("category", "status_code", "claim_control_number", "payer_claim_number", "paid",
            "due", "rule", "on_time", "patient_responsibility", "status")  # fmt: skip
    return ", ".join(f"{k}={detail[k]}" for k in keys if detail.get(k) not in (None, "", []))


@app.command()
def documents(
    encounter: str = typer.Argument(..., help="encounter id (as in `cob status`)"),
    out: Path | None = typer.Option(None, help="write each document to a file in this folder"),
) -> None:
    """List the X12 documents the ledger kept for an encounter (sent and received, 835s
    included), or write them out to validate or hand to an auditor."""
    from ledger.db import make_engine
    from ledger.documents import adjustments_naming, documents_for, provider_adjustments

    ledger = make_engine()
    kept = documents_for(ledger, encounter)
    adjustments: dict[str, list] = {}
    for plb in provider_adjustments(ledger):
        adjustments.setdefault(plb.document_key, []).append(plb)
    if not kept:
        errors.print(f"[red]no X12 documents in the ledger for encounter {encounter}[/]")
        raise typer.Exit(1)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    for n, document in enumerate(kept, start=1):
        about = document.claim_control_number or document.era_cursor or ""
        where = ""
        if out is not None:
            path = out / f"{n:02d}-{document.transaction}-{document.payer_id}.x12"
            path.write_text(document.text)
            where = f"  -> {path}"
        problem = f"  PROBLEM: {document.problem}" if document.problem else ""
        print(f"{n:2d} {document.recorded_at:%Y-%m-%d %H:%M:%S} {document.direction:8} "
              f"{document.transaction:5} {document.payer_id:7} {about}{where}{problem}")  # fmt: skip
        for plb in adjustments.pop(document.key, []):
            print(f"   PLB {plb.reason} {plb.amount} ref {plb.reference or '-'} "
                  "(provider-level account, `cob era adjustments`)")  # fmt: skip
    shown = {(plb.document_key, plb.seq) for plbs in adjustments.values() for plb in plbs}
    for plb in adjustments_naming(ledger, encounter):
        if (plb.document_key, plb.seq) in shown:  # in an 835 that carries none of its claims
            print(f"   PLB {plb.reason} {plb.amount} names claim {plb.reference} "
                  f"({plb.document_key}, {plb.paid_on})")  # fmt: skip


def _explain(file: Path, table: bool, answer, render) -> None:
    from rich.markup import escape

    from cli.encounters import read_json

    try:
        result = answer(read_json(file))
    except InvalidInput as error:  # the value may hold '[': never read as markup
        errors.print(
            f"[red]invalid case[/] {escape(str(file))}: {escape(str(error))}", highlight=False
        )
        raise typer.Exit(2) from None
    if table:
        console.print(render(result))
    else:
        print(json.dumps(result, indent=2, default=str))


@explain_app.command("order")
def explain_order(
    file: Path, table: bool = typer.Option(False, "--table", help="a readable table, not JSON")
) -> None:
    """Order of benefits for a patient's coverages on a date of service, with the deciding rules."""
    from cli.explain import explain_order, order_table

    _explain(file, table, explain_order, order_table)


@explain_app.command("payment")
def explain_payment(
    file: Path, table: bool = typer.Option(False, "--table", help="a readable table, not JSON")
) -> None:
    """One line's payment by a later payer, by its COB method, with every test and the winner."""
    from cli.explain import explain_payment, payment_table

    _explain(file, table, explain_payment, payment_table)


def unreachable(error: BaseException) -> str | None:
    """One line for a part that cannot be reached or started: the Temporal server, the ledger
    database, the payer simulator, the embedded dev server; None for anything else (a bug,
    whose traceback is worth seeing)."""
    from sqlalchemy.exc import InterfaceError, OperationalError
    from temporalio.service import RPCError, RPCStatusCode

    from contract.ids import TASK_QUEUE
    from ledger.db import LedgerUnreachable, database_url
    from payers.simulator.serve import SimulatorUnavailable
    from workers.devserver import DevServerFailed
    from workers.temporal import START_IT, TemporalUnreachable, temporal_address

    known = (TemporalUnreachable, LedgerUnreachable, SimulatorUnavailable, DevServerFailed)
    if isinstance(error, known):
        return str(error)
    if isinstance(error, RPCError) and error.status == RPCStatusCode.UNAVAILABLE:
        return f"lost the Temporal server at {temporal_address()} ({error.message}): {START_IT}"
    timed_out = (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED)
    if isinstance(error, RPCError) and error.status in timed_out:
        # a query or an update waits for a worker of the task queue; none came
        return (
            f"no worker answered on task queue {TASK_QUEUE} of the Temporal server at "
            f"{temporal_address()} ({error.message}): start one with `cob worker` "
            "(or `cob demo --keep`)"
        )
    if isinstance(error, OperationalError | InterfaceError):  # the database went away mid-run
        return str(LedgerUnreachable(database_url(), error))
    return None


def main() -> None:
    """Run the CLI, then leave without interpreter teardown: temporalio's native runtime can
    abort at exit (sdk-python #300), which must never change the exit code we decided. A part
    that cannot be reached is one line on stderr and exit 1, never a traceback."""
    from ledger.home import owner_only, secure_home

    owner_only()  # before anything is written: ledger, statements, logs are patient data
    secure_home()
    try:
        app()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except Exception as error:
        line = unreachable(error)
        if line is None:
            raise
        errors.print(line, markup=False, highlight=False)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
