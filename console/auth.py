"""Who is asking: every request carries a user's token (`Authorization: Bearer TOKEN`, or the
console's `cob_token` cookie), checked against the ledger's users (stored as SHA-256 only).
401 without a valid token; 403 naming the role and the action when the role may not.

A browser sends the cookie by itself, so a request that changes something and is signed in by
the cookie must also carry `X-Requested-With: cob-console`, which console.js sends (403
otherwise). A plain form posted from another site cannot set a header, and a script on another
origin that tries needs a CORS preflight, which this app never grants. The cookie's
SameSite=Strict (console/pages.py) already keeps it off requests from other sites; the header
also covers other origins of the same site (another port on the same host) and old browsers
(OWASP CSRF Prevention Cheat Sheet: "Employing Custom Request Headers for AJAX/API"). A Bearer
token is never sent by a browser on its own, so Bearer requests need no header."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine

from ledger.tables import User
from ledger.users import allowed, authenticate, refusal

COOKIE = "cob_token"
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "cob-console"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def ledger(request: Request) -> Engine:
    return request.app.state.ledger


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def token_of(request: Request) -> str | None:
    return bearer_token(request) or request.cookies.get(COOKIE) or None


def check_cookie_request(request: Request) -> None:
    """403 for a request that changes something, signed in by the cookie alone, without the
    console's header: a form or script from another origin (see the module's docstring)."""
    if request.method in SAFE_METHODS or bearer_token(request) is not None:
        return
    if request.cookies.get(COOKIE) and request.headers.get(CSRF_HEADER) != CSRF_VALUE:
        raise HTTPException(
            403,
            f"{CSRF_HEADER}: a request signed in by the console's cookie that changes "
            f"something must send `{CSRF_HEADER}: {CSRF_VALUE}` (refused as cross-site)",
        )


def current_user(request: Request, engine: Engine = Depends(ledger)) -> User:
    check_cookie_request(request)
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
