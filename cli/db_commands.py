"""`cob db upgrade`: the ledger's schema brought to this cob's migration (ledger/schema.py).
Run once per release before the workers start (docker-compose's `ledger-schema` service);
SQLite and the demo need it never, make_engine keeps their tables itself.

Exit codes: 0 upgraded, stamped or already there; 1 the ledger cannot be reached or its
tables differ from the code's (each difference named)."""

from __future__ import annotations

import typer

from cli.terminal import console, errors

app = typer.Typer(no_args_is_help=True, help="The ledger database's schema (migrations)")


@app.command()
def upgrade() -> None:
    """Upgrade the ledger at DATABASE_URL to the newest migration and print its revision. A
    ledger an earlier cob made without migrations is stamped when its tables are the code's,
    and refused otherwise, naming what differs."""
    from ledger.db import database_url, shown_url, upgrade_ledger
    from ledger.schema import LedgerSchemaDiffers

    where = shown_url(database_url())
    try:
        done = upgrade_ledger()
    except LedgerSchemaDiffers as error:
        errors.print(f"{where}: {error}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    if done.stamped:
        what = f"stamped {done.after} (its tables were made before migrations and match)"
    elif done.before == done.after:
        what = f"already at {done.after}"
    else:
        what = f"upgraded from {done.before or 'an empty schema'} to {done.after}"
    console.print(f"ledger {where}: {what}; revision {done.after} (head)", soft_wrap=True)
