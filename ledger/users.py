"""The billing team's people: who they are, their role, the token they sign in with, and the
one table of what each role may do (`PERMISSIONS`, asked through `allowed`).

A token is 32 random bytes (url-safe base64, `secrets.token_urlsafe`), shown once; the ledger
keeps only its SHA-256. A slow, salted hash (bcrypt, scrypt, Argon2) is for secrets people
choose, which a dictionary can guess; nobody can guess a 256-bit random token, so a salt or
slowness adds nothing, one SHA-256 is as strong as a stored token can be, and checking it
costs nothing per API call (NIST SP 800-63B §5.1.2.2: a high-entropy secret may simply be
hashed with an approved hash function; salting and key stretching are for low-entropy ones).

A user's name ends up in audit trails and workflow inputs: it says who, never whose care (no
patient data), hence its narrow form. Adding a user, disabling one and issuing a token are
audit events themselves (workflow id `USERS_TRAIL`), each committed with its change, naming
who did it and never the token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger.audit_chain import lock_head
from ledger.db import utcnow
from ledger.tables import AuditEvent, User
from ledger.writes import append_audit_event

NAME = re.compile(r"[a-z][a-z0-9._-]{1,39}")
TOKEN_BYTES = 32
USERS_TRAIL = "team/users"  # the audit trail's workflow id for changes to the team's users


class Role(StrEnum):
    BILLER = "biller"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Permission:
    does: str  # what the action lets a user do, for "auditor ana may not resolve tasks"
    roles: frozenset[Role]


def _roles(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


B, S, AU, AD = Role.BILLER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN

# The one table of permissions, by action name (the API's and the CLI's). An auditor reads
# everything and changes nothing; a biller works tasks, sends corrections, appeal filings
# and decisions, order choices and starts encounters; a supervisor does the same and
# reassigns tasks; an admin does everything, managing users included.
#
# Patient accounts: a biller posts payments and records what the guarantor brings in, a
# dispute or a financial-assistance application: whoever takes the call or opens the mail
# records it, and it only stops the collection cycle and opens a task (holding it back would
# let notices, and in the end a collections referral, go out on a bill the patient contests
# or may be forgiven). Deciding them writes money off, a plan binds the practice to its
# terms, a refund pays money out: those are a supervisor's ("account.manage").
PERMISSIONS: dict[str, Permission] = {
    "encounter.read":  Permission("read encounters", _roles(B, S, AU, AD)),
    "task.read":       Permission("read the worklist", _roles(B, S, AU, AD)),
    "audit.read":      Permission("read the audit trail", _roles(B, S, AU, AD)),
    "document.read":   Permission("read X12 documents", _roles(B, S, AU, AD)),
    "user.read":       Permission("list users", _roles(B, S, AU, AD)),
    "encounter.start": Permission("start encounters", _roles(B, S, AD)),
    "claim.correct":   Permission("send corrections", _roles(B, S, AD)),
    "appeal.file":     Permission("file appeals", _roles(B, S, AD)),
    "appeal.decide":   Permission("record appeal decisions", _roles(B, S, AD)),
    "order.set":       Permission("set a payer order", _roles(B, S, AD)),
    "task.claim":      Permission("claim tasks", _roles(B, S, AD)),
    "task.release":    Permission("release tasks", _roles(B, S, AD)),
    "task.resolve":    Permission("resolve tasks", _roles(B, S, AD)),
    "task.snooze":     Permission("snooze tasks", _roles(B, S, AD)),
    "task.reassign":   Permission("reassign tasks", _roles(S, AD)),
    "payment.post":    Permission("post payments, record disputes and assistance applications",
                                  _roles(B, S, AD)),
    "account.manage":  Permission("resolve disputes, set payment plans, record refunds and "
                                  "assistance decisions", _roles(S, AD)),
    "user.manage":     Permission("manage users", _roles(AD)),
}  # fmt: skip


class UserError(Exception):
    """A user operation refused; the message names the field or the user."""


class InvalidUser(UserError, ValueError):
    """A name or role that cannot be."""


class UnknownUser(UserError, LookupError):
    pass


class UserExists(UserError):
    pass


class UserDisabled(UserError):
    pass


def allowed(role: str, action: str) -> bool:
    """May a user of `role` do `action`? An unknown role or action is a programming error
    (ValueError), never a quiet no."""
    permission = PERMISSIONS.get(action)
    if permission is None:
        raise ValueError(f"action {action!r} is not one of {', '.join(PERMISSIONS)}")
    return _role(role) in permission.roles


def refusal(user: User, action: str) -> str:
    """The line that says why `user` may not do `action`: 'auditor ana may not resolve tasks'."""
    return f"{user.role} {user.name} may not {PERMISSIONS[action].does}"


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidUser(
            f"role: {role!r} is not one of {', '.join(r.value for r in Role)}"
        ) from None


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InvalidUser(
            f"name: {name!r} is not a user name (a lowercase letter, then 1 to 39 of a-z 0-9 . _ -)"
        )
    return name


def token_digest(token: str) -> str:
    """Hex SHA-256 of the token: what the ledger stores and looks a token up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_digest(token)


def _detached(session: Session, user: User) -> User:
    session.refresh(user)
    session.expunge(user)
    return user


def add_user(engine: Engine, name: str, role: str, *, by: str) -> tuple[User, str]:
    """A new user and their token, which is returned here once and stored only as its hash;
    `by` (who added them) goes to the audit trail with the user and role."""
    check_name(name)
    chosen = _role(role)
    token, digest = _new_token()

    def add(session: Session) -> tuple[User, str]:
        if session.get(User, name) is not None:
            raise UserExists(f"user {name} exists")
        user = User(name=name, role=chosen.value, token_sha256=digest, created_at=utcnow())
        session.add(user)
        return user, "user_added"

    return _change(engine, name, by, add), token


def get_user(engine: Engine, name: str) -> User | None:
    with Session(engine) as session:
        user = session.get(User, name)
        return None if user is None else _detached(session, user)


def active_user(engine: Engine, name: str) -> User:
    """The user named, who must exist and not be disabled."""
    user = get_user(engine, name)
    if user is None:
        raise UnknownUser(f"no user {name!r}")
    if user.disabled_at is not None:
        raise UserDisabled(f"user {name} is disabled")
    return user


def list_users(engine: Engine) -> list[User]:
    """Every user, disabled ones too, by name."""
    with Session(engine) as session:
        users = list(session.exec(select(User).order_by(User.name)))
        session.expunge_all()
        return users


def disable_user(engine: Engine, name: str, *, by: str) -> User:
    """Disable a user: their token stops working at once. Disabling twice keeps the first
    date and records nothing more. The row stays, since audit trails and tasks name them."""

    def disable(session: Session) -> tuple[User, str] | User:
        user = _existing(session, name)
        if user.disabled_at is not None:
            return user
        user.disabled_at = utcnow()
        return user, "user_disabled"

    return _change(engine, name, by, disable)


def new_token(engine: Engine, name: str, *, by: str) -> str:
    """A new token for an active user; the old one stops working in the same commit, with
    the audit event that says who issued it."""
    token, digest = _new_token()

    def issue(session: Session) -> tuple[User, str]:
        user = _existing(session, name)
        if user.disabled_at is not None:
            raise UserDisabled(f"user {name} is disabled: no token is issued to a disabled user")
        user.token_sha256 = digest
        return user, "user_token_issued"

    _change(engine, name, by, issue)
    return token


def _existing(session: Session, name: str) -> User:
    user = session.get(User, name, with_for_update=True)
    if user is None:
        raise UnknownUser(f"no user {name!r}")
    return user


Change = Callable[[Session], tuple[User, str] | User]


def _change(engine: Engine, name: str, by: str, change: Change) -> User:
    """Run `change` (which returns the user and the event's kind, or the user alone when
    nothing changed) and append its audit event in one transaction, the chain's
    lock taken first as every append takes it (ledger/audit_chain.lock_head), so a change
    is never committed without its event, nor its event without it."""
    with engine.connect() as connection, connection.begin():
        with Session(connection) as session:
            lock_head(session, utcnow())
            changed = change(session)
            if isinstance(changed, User):
                return _detached(session, changed)
            user, kind = changed
            session.flush()
            user = _detached(session, user)
            step = f"user:{name}:{kind}:{_next_number(session, name)}"
        detail = {"user": name, "role": user.role, "by": by, "on": utcnow().date().isoformat()}
        appended = append_audit_event(
            cast(Engine, connection), workflow_id=USERS_TRAIL, step=step, kind=kind, detail=detail
        )
        if not appended:  # cannot happen under the lock; never a change without its event
            raise RuntimeError(f"audit step {step} exists already")
    return user


def _next_number(session: Session, name: str) -> int:
    """1 + the user's audit events so far: the steps about one user number 1, 2, 3..."""
    prefix = f"user:{name}:"
    steps = session.exec(
        select(AuditEvent.step).where(
            AuditEvent.workflow_id == USERS_TRAIL,
            col(AuditEvent.step).startswith(prefix, autoescape=True),
        )
    )
    return 1 + sum(1 for step in steps if step.startswith(prefix))


def authenticate(engine: Engine, token: str) -> User | None:
    """The active user whose token this is, else None (unknown, replaced, or disabled).

    Looked up by the token's SHA-256, then compared in constant time: the lookup's timing can
    tell at most something about a hash of a 256-bit random secret, which gives nothing away."""
    if not isinstance(token, str) or not token:
        return None
    digest = token_digest(token)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.token_sha256 == digest)).first()
        if user is None or not hmac.compare_digest(user.token_sha256, digest):
            return None
        if user.disabled_at is not None:
            return None
        return _detached(session, user)
