"""`cob report NAME`: a billing report of ledger/reports.py as a table, CSV or JSON. The
reports, their definitions and their field names are ledger/reports.py's; this module parses
the options and prints."""

from __future__ import annotations

import csv
import inspect
import json
import sys
from datetime import date
from decimal import Decimal
from typing import Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from cli.terminal import console, errors
from ledger.reports import REPORTS, Report, ReportParamError, UnknownReport, report_params

ALL = "all"  # a row of all payers (or all CARCs) has None there; the table says so


def reports_text() -> str:
    """Every report with its title and definition, for `cob report` and its --help: a
    paragraph a line, for the terminal to wrap."""
    parts = []
    for name, report in REPORTS.items():
        paragraphs = [" ".join(p.split()) for p in report.definition.split("\n\n")]
        parts.append("\n\n".join([f"{name}: {report.title}", *paragraphs]))
    return "\n\n".join(parts)


def report(
    name: str | None = typer.Argument(None, help="the report; none lists them all"),
    as_of: str | None = typer.Option(
        None, "--as-of", help="ar-aging: the day to age to (YYYY-MM-DD; default today)"
    ),
    limit: str | None = typer.Option(
        None, "--limit", help="top-procedures: rows per ranking (default 10)"
    ),
    as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout, a header row first"),
    as_json: bool = typer.Option(False, "--json", help="a JSON list of row objects on stdout"),
) -> None:
    """A billing report over the ledger (DATABASE_URL). Money is exact to the cent, rates are
    fractions (0.2500) in CSV and JSON; a row with no payer is the one of all payers."""
    if name is None:
        console.print("cob report NAME [--csv | --json]; the reports:\n", markup=False)
        console.print(reports_text(), markup=False, highlight=False)
        return
    if as_csv and as_json:
        _refuse("--csv and --json: choose one")
    try:
        params = report_params(name, as_of=as_of, limit=limit)
    except UnknownReport as error:
        _refuse(str(error))
    except ReportParamError as error:
        _refuse(f"--{error.param.replace('_', '-')}: {error.problem}")
    from ledger.db import make_engine

    chosen = REPORTS[name]
    if "as_of" in chosen.params and "as_of" not in params:
        params["as_of"] = date.today()  # the report's default, said in the caption
    rows = chosen.run(make_engine(), **params)
    if as_json:
        print(json.dumps(rows, default=_json_value, indent=2))
    elif as_csv:
        _print_csv(chosen, rows)
    if not rows:
        (errors if as_csv or as_json else console).print(f"{name}: no rows ({chosen.empty})")
    elif not (as_csv or as_json):
        console.print(_table(name, chosen, rows, params))


report.__doc__ = f"{inspect.cleandoc(report.__doc__ or '')}\n\nThe reports:\n\n{reports_text()}"


def _refuse(message: str) -> NoReturn:
    errors.print(escape(message))
    raise typer.Exit(2)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: a JSON number would pass through a float
    raise TypeError(f"no JSON for {type(value).__name__}")


def _print_csv(chosen: Report, rows: list[dict[str, Any]]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=chosen.columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)  # None is an empty field
    sys.stdout.flush()


def _table(name: str, chosen: Report, rows: list[dict[str, Any]], params: dict) -> Table:
    caption = ", ".join(f"{key} {value}" for key, value in params.items())
    table = Table(title=f"{chosen.title} ({name})", caption=caption or None)
    for column in chosen.columns:
        numeric = any(isinstance(row[column], int | Decimal) for row in rows)
        table.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(_cell(column, row[column]) for column in chosen.columns))
    return table


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "-" if column.endswith("_rate") else ALL
    if column.endswith("_rate"):
        return f"{value * 100:.2f}%"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return escape(str(value))
