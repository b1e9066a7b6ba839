"""`cob task`: a person works a worklist task (ledger/task_actions.py): claim, release,
resolve, snooze, reassign.

The CLI runs on the ledger's machine, so `--as NAME` says who acts (the API authenticates
by token instead); that user must exist, be active and be allowed the action
(ledger.users.PERMISSIONS). KEY is a task's key (`workflow/kind/due`, as `cob tasks --all`
shows them in the ledger) or a unique start of it.

Exit codes: 0 done, or nothing to do; 1 the task refuses (another person holds it, it is
closed, it is not claimed) or the ledger cannot be reached; 2 bad input (no such user, no
or several tasks for KEY, a bad date or note); 3 not permitted (the role may not, or the
user is disabled).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import typer

from cli.terminal import errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ledger.tables import User
    from ledger.task_actions import TaskOutcome

EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_NOT_PERMITTED = 1, 2, 3

app = typer.Typer(
    no_args_is_help=True,
    help="Work a worklist task as a person: claim, release, resolve, snooze, reassign "
    "(exit 1 the task refuses, 2 bad input, 3 not permitted).",
)

KEY = typer.Argument(..., help="the task's key, or a unique start of it")
AS = typer.Option(..., "--as", help="who does it: a user of `cob users`")


def _fail(message: str, code: int) -> typer.Exit:
    errors.print(message, markup=False, highlight=False)
    return typer.Exit(code)


def _act(
    key: str, as_name: str, action: str, do: Callable[[Engine, str, User], TaskOutcome]
) -> TaskOutcome:
    """Check the user and the permission, find the task, do it; each refusal one line and
    its exit code."""
    from ledger.db import make_engine
    from ledger.task_actions import (
        AmbiguousTaskKey,
        InvalidTaskAction,
        TaskActionError,
        TaskNotFound,
        find_task_key,
    )
    from ledger.users import UnknownUser, UserDisabled, active_user, allowed, refusal

    engine = make_engine()
    try:
        user = active_user(engine, as_name)
        if not allowed(user.role, action):
            raise _fail(refusal(user, action), EXIT_NOT_PERMITTED)
        return do(engine, find_task_key(engine, key), user)
    except UnknownUser as error:
        raise _fail(f"--as: {error}", EXIT_BAD_INPUT) from None
    except UserDisabled as error:
        raise _fail(str(error), EXIT_NOT_PERMITTED) from None
    except (TaskNotFound, AmbiguousTaskKey, InvalidTaskAction) as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from None
    except TaskActionError as error:  # taken, closed, not claimed
        raise _fail(str(error), EXIT_REFUSED) from None


@app.command("claim")
def claim(key: str = KEY, as_name: str = AS) -> None:
    """Take a task: nobody else works it until it is released or reassigned."""
    from ledger.task_actions import claim_task

    outcome = _act(key, as_name, "task.claim", claim_task)
    task = outcome.task
    if outcome.changed:
        print(f"task {task['key']} claimed by {as_name} (due {task['due'] or '-'})")
    else:
        print(f"task {task['key']} is already claimed by {as_name}")


@app.command("release")
def release(key: str = KEY, as_name: str = AS) -> None:
    """Give a task you hold back to the worklist (a supervisor may release anyone's)."""
    from ledger.task_actions import release_task

    outcome = _act(key, as_name, "task.release", release_task)
    task = outcome.task
    if outcome.changed:
        print(f"task {task['key']} released by {as_name}")
    else:
        print(f"task {task['key']} was not claimed: nothing to release")


@app.command("resolve")
def resolve(
    key: str = KEY,
    as_name: str = AS,
    note: str = typer.Option(..., help="what was done, for the audit trail (no patient data)"),
) -> None:
    """Close a task you hold as done, with a note (a supervisor may resolve anyone's)."""
    from ledger.task_actions import resolve_task

    outcome = _act(key, as_name, "task.resolve",
                   lambda engine, full, user: resolve_task(engine, full, user, note))  # fmt: skip
    task = outcome.task
    print(f"task {task['key']} closed: {task['resolution']}")


@app.command("snooze")
def snooze(
    key: str = KEY,
    as_name: str = AS,
    until: str = typer.Option(
        ..., help="YYYY-MM-DD: after today, on or before the task's due date"
    ),
) -> None:
    """Put a task out of sight until a day, never past its own due date."""
    from ledger.task_actions import snooze_task

    try:
        day = date.fromisoformat(until)
    except ValueError:
        raise _fail(f"--until: {until!r} is not a date (YYYY-MM-DD)", EXIT_BAD_INPUT) from None
    outcome = _act(key, as_name, "task.snooze",
                   lambda engine, full, user: snooze_task(engine, full, user, day))  # fmt: skip
    task = outcome.task
    already = "" if outcome.changed else "already "
    print(f"task {task['key']} {already}snoozed until {day} (due {task['due'] or '-'})")


@app.command("reassign")
def reassign(
    key: str = KEY,
    to: str = typer.Option(..., help="the active biller or supervisor who gets the task"),
    as_name: str = AS,
) -> None:
    """Give a task to another biller or supervisor (supervisors only)."""
    from ledger.task_actions import reassign_task

    outcome = _act(key, as_name, "task.reassign",
                   lambda engine, full, user: reassign_task(engine, full, user, to))  # fmt: skip
    task = outcome.task
    if outcome.changed:
        print(f"task {task['key']} reassigned to {to} by {as_name}")
    else:
        print(f"task {task['key']} is already {to}'s")
