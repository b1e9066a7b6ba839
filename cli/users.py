"""`cob users`: the billing team's people, their roles and their tokens (ledger/users.py).

These commands run on the ledger's machine, where whoever runs them holds the database
anyway, so they name no acting user. Exit codes: 0 done; 1 the ledger refuses (the user
exists, or is disabled) or cannot be reached; 2 bad input (a name, a role, an unknown user).
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from cli.terminal import errors

NAME_HELP = (
    "the user's name: a lowercase letter, then 1 to 39 of a-z 0-9 . _ - (it goes into audit "
    "trails and workflow inputs: never patient data)"
)

app = typer.Typer(
    no_args_is_help=True,
    help="The billing team's users: roles (biller, supervisor, auditor, admin) and tokens. "
    "A name goes into audit trails: never patient data.",
)


def _fail(message: str, code: int) -> typer.Exit:
    errors.print(message, markup=False, highlight=False)
    return typer.Exit(code)


def _shown(moment: datetime | None) -> str:
    """UTC to the minute (SQLite gives naive UTC back, PostgreSQL aware)."""
    if moment is None:
        return "-"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M")


def _operator() -> str:
    """Who runs `cob users`, for the audit trail: COB_USER or the login name, at this host
    (a person at the ledger's machine, not a console user)."""
    from workers.temporal import client_identity

    return client_identity()


@app.command("add")
def add(
    name: str = typer.Argument(..., help=NAME_HELP),
    role: str = typer.Option(..., help="biller, supervisor, auditor or admin"),
) -> None:
    """Add a user with a role and print their token, once: the ledger keeps only its SHA-256."""
    from ledger.db import make_engine
    from ledger.users import InvalidUser, UserExists, add_user

    try:
        user, token = add_user(make_engine(), name, role, by=_operator())
    except InvalidUser as error:
        raise _fail(str(error), 2) from None
    except UserExists as error:
        raise _fail(str(error), 1) from None
    print(f"user {user.name} added as {user.role}")
    print(f"token: {token}")
    print("the token is shown this once: give it to them now (`cob users token` makes a new one)")


@app.command("list")
def list_all() -> None:
    """Every user: name, role, when added, when disabled (UTC)."""
    from ledger.db import make_engine
    from ledger.users import list_users

    users = list_users(make_engine())
    print(f"{'name':40} {'role':10} {'created':16}  disabled")
    for user in users:
        print(f"{user.name:40} {user.role:10} {_shown(user.created_at):16}  "
              f"{_shown(user.disabled_at)}")  # fmt: skip
    print(f"{len(users)} user(s)")


@app.command("disable")
def disable(name: str = typer.Argument(..., help="the user to disable")) -> None:
    """Disable a user: their token stops working at once.

    The name stays in the ledger, in the audit trail and on the tasks they worked."""
    from ledger.db import make_engine
    from ledger.task_actions import tasks_held
    from ledger.users import UnknownUser, disable_user

    engine = make_engine()
    try:
        user = disable_user(engine, name, by=_operator())
    except UnknownUser as error:
        raise _fail(str(error), 2) from None
    print(
        f"user {user.name} disabled since {_shown(user.disabled_at)} UTC; their token no longer works"
    )
    held = tasks_held(engine, user.name)
    if held:
        print(f"{len(held)} open task(s) still claimed by {user.name}: "
              "a supervisor can reassign them (`cob task reassign KEY --to NAME --as NAME`)")  # fmt: skip
        for key in held:
            print(f"  {key}")


@app.command("token")
def token(name: str = typer.Argument(..., help="the user to give a new token")) -> None:
    """Print a new token for an active user, once; their old token stops working."""
    from ledger.db import make_engine
    from ledger.users import UnknownUser, UserDisabled, new_token

    try:
        issued = new_token(make_engine(), name, by=_operator())
    except UnknownUser as error:
        raise _fail(str(error), 2) from None
    except UserDisabled as error:
        raise _fail(str(error), 1) from None
    print(f"token: {issued}")
    print(f"the old token of {name} no longer works; this one is shown this once")
