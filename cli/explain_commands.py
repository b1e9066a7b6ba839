"""`cob explain order|payment`: the commands; cli/explain.py reads the case and shapes the
answer, cob/ decides it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.terminal import console, errors
from cob.validation import InvalidInput

app = typer.Typer(no_args_is_help=True, help="Check one case by hand: JSON in, JSON out")


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
