"""`cob submit`, `cob import`, `cob status` and `cob list`: encounters in (one JSON file, or
an 837P batch) and where they are. The reading and the queries live in cli/encounters.py and
cli/imports.py, what status and list show (as text and as --json) in cli/views.py; these
commands parse, call and print."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from temporalio.exceptions import WorkflowAlreadyStartedError

from cli.terminal import console, errors, run
from cob.validation import InvalidInput

if TYPE_CHECKING:
    from rich.table import Table


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

    from cli.imports import read_837_batch, read_837_file, start_batch
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
        refused = 0
        for ready, workflow_id in await start_batch(await connect(), batch):
            if workflow_id is None:
                refused += 1
                errors.print(
                    f"skipped claim {escape(named(ready))}: already started", highlight=False
                )
            else:
                console.print(
                    f"started claim {escape(named(ready))} as {workflow_id}", highlight=False
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


JSON_HELP = "print one JSON document on stdout (the fields the API serves), nothing else"
ENCOUNTER_HELP = (
    "the encounter: its id (E1001), its workflow id (encounter-E1001), or a claim's or an "
    "appeal's workflow id (encounter-E1001/claim-1-ACME01)"
)


def status(
    encounter: str = typer.Argument(..., help=ENCOUNTER_HELP),
    json_output: bool = typer.Option(
        False,
        "--json",
        help=f"{JSON_HELP}: one object, the workflow's answer as it is (member ids included); "
        "no such encounter is exit 1",
    ),
) -> None:
    """Show where an encounter is: stage, payer order, claims, money by line."""
    from rich.markup import escape

    from cli.render import line_table, summary_table
    from cli.views import encounter_view, encounter_workflow, json_text
    from workers.temporal import connect

    async def show() -> None:
        view = await encounter_view(await connect(), encounter)
        if view is None:
            errors.print(f"[red]no encounter workflow {escape(encounter_workflow(encounter))}[/]")
            raise typer.Exit(1)
        if json_output:
            print(json_text(view.as_dict()))
            return
        console.print(summary_table([(view.workflow_id, view.status)]))
        if view.status.lines:
            console.print(line_table(view.status))
        for plb in view.provider_adjustments:
            console.print(
                f"provider-level adjustment {plb['reason']} {plb['amount']} naming claim "
                f"{plb['reference']} ({plb['payer_id']}, {plb['paid_on']}, trace "
                f"{plb['trace_number']}): in the provider's account, not in the lines above"
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
    json_output: bool = typer.Option(
        False, "--json", help=f"{JSON_HELP}: a list; none found is [] and exit 0"
    ),
) -> None:
    """List encounters by their search attributes (the same query works in the Temporal UI).
    None found is one sentence naming the filters, exit 0."""
    from datetime import UTC, datetime

    from cli.encounters import list_query, parse_balance_over, parse_within
    from cli.views import encounter_rows, json_text
    from workers.temporal import connect

    try:
        by = datetime.now(UTC) + parse_within(deadline_within) if deadline_within else None
        balance = parse_balance_over(balance_over) if balance_over is not None else None
        query = list_query(stage, payer, balance, by, underpaid)
    except InvalidInput as error:
        errors.print(str(error), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    given = {"stage": stage, "payer": payer, "balance-over": balance_over,
             "deadline-within": deadline_within}  # fmt: skip
    filters = [f"{name}={value}" for name, value in given.items() if value is not None]
    filters += ["underpaid"] if underpaid else []  # named in the sentence when none matches

    async def show() -> None:
        rows = await encounter_rows(await connect(), query, limit)
        if json_output:
            print(json_text(rows))
        elif not rows:
            what = f"matches {' '.join(filters)}" if filters else "was found"
            print(f"no encounter {what} ({query})")
        else:
            console.print(encounter_table(query, rows))
            console.print(f"{len(rows)} encounter(s)")

    run(show())


def encounter_table(query: str, rows: list[dict]) -> Table:
    """`cob list`'s table, from the rows its --json prints."""
    from datetime import datetime

    from rich.table import Table

    table = Table(title=f"Encounters where {query}")
    for column in ("workflow id", "status", "stage", "current payer", "patient balance",
                   "next deadline", "underpaid", "started"):  # fmt: skip
        table.add_column(column)
    for row in rows:
        due = row["next_deadline"]
        table.add_row(
            row["workflow_id"], row["status"] or "?", row["stage"] or "-",
            row["current_payer"] or "-", row["patient_balance"] or "-",
            f"{due} {row['next_deadline_kind'] or ''}" if due else "-",
            "yes" if row["underpaid"] else "-",
            f"{datetime.fromisoformat(row['started']):%Y-%m-%d %H:%M}",
        )  # fmt: skip
    return table
