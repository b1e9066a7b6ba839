"""`cob x12 read FILE`: what the engine understood of an X12 file, as JSON or a table, so a
billing team can check a file before it touches money. Reads only; starts nothing."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cli.terminal import errors

app = typer.Typer(no_args_is_help=True, help="Read X12 files the way the engine reads them")


def read_file(path: Path) -> str:
    """The file's text as delivered, or a clear exit 2 (unreadable, not text)."""
    from payers.x12.segments import X12Error, decode_x12

    try:
        return decode_x12(path.read_bytes())
    except (OSError, X12Error) as error:
        errors.print(f"[red]cannot read[/] {path}: {error}", highlight=False)
        raise typer.Exit(2) from None


def _table(summary: dict) -> Table:
    table = Table(title=f"{summary['interchanges']} interchange(s)")
    for column in ("ST", "type", "guide", "what the engine read"):
        table.add_column(column)
    for txn in summary["transactions"]:
        details = {k: v for k, v in txn.items() if k not in ("control", "type", "guide")}
        lines = []
        if "refused" in details:
            lines.append(f"REFUSED: {details.pop('refused')}")
        for key, value in details.items():
            if isinstance(value, list):
                lines.append(f"{key}: {len(value)}")
                lines += [f"  {json.dumps(item, sort_keys=False)}" for item in value]
            else:
                lines.append(f"{key}: {value}")
        table.add_row(txn["control"], txn["type"], txn["guide"], "\n".join(lines))
    return table


@app.command("read")
def read(
    file: Path,
    table: bool = typer.Option(False, "--table", help="a readable table instead of JSON"),
) -> None:
    """Every transaction of FILE as the engine reads it; exit 1 when a transaction is one the
    engine does not read (listed with the reason), 2 with the segment named when the file is
    refused."""
    from payers.x12.read import read_x12
    from payers.x12.segments import X12Error

    text = read_file(file)
    try:
        summary = read_x12(text)
    except X12Error as error:
        errors.print(f"[red]refused[/] {file}: {error}", highlight=False)
        raise typer.Exit(2) from None
    if table:
        Console(width=160).print(_table(summary))
    else:
        print(json.dumps(summary, indent=2))
    raise typer.Exit(1 if any("refused" in t for t in summary["transactions"]) else 0)
