"""People working the worklist: claim, release, resolve, snooze and reassign a task. The
engine's side (opening a task, closing it when the claim moves on) is ledger/worklist.py.

Each action and its audit event are one transaction. Its first statement locks the audit
chain's head (ledger/audit_chain.lock_head), as every append does, so actions on a task
happen one after another: of two people claiming the same task at once, the second finds it
taken (TaskTaken). The event is appended by ledger.writes.append_audit_event on the same
connection, inside the same transaction: a refused or failed action leaves neither the change
nor the event.

Whether a user may do an action at all is the caller's check (ledger.users.allowed); the
rules of the task itself (who holds it, its dates) are here. Who may reassign tasks may also
release, resolve or snooze a task another person holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger.audit_chain import lock_head
from ledger.db import utcnow
from ledger.queries import row_dict
from ledger.tables import AuditEvent, User, WorklistTask
from ledger.users import Role, UnknownUser, UserDisabled, allowed
from ledger.writes import append_audit_event

MAX_NOTE = 2000  # characters: a note says what was done, it is not a document
AMBIGUOUS_SHOWN = 5  # keys listed when a prefix names several tasks
ASSIGNABLE = (Role.BILLER, Role.SUPERVISOR)


class TaskActionError(Exception):
    """A task action refused; the message says why, naming the field for bad input."""


class TaskNotFound(TaskActionError, LookupError):
    pass


class AmbiguousTaskKey(TaskActionError, LookupError):
    pass


class TaskTaken(TaskActionError):
    """Another person holds the task."""

    def __init__(self, key: str, holder: str) -> None:
        super().__init__(f"task {key} is claimed by {holder}")
        self.holder = holder


class TaskClosed(TaskActionError):
    pass


class TaskNotClaimed(TaskActionError):
    pass


class InvalidTaskAction(TaskActionError, ValueError):
    pass


@dataclass(frozen=True)
class TaskOutcome:
    task: dict[str, Any]  # the task after the action, as ledger.worklist.tasks lists it
    changed: bool  # False: there was nothing to do (claiming a task you hold, ...)


@dataclass
class _Event:
    action: str  # claim, release, resolve, snooze, reassign: in the audit step
    kind: str  # the audit event's kind
    reason: str  # one line for the timeline
    detail: dict[str, Any] = field(default_factory=dict)


def find_task_key(engine: Engine, key: str) -> str:
    """The task's full key from its key or a unique prefix of it (a key is
    `workflow/kind/due`, long to type). Case counts; '%' and '_' are themselves."""
    if not key:
        raise TaskNotFound("task: no key given")
    column = col(WorklistTask.key)
    # LIKE may use the primary key's index; SQLite's LIKE ignores ASCII case, so the prefix
    # is compared exactly as well.
    starts = column.startswith(key, autoescape=True) & (func.substr(column, 1, len(key)) == key)
    with Session(engine) as session:
        if session.get(WorklistTask, key) is not None:
            return key
        count = session.exec(select(func.count()).select_from(WorklistTask).where(starts)).one()
        shown = session.exec(select(column).where(starts).order_by(column).limit(AMBIGUOUS_SHOWN))
        keys = list(shown)
    if count == 0:
        raise TaskNotFound(f"task: no task key starts with {key!r}")
    if count > 1:
        more = f" and {count - len(keys)} more" if count > len(keys) else ""
        raise AmbiguousTaskKey(
            f"task: {key!r} is the start of {count} task keys ({', '.join(keys)}{more}): "
            "give more of the key"
        )
    return keys[0]


def tasks_held(engine: Engine, name: str) -> list[str]:
    """The keys of the open tasks `name` holds (e.g. to reassign a leaver's work)."""
    query = select(WorklistTask.key).where(
        WorklistTask.assignee == name, WorklistTask.status == "open"
    )
    with Session(engine) as session:
        return sorted(session.exec(query))


def claim_task(engine: Engine, key: str, user: User) -> TaskOutcome:
    """Take the task: nobody else may work it until it is released or reassigned. Claiming a
    task you hold changes nothing; one another person holds is TaskTaken (naming them); a
    closed task cannot be claimed."""

    def claim(session: Session, task: WorklistTask, actor: User) -> _Event | None:
        _open(task)
        if task.assignee == actor.name:
            return None
        if task.assignee is not None:
            raise TaskTaken(task.key, task.assignee)
        task.assignee, task.claimed_at = actor.name, utcnow()
        return _Event("claim", "task_claimed", f"claimed by {actor.name}")

    return _act(engine, key, user, claim)


def release_task(engine: Engine, key: str, user: User) -> TaskOutcome:
    """Give the task back to the worklist (by the person who holds it, or a supervisor).
    An unclaimed task changes nothing."""

    def release(session: Session, task: WorklistTask, actor: User) -> _Event | None:
        _open(task)
        holder = task.assignee
        if holder is None:
            return None
        _holds_or_supervises(task, actor)
        task.assignee, task.claimed_at = None, None
        held = "" if holder == actor.name else f" (held by {holder})"
        return _Event("release", "task_released", f"released by {actor.name}{held}",
                      {"assignee": holder})  # fmt: skip

    return _act(engine, key, user, release)


def resolve_task(engine: Engine, key: str, user: User, note: str) -> TaskOutcome:
    """Close the task as done, with a note of what was done (required). Only the person who
    holds it, or a supervisor, may: an unclaimed task is claimed first, so two people never
    work it. Its resolution reads "resolved by NAME: note"; the assignee stays, as the
    record of who had it."""
    note = _note(note)

    def resolve(session: Session, task: WorklistTask, actor: User) -> _Event | None:
        _open(task)
        if task.assignee is None and not _supervises(actor):
            raise TaskNotClaimed(f"task {task.key} is not claimed: claim it before resolving it")
        _holds_or_supervises(task, actor)
        task.status = "closed"
        task.resolution = f"resolved by {actor.name}: {note}"
        task.resolved_by, task.resolution_note = actor.name, note
        return _Event("resolve", "task_resolved", task.resolution, {"note": note})

    return _act(engine, key, user, resolve)


def snooze_task(
    engine: Engine, key: str, user: User, until: date, *, today: date | None = None
) -> TaskOutcome:
    """Put the task out of sight until `until`: a day after today (UTC), and on or before the
    task's due date. The due date is the deadline the task guards (timely filing, an appeal
    window): a task snoozed past it would come back only once the claim is lost, so a snooze
    may shorten the wait for a deadline, never hide the deadline. Only the person who holds
    the task, or a supervisor, may snooze a claimed task; anyone allowed may snooze an
    unclaimed one, which stays unclaimed. The same day again changes nothing."""
    today = today or utcnow().date()
    if isinstance(until, datetime) or not isinstance(until, date):
        raise InvalidTaskAction(f"until: {until!r} is not a date")
    if until <= today:
        raise InvalidTaskAction(f"until: {until} is not after today ({today})")

    def snooze(session: Session, task: WorklistTask, actor: User) -> _Event | None:
        _open(task)
        _holds_or_supervises(task, actor)
        if task.due is not None and until > task.due:
            raise InvalidTaskAction(
                f"until: {until} is after the task's due date {task.due}: a task is never "
                "snoozed past its own deadline"
            )
        if task.snoozed_until == until:
            return None
        task.snoozed_until = until
        return _Event("snooze", "task_snoozed", f"snoozed by {actor.name} until {until}",
                      {"until": until.isoformat()})  # fmt: skip

    return _act(engine, key, user, snooze, today=today)


def reassign_task(engine: Engine, key: str, by: User, to: str) -> TaskOutcome:
    """Give the task to `to`, an active biller or supervisor, whoever held it (a supervisor's
    action: that permission check is the caller's). The task held by `to` already changes
    nothing; a closed task cannot be reassigned."""

    def reassign(session: Session, task: WorklistTask, actor: User) -> _Event | None:
        receiver = session.get(User, to)
        if receiver is None or receiver.disabled_at is not None or receiver.role not in ASSIGNABLE:
            what = ("no such user" if receiver is None
                    else "disabled" if receiver.disabled_at is not None
                    else f"a {receiver.role}")  # fmt: skip
            roles = " or ".join(r.value for r in ASSIGNABLE)
            raise InvalidTaskAction(f"to: {to!r} is {what}: a task goes to an active {roles}")
        _open(task)
        if task.assignee == to:
            return None
        holder = task.assignee
        task.assignee, task.claimed_at = to, utcnow()
        return _Event("reassign", "task_reassigned",
                      f"reassigned by {actor.name} from {holder or 'nobody'} to {to}",
                      {"from": holder, "to": to})  # fmt: skip

    return _act(engine, key, by, reassign)


# --- how an action runs: one transaction, the task's change and its audit event ---


Decide = Callable[[Session, WorklistTask, User], _Event | None]


def _act(
    engine: Engine, key: str, user: User, decide: Decide, *, today: date | None = None
) -> TaskOutcome:
    today = today or utcnow().date()
    with engine.connect() as connection, connection.begin():
        with Session(connection) as session:
            # The first statement, a write: it takes the lock every audit append takes
            # (SQLite's write lock, PostgreSQL's head row), so this read of the task cannot
            # go stale before the change and its event are committed.
            lock_head(session, utcnow())
            actor = _active(session, user.name)
            task = session.get(WorklistTask, key, with_for_update=True)
            if task is None:
                raise TaskNotFound(f"task: no task {key!r}")
            event = decide(session, task, actor)
            if event is None:
                return TaskOutcome(task=row_dict(task), changed=False)
            task.updated_at = utcnow()
            step = f"task:{key}:{event.action}:{_next_number(session, task)}"
            session.flush()
            session.refresh(task)  # as the database gives it back, like the worklist's listing
            outcome = TaskOutcome(task=row_dict(task), changed=True)
            workflow_id, detail = task.workflow_id, _detail(task, actor, event, today)
        # append_audit_event's session joins this connection's transaction (SQLAlchemy's
        # join_transaction_mode "conservative_savepoint"): its commit leaves the transaction
        # open, and leaving this block commits the change and the event together.
        appended = append_audit_event(
            cast(Engine, connection), workflow_id=workflow_id, step=step, kind=event.kind,
            detail=detail,
        )  # fmt: skip
        if not appended:  # cannot happen under the lock; never an action without its event
            raise RuntimeError(f"audit step {step} exists already")
    return outcome


def _detail(task: WorklistTask, actor: User, event: _Event, today: date) -> dict[str, Any]:
    return {
        "task": task.key,
        "task_kind": task.kind,
        "encounter_id": task.encounter_id,
        "by": actor.name,
        "role": actor.role,
        "on": today.isoformat(),
        "reason": event.reason,
        **event.detail,
    }


def _next_number(session: Session, task: WorklistTask) -> int:
    """1 + the task's audit events so far: the steps of one task number 1, 2, 3..."""
    prefix = f"task:{task.key}:"
    steps = session.exec(
        select(AuditEvent.step).where(
            AuditEvent.workflow_id == task.workflow_id,
            col(AuditEvent.step).startswith(prefix, autoescape=True),
        )
    )
    return 1 + sum(1 for step in steps if step.startswith(prefix))


def _active(session: Session, name: str) -> User:
    """The acting user as the ledger has them now: a user disabled since is refused."""
    user = session.get(User, name)
    if user is None:
        raise UnknownUser(f"no user {name!r}")
    if user.disabled_at is not None:
        raise UserDisabled(f"user {name} is disabled")
    return user


def _open(task: WorklistTask) -> None:
    if task.status == "closed":
        raise TaskClosed(f"task {task.key} is closed ({task.resolution or 'no resolution'})")


def _supervises(user: User) -> bool:
    return allowed(user.role, "task.reassign")


def _holds_or_supervises(task: WorklistTask, actor: User) -> None:
    if task.assignee not in (None, actor.name) and not _supervises(actor):
        raise TaskTaken(task.key, task.assignee or "")


def _note(note: str) -> str:
    text = (note or "").strip()
    if not text:
        raise InvalidTaskAction("note: say what was done (an empty note resolves nothing)")
    if len(text) > MAX_NOTE:
        raise InvalidTaskAction(f"note: {len(text)} characters, at most {MAX_NOTE}")
    return text
