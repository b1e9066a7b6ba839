"""The `cob` command: builds the app from the command modules and runs it. Each command
parses, calls and prints; rules live in cob/, I/O in activities/ and payers/."""

from __future__ import annotations

import os
import signal
import sys

import typer

from cli import (
    account_commands,
    appeals,
    audit,
    db_commands,
    encounter_commands,
    era,
    explain_commands,
    ledger_commands,
    order,
    report_commands,
    server,
    task_commands,
    users,
    x12,
)
from cli.correct import correct
from cli.terminal import errors, unreachable

app = typer.Typer(no_args_is_help=True, add_completion=False, help="COB workflow engine")

app.command()(server.demo)
app.command()(server.server)
app.command()(server.worker)
app.command("codec-server")(server.codec_server)
app.command()(server.api)
app.command()(encounter_commands.submit)
app.command("import")(encounter_commands.import_batch)
app.command()(encounter_commands.status)
app.command("list")(encounter_commands.list_encounters)
app.command()(ledger_commands.tasks)
app.command()(ledger_commands.timeline)
app.command()(ledger_commands.documents)
app.command()(correct)
app.command()(report_commands.report)
app.command()(account_commands.statements)

app.add_typer(server.payers_app, name="payers")
app.add_typer(explain_commands.app, name="explain")
app.add_typer(appeals.app, name="appeal")
app.add_typer(era.app, name="era")
app.add_typer(x12.app, name="x12")
app.add_typer(order.app, name="order")
app.add_typer(audit.app, name="audit")
app.add_typer(db_commands.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(task_commands.app, name="task")
app.add_typer(account_commands.payment_app, name="payment")
app.add_typer(account_commands.account_app, name="account")


def main() -> None:
    """Run the CLI, then leave without interpreter teardown: temporalio's native runtime can
    abort at exit (sdk-python #300), which must never change the exit code we decided. A part
    that cannot be reached is one line on stderr and exit 1, never a traceback."""
    from ledger.home import home_path, owner_only, secure_home
    from workers.codec import allow_local_key_file

    # Ctrl-C (SIGINT) stops a command in order even when it came in ignored: a process started
    # in the background (`&`, nohup, a CI runner) inherits SIGINT ignored, and Python then
    # installs no handler, so `kill -INT` left `cob demo --keep` and its dev server running.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    owner_only()  # before anything is written: ledger, statements, logs are patient data
    secure_home()
    allow_local_key_file(home_path())  # no payload key configured: COB_HOME's (workers/codec.py)
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
