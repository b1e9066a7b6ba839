"""The console's pages, served by `cob api` beside the API: sign in with a token (`/login`), the
worklist (`/`), an encounter (`/encounters/{id}`) and the reports as charts (`/dashboard`).

Each page is a small Jinja2 template (console/templates/) that names what to show; our one
script, console/static/console.js, fetches it from /api and renders it, again every 10 s, so a
page shows the state of the moment, not the one it was opened in. The buttons a user sees
follow ledger.users.PERMISSIONS (`allowed`), named in the page; the API checks them anyway.

Charts are drawn by Chart.js 4.6.1 (MIT), vendored in console/static/vendor/ (npm
`chart.js@4.6.1`, its UMD build, one file of about 210 KB): a well-kept library, small, used as
it is with no build step and no network (the console must work offline, so no CDN), drawing on a
canvas. A canvas is a picture to a screen reader, so every chart has its table below it, with
the exact figures the API served, and the report's definition.

The token travels once, in the body of POST /login, and then only in the `cob_token` cookie
(HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it; Secure over
HTTPS); console/auth.py makes a cookie-signed request that changes something carry a header
that only our script sends. URLs carry encounter ids, never patient data; pages are not cached.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cli import views
from console.auth import COOKIE, token_of
from ledger.tables import User
from ledger.users import PERMISSIONS, allowed, authenticate
from workers.temporal import workflow_url

HERE = Path(__file__).parent
STATIC = HERE / "static"
CHART_JS_VERSION = "4.6.1"  # console/static/vendor/README.md
POLL_SECONDS = 10
MAX_LOGIN_BODY = 4096  # bytes: a token is 43 characters

templates = Jinja2Templates(directory=HERE / "templates")

# Pages hold patient data: never cached, never framed, our own script and style alone.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

router = APIRouter(include_in_schema=False)


def signed_in(request: Request) -> User | None:
    token = token_of(request)
    return authenticate(request.app.state.ledger, token) if token else None


def to_login(request: Request) -> RedirectResponse:
    """To /login, and back here after (the path only: an encounter id at most)."""
    return RedirectResponse(f"/login?next={quote(request.url.path, safe='')}", status_code=303)


def local_path(target: str | None) -> str:
    """`target` when it is a path on this site, else "/": /login never sends people elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def page(request: Request, template: str, user: User | None, status: int = 200, **context):
    """The page, with what its script needs: who is signed in and what they may do."""
    may = sorted(action for action in PERMISSIONS if user and allowed(user.role, action))
    response = templates.TemplateResponse(
        request,
        template,
        {"user": user, "may": " ".join(may), "poll_seconds": POLL_SECONDS, **context},
        status_code=status,
    )
    response.headers.update(PAGE_HEADERS)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    return page(request, "login.html", signed_in(request), next=local_path(next), problem=None)


@router.post("/login")
async def login(request: Request) -> Response:
    """Sign in: the token of the form becomes the cookie, and on to `next`. A form posted from
    another site is refused (it would sign the browser in as someone else: login CSRF)."""
    if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        return page(request, "login.html", None, 403, next="/", problem="Sign in from this site.")
    body = await request.body()
    form = parse_qs(body[:MAX_LOGIN_BODY].decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    target = local_path((form.get("next") or ["/"])[0])
    user = authenticate(request.app.state.ledger, token) if token else None
    if user is None:
        problem = "That token is not an active user's token." if token else "Enter your token."
        return page(request, "login.html", None, 401, next=target, problem=problem)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")
    return response


@router.get("/", response_class=HTMLResponse)
def worklist(request: Request):
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return page(request, "worklist.html", user, active="worklist")


@router.get("/encounters/{encounter}", response_class=HTMLResponse)
def encounter(encounter: str, request: Request):
    user = signed_in(request)
    if user is None:
        return to_login(request)
    workflow_id = views.encounter_workflow(encounter)
    ui = request.app.state.temporal_ui
    return page(
        request,
        "encounter.html",
        user,
        encounter_id=views.encounter_id(encounter),
        workflow_id=workflow_id,
        workflow_link=workflow_url(quote(workflow_id, safe=""), ui),
        # the UI's address of a workflow, but its id, for the claims' and appeals' workflows
        workflow_base=workflow_url("", ui),
    )


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request):
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return page(request, "dashboard.html", user, active="dashboard", chart_js=CHART_JS_VERSION)
