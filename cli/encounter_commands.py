"""`cob submit`, `cob import`, `cob status` and `cob list`: encounters in (one JSON file, or
an 837P batch) and where they are. The reading and the queries live in cli/encounters.py and
cli/imports.py; these commands parse, call and print."""

from __future__ import annotations

from pathlib import Path

import typer
from temporalio.exceptions import WorkflowAlreadyStartedError

from cli.terminal import console, errors, run
from cob.validation import InvalidInput


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


def import_batch(
    file: Path, dry_run: bool = typer.Option(False, help="check the claims, start nothing")
) -> None:
    """Start an encounter for every good claim of an 837P batch; report and skip bad ones.

    Exit 0: every claim started; 1: some claims or transactions were skipped; 2: nothing in
    the file can be read (not X12, a broken envelope, or no 837P claim in it)."""
    from datetime import date

    from rich.markup import escape

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


def list_encounters(
    stage: str | None = typer.Option(None, help="only encounters at this stage, e.g. held"),
    payer: str | None = typer.Option(None, help="only encounters whose current payer is this"),
    balance_over: str | None = typer.Option(
        None, help="only a patient balance above this amount, e.g. 25.00"
    ),
    deadline_within: str | None = typer.Option(
        None, help="only a next deadline within this, e.g. 14d or 2w (overdue included)"
    ),
    underpaid: bool = typer.Option(
        False, "--underpaid", help="only encounters a payer paid less than the engine expected"
    ),
    limit: int = typer.Option(50, min=1, help="at most this many rows, newest first"),
) -> None:
    """List encounters by their search attributes (the same query works in the Temporal UI)."""
    from datetime import UTC, datetime

    from rich.table import Table

    from cli.encounters import list_query, parse_balance_over, parse_within
    from contract import search_attributes as sa
    from workers.temporal import connect

    try:
        by = datetime.now(UTC) + parse_within(deadline_within) if deadline_within else None
        balance = parse_balance_over(balance_over) if balance_over is not None else None
        query = list_query(stage, payer, balance, by, underpaid)
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
            "underpaid",
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
                "yes" if found.get(sa.UNDERPAID) else "-",
                f"{execution.start_time:%Y-%m-%d %H:%M}",
            )  # fmt: skip
            count += 1
        console.print(table)
        console.print(f"{count} encounter(s)")

    run(show())
