"""`cob explain order|payment|eob`: the commands; cli/explain.py reads the case and shapes the
answer (eob: here), cob/ decides it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.terminal import console, errors
from cob.validation import InvalidInput

app = typer.Typer(no_args_is_help=True, help="Check one case by hand: JSON in, JSON out")


def _explain(file: Path, table: bool, answer, render, invalid_exit: int = 2) -> None:
    from rich.markup import escape

    from cli.encounters import read_json

    try:
        result = answer(read_json(file))
    except InvalidInput as error:  # the value may hold '[': never read as markup
        errors.print(
            f"[red]invalid case[/] {escape(str(file))}: {escape(str(error))}", highlight=False
        )
        raise typer.Exit(invalid_exit) from None
    if table:
        console.print(render(result))
    else:
        print(json.dumps(result, indent=2, default=str))


@app.command("order")
def explain_order(
    file: Path, table: bool = typer.Option(False, "--table", help="a readable table, not JSON")
) -> None:
    """Order of benefits for a patient's coverages on a date of service, with the deciding rules."""
    from cli.explain import explain_order, order_table

    _explain(file, table, explain_order, order_table)


@app.command("payment")
def explain_payment(
    file: Path, table: bool = typer.Option(False, "--table", help="a readable table, not JSON")
) -> None:
    """One line's payment by a later payer, by its COB method, with every test and the winner."""
    from cli.explain import explain_payment, payment_table

    _explain(file, table, explain_payment, payment_table)


@app.command("eob")
def explain_eob(
    file: Path, table: bool = typer.Option(False, "--table", help="a readable table, not JSON")
) -> None:
    """From a primary payer's EOB or 835, what a secondary's calculation takes, line by line:
    the allowed amount, the patient's share, the OTAF and the open balance, and what the
    secondary 837 carries (2320 AMT*D, 2430 SVD, CAS, AMT*EAF).

    FILE (e.g. examples/explain/eob-primary.json): payer_id, in_network (default true), lines.

    Each line: billed, paid, adjustments [{group: CO/PI/OA/PR, reason: CARC, amount}].

    Optional per line: deductible, coinsurance, copay (as PR-1, PR-2, PR-3), allowed (checked).

    in_network false: no OTAF. Exit 1 on a bad field, named."""
    _explain(file, table, eob_answer, eob_table, invalid_exit=1)


def eob_answer(data: object) -> dict:
    from cob.eob import PrimaryEob, explain_eob
    from cob.validation import parse_input

    return explain_eob(parse_input(PrimaryEob, data)).model_dump(mode="json")


def eob_table(answer: dict):
    from rich.console import Group
    from rich.table import Table

    network = "in network" if answer["in_network"] else "out of network"
    tables: list = []
    for line in answer["lines"]:
        code = f" {line['procedure_code']}" if line["procedure_code"] else ""
        table = Table(
            title=f"Line {line['line_number']}{code}: billed {line['billed']}, paid "
            f"{line['paid']} by {answer['payer_id'] or 'the primary'} ({network})"
        )
        for column in ("figure", "amount", "working", "source"):
            table.add_column(column, overflow="fold")
        for step in line["steps"]:
            amount = "none" if step["amount"] is None else step["amount"]
            table.add_row(step["name"], amount, step["formula"], step["citation"])
        notes = "".join(f"\n{note}" for note in line["notes"])
        table.caption = f"secondary 837 loop 2430: {' '.join(line['secondary_837'])}{notes}"
        tables.append(table)
    claim = " ".join(answer["secondary_837"])
    tables.append(f"secondary 837 loop 2320 for {answer['payer_id'] or 'the primary'}: {claim}")
    return Group(*tables)
