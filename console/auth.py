"""Who is asking: every request carries a user's token (`Authorization: Bearer TOKEN`, or the
console's `cob_token` cookie), checked against the ledger's users (stored as SHA-256 only).
401 without a valid token; 403 naming the role and the action when the role may not."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine

from ledger.tables import User
from ledger.users import allowed, authenticate, refusal

COOKIE = "cob_token"


def ledger(request: Request) -> Engine:
    return request.app.state.ledger


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


def current_user(request: Request, engine: Engine = Depends(ledger)) -> User:
    token = token_of(request)
    user = authenticate(engine, token) if token else None
    if user is None:
        raise HTTPException(
            401,
            "sign in: send a user's token as `Authorization: Bearer TOKEN` "
            "(`cob users add NAME --role ROLE` makes one)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def may(action: str) -> Callable[..., User]:
    """A dependency: the signed-in user, who must be allowed `action`; 403 names why not."""

    def check(user: User = Depends(current_user)) -> User:
        if not allowed(user.role, action):
            raise HTTPException(403, refusal(user, action))
        return user

    return check
