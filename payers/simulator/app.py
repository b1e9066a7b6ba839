"""A payer clearinghouse over HTTP that speaks X12 5010 (DOMAIN.md §3), for every payer in
the payer directory, with the plans' private terms in `plan_terms/`:

    POST /x12/270  -> 271      eligibility
    POST /x12/278  -> 278      prior authorization
    POST /x12/837  -> {"ack_999": 999, "ack_277ca": 277CA or null}
    POST /x12/276  -> 277      claim status
    GET  /x12/era?cursor=...   -> the 835s after the cursor, as a clearinghouse's ERA mailbox

Requests and answers are X12 text (`application/edi-x12`). A document the clearinghouse
cannot route (unknown payer id) or read (broken envelope, a segment or field it cannot take)
is refused with 404 or 400 and a message naming the segment or field; a body over
MAX_BODY_BYTES with 413, before it is read whole. An 837 with a bad segment inside a
readable envelope is rejected the X12 way, in its 999; a claim in it whose fields the payer
cannot take, in the 277CA. A bad request is never answered 500. The payers' decisions live
in `payers/claims_desk.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cob.model import ClaimAcknowledgment, ClaimSubmission, Model
from cob.validation import field_path
from payers.era import EraBatch
from payers.simulator.appeals_desk import AppealNotPossible, overturn
from payers.simulator.claim_holds import holding, pended_claim_number, set_hold
from payers.simulator.claims_desk import (
    BadCursor,
    ClaimStore,
    benefits_for,
    era_since,
    next_control_number,
    prior_auth_decision,
    receive_claim,
    release_pended,
    stored_remittance,
)
from payers.simulator.plans import PayerProfile, load_profiles
from payers.x12.acknowledgments import AckError, build_277ca, build_999
from payers.x12.claim_837p import VERSION as CLAIM_837P
from payers.x12.claim_837p import check_837p_balance
from payers.x12.claim_837p_parse import ParsedClaim, parse_837p
from payers.x12.claim_status import ClaimStatusReport, StatusInquiry, build_277, parse_276
from payers.x12.eligibility import build_271
from payers.x12.eligibility_parse import parse_270
from payers.x12.prior_auth_278 import build_278_response, parse_278_request
from payers.x12.segments import X12Error, parse_interchange

X12_MEDIA = "application/edi-x12"
# An 837 from the engine is a few KB; a clearinghouse batch of thousands of claims stays
# under this. Larger bodies are refused (413) before they are held in memory.
MAX_BODY_BYTES = 5 * 1024 * 1024
T = TypeVar("T")


class Outage(Model):
    requests: int = Field(default=1, ge=0)  # how many of the next requests answer 503
    retry_after: int = Field(default=1, ge=0, le=3600)  # seconds, sent as Retry-After


class AppealAnswer(Model):
    payer_id: str
    claim_control_number: str
    outcome: Literal["overturned", "upheld"]


class Hold(Model):
    payer_id: str
    hold: bool = True


class ClaimAnswer(Model):
    ack_999: str
    ack_277ca: str | None = None  # only when the 999 accepted the transaction


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit} bytes")


class BodyLimit:
    """Refuse a request body over `limit` bytes with 413: by its Content-Length before any of
    it is read, or as a chunked body streams in, so a huge body is never held whole."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            too_large = BodyTooLarge(self.limit)
            response = JSONResponse({"detail": too_large.detail}, status_code=413,
                                    headers={"Connection": "close"})  # fmt: skip
            return await response(scope, receive, send)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)


def x12_response(text: str) -> Response:
    return Response(content=text, media_type=X12_MEDIA)


async def x12_body(request: Request) -> str:
    body = await request.body()
    if not body.strip():
        raise HTTPException(400, "the body is empty: an X12 interchange (ISA ... IEA) expected")
    try:
        return body.decode("ascii")
    except UnicodeDecodeError as exc:
        detail = f"the body is not X12 text: byte {exc.start} is not ASCII"
        raise HTTPException(400, detail) from exc


# Where an 837P carries a field of the claim the payer builds from it (005010X222A1 loops).
X12_PLACE = {
    "claim_control_number": "2300 CLM01", "place_of_service": "2300 CLM05-1",
    "frequency": "2300 CLM05-3", "diagnoses": "2300 HI", "lines": "2400 SV1",
    "rendering_provider_npi": "2310B NM109", "billing_provider": "2010AA",
    "patient": "2010CA or 2010BA", "patient_address": "2010CA or 2010BA N3/N4",
    "coverage": "2000B SBR / 2010BA", "coverages": "2320 SBR / 2330A",
    "prior_authorization_number": "2300 REF*G1", "original_payer_claim_number": "2300 REF*F8",
    "prior_remittances": "2320 / 2430",
}  # fmt: skip


def refusal(error: ValidationError) -> str:
    """A pydantic error on a request as the fields at fault (and, for a claim, where the 837P
    carries them), without their values."""
    problems = []
    for e in error.errors(include_url=False):
        place = next((X12_PLACE[p] for p in e["loc"] if isinstance(p, str) and p in X12_PLACE), "")
        where = f" ({place})" if place else ""
        problems.append(f"{error.title}.{field_path(e['loc'])}{where} is invalid ({e['msg']})")
    return "; ".join(problems)


@contextmanager
def refusing(what: str) -> Iterator[None]:
    """A request the payer cannot read or answer is the sender's to fix: 400 naming the
    segment or field, never a 500. Wraps pure reading and building only, never the store."""
    try:
        yield
    except (HTTPException, X12Error):
        raise
    except ValidationError as error:
        raise HTTPException(400, f"{what}: {refusal(error)}") from error
    except ValueError as error:
        raise HTTPException(400, f"{what}: {error}") from error
    except Exception as error:  # a reader's fault on odd input: still the request's refusal
        raise HTTPException(400, f"{what}: unreadable ({type(error).__name__})") from error


def read_request(transaction: str, reader: Callable[[str], T], text: str) -> T:
    with refusing(f"the {transaction} cannot be read"):
        return reader(text)


def taken_in(claim: ParsedClaim) -> ClaimSubmission | ClaimAcknowledgment:
    """The claim as the payer takes it in, or its 277CA rejection (A3, returned as
    unprocessable) naming the field it cannot take."""
    try:
        return claim.to_submission()
    except ValidationError as error:
        reason = refusal(error)
    except ValueError as error:  # e.g. an SBR09 with no plan type
        reason = str(error)
    return ClaimAcknowledgment(
        claim_control_number=claim.claim_control_number, accepted=False, status_code="A3",
        reason=reason,
    )  # fmt: skip


def status_of(store: ClaimStore, inquiry: StatusInquiry, today: datetime) -> ClaimStatusReport:
    """A 277 answer from what the payer holds (DOMAIN.md §3.5): F1 paid, F2 denied, F4 no
    payment, P1 pended (accepted, not yet adjudicated), A4 not found (STC01-2 35: claim/line not found)."""
    remittance = stored_remittance(store, inquiry.payer_id, inquiry.claim_control_number)
    asked = {
        "trace_number": inquiry.trace_number,
        "claim_control_number": inquiry.claim_control_number,
        "charge": inquiry.charge,
    }
    if remittance is None:
        with store.transaction() as db:
            pended = pended_claim_number(db, inquiry.payer_id, inquiry.claim_control_number)
        if pended:  # P1:20 pending, accepted for processing
            return ClaimStatusReport(
                **asked, payer_claim_number=pended, category="P1", status_code="20",
                effective_date=today.date(),
            )  # fmt: skip
        return ClaimStatusReport(**asked, category="A4", status_code="35", effective_date=today.date())
    category = "F2" if remittance.status == "4" else ("F1" if remittance.paid > 0 else "F4")
    return ClaimStatusReport(
        **asked,
        payer_claim_number=remittance.payer_claim_number,
        category=category,
        status_code="65" if category == "F2" else "1",  # 1: see the remittance advice
        paid=remittance.paid,
        effective_date=remittance.adjudication_date,
    )


def create_app(
    state_path: Path,
    latency: float = 0.0,
    plan_terms: Path | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    profiles = load_profiles(plan_terms)
    store = ClaimStore(state_path)
    outage = Outage(requests=0)
    silent: set[str] = set()
    app = FastAPI(title="Payer simulator (X12 5010)")
    app.add_middleware(BodyLimit, limit=max_body_bytes)

    def profile_of(payer_id: str, where: str = "payer_id") -> PayerProfile:
        """The payer the request names at `where` (its X12 element, or the JSON field)."""
        if payer_id not in profiles:
            raise HTTPException(404, f"{where}: unknown payer id {payer_id[:80]}")
        return profiles[payer_id]

    @app.exception_handler(X12Error)
    async def unreadable(_request: Request, error: X12Error) -> Response:
        return Response(str(error), status_code=400, media_type="text/plain")

    @app.exception_handler(RequestValidationError)
    async def invalid_fields(_request: Request, error: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input back, and fails (500) on a body of bytes
        # that is not UTF-8; the field and the problem are what the sender needs.
        fields = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()
        ]
        return JSONResponse({"detail": fields}, status_code=422)

    @app.middleware("http")
    async def slow_or_down(request: Request, call_next):
        if latency:
            await asyncio.sleep(latency)
        if outage.requests > 0 and not request.url.path.startswith(("/admin", "/health")):
            outage.requests -= 1
            return Response(status_code=503, headers={"Retry-After": str(outage.retry_after)})
        return await call_next(request)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/x12/270")
    async def eligibility(request: Request) -> Response:
        inquiry = read_request("270", parse_270, await x12_body(request))
        profile = profile_of(inquiry.payer_id, "2100A NM109")
        benefits = benefits_for(store, profile, inquiry.member_id, inquiry.service_date)
        with store.transaction() as db:
            control = next_control_number(db, f"271 {inquiry.trace_number}")
        with refusing("the 270 cannot be answered"):
            return x12_response(build_271(inquiry, benefits, datetime.now(), control))

    @app.post("/x12/278")
    async def prior_auth(request: Request) -> Response:
        inquiry = read_request("278", parse_278_request, await x12_body(request))
        profile = profile_of(inquiry.payer_id, "2010A NM109")
        decision = prior_auth_decision(
            profile, inquiry.member_id, inquiry.trace_number, inquiry.procedure_codes
        )
        with store.transaction() as db:
            held = holding(db, profile.payer_id)
        if held and decision.authorization_number:  # in clinical review: HCR A4
            decision = decision.model_copy(
                update={"status": "pended", "authorization_number": None,
                        "reason": "pended for clinical review"}
            )  # fmt: skip
        with store.transaction() as db:
            control = next_control_number(db, f"278 {inquiry.trace_number}")
        with refusing("the 278 cannot be answered"):
            return x12_response(build_278_response(inquiry, decision, datetime.now(), control))

    @app.post("/x12/837")
    async def claims(request: Request) -> ClaimAnswer:
        text, now = await x12_body(request), datetime.now()
        interchange = read_request("837", parse_interchange, text)  # no envelope, no 999: 400
        group = interchange.groups[0] if interchange.groups else None
        txn = group.transactions[0] if group and group.transactions else None
        if group is None or txn is None or txn.code != "837":
            raise HTTPException(400, "the interchange holds no 837 transaction (ST01 837)")
        with store.transaction() as db:
            control = next_control_number(db, f"999 {group.gs[6]}")
        try:
            with refusing("the 837 cannot be read"):
                check_837p_balance(interchange)
                parsed = parse_837p(text)
        except X12Error as error:  # 999 rejection, IK3 pointing into the transaction (ST = 1)
            where = (error.position or txn.st.position) - txn.st.position + 1
            ik3 = AckError(error.segment_id or "ST", max(where, 1), "8")
            with refusing("the 837 cannot be acknowledged"):
                ack_999 = build_999(False, group.gs[6], txn.st[2], CLAIM_837P, [ik3], now, control)
            return ClaimAnswer(ack_999=ack_999)
        if not parsed:
            raise HTTPException(400, "the 837 holds no claim (CLM)")
        with refusing("the 837 cannot be acknowledged"):
            ack_999 = build_999(True, group.gs[6], txn.st[2], CLAIM_837P, None, now, control)
        payer_ids = {claim.payer_id for claim in parsed}
        if len(payer_ids) != 1:
            raise HTTPException(
                400, f"2010BB NM109: one payer per interchange; this one has {sorted(payer_ids)}"
            )
        profile = profile_of(payer_ids.pop(), "2010BB NM109")
        if profile.payer_id in silent:  # the 837 never reached the payer: no 277CA
            return ClaimAnswer(ack_999=ack_999)
        acks: list[ClaimAcknowledgment] = []
        for claim in parsed:
            taken = taken_in(claim)
            if isinstance(taken, ClaimSubmission):
                taken = receive_claim(store, profile, taken, now)
            acks.append(taken)
        first = parsed[0]
        with store.transaction() as db:
            control = next_control_number(db, f"277CA {group.gs[6]}")
        with refusing("the 837 cannot be acknowledged"):
            ack_277ca = build_277ca(
            acks,
            payer_name=profile.name.upper(),
            payer_id=profile.payer_id,
            submitter_name=first.billing_provider.name.upper(),
            submitter_id=first.billing_provider.npi,
            provider_name=first.billing_provider.name.upper(),
            provider_npi=first.billing_provider.npi,
            when=now,
            control_number=control,
            patients={c.claim_control_number: (c.patient.last_name.upper(), c.patient.first_name.upper(), c.member_id) for c in parsed},
            charges={c.claim_control_number: c.charge for c in parsed},
            service_dates={c.claim_control_number: c.lines[0].service_date for c in parsed},
            )  # fmt: skip
        return ClaimAnswer(ack_999=ack_999, ack_277ca=ack_277ca)

    @app.post("/x12/276")
    async def claim_status(request: Request) -> Response:
        inquiries = read_request("276", parse_276, await x12_body(request))
        if not inquiries:
            raise HTTPException(400, "the 276 asks about no claim (no TRN in a 2200D loop)")
        for inquiry in inquiries:
            profile_of(inquiry.payer_id, "2100A NM109")
        now = datetime.now()
        statuses = [status_of(store, inquiry, now) for inquiry in inquiries]
        with store.transaction() as db:
            control = next_control_number(db, "277")
        with refusing("the 276 cannot be answered"):
            return x12_response(build_277(inquiries, statuses, now, control))

    @app.get("/x12/era")
    async def era(cursor: str | None = None, limit: int = 100) -> EraBatch:
        if not 1 <= limit <= 1000:
            raise HTTPException(422, f"limit: {limit} is not between 1 and 1000")
        try:
            return era_since(store, cursor, limit)
        except BadCursor as error:
            raise HTTPException(422, f"cursor: {error}") from error

    @app.get("/admin/claims")
    async def admin_claims() -> list[dict]:
        columns = (
            "claim_control_number, payer_id, member_id, encounter_id, frequency, "
            "received_count, adjudicated_count, status, replaced_by, payer_claim_number"
        )
        with store.transaction() as db:
            rows = db.execute(f"SELECT {columns} FROM claims ORDER BY rowid").fetchall()
        return [dict(row) for row in rows]

    @app.post("/admin/hold")
    async def hold(req: Hold) -> dict:
        """Hold a payer's adjudication (claims pend: acknowledged, no 835), or release it:
        the pended claims are adjudicated and their 835s queued."""
        profile = profile_of(req.payer_id)
        with store.transaction() as db:
            set_hold(db, req.payer_id, req.hold)
        released = [] if req.hold else release_pended(store, profile, datetime.now())
        return {"payer_id": req.payer_id, "hold": req.hold, "released": released}

    @app.post("/admin/appeals")
    async def decide_appeal(req: AppealAnswer) -> dict:
        """The payer's decision on an appeal of claim `claim_control_number`: overturned
        reprocesses and pays it (a new 835); upheld sends nothing (the team is told)."""
        profile = profile_of(req.payer_id)
        if req.outcome == "upheld":
            return {"claim_control_number": req.claim_control_number, "outcome": "upheld"}
        try:
            number = overturn(store, profile, req.claim_control_number, datetime.now())
        except AppealNotPossible as error:
            raise HTTPException(404, str(error)) from error
        return {"claim_control_number": req.claim_control_number, "outcome": "overturned",
                "payer_claim_number": number}  # fmt: skip

    @app.post("/admin/silence")
    async def silence(req: Hold) -> dict:
        """While silent, a payer's 837s get their 999 and nothing more: no 277CA, no claim."""
        profile_of(req.payer_id)
        (silent.add if req.hold else silent.discard)(req.payer_id)
        return {"payer_id": req.payer_id, "silent": req.hold}

    @app.post("/admin/outage")
    async def start_outage(req: Outage) -> Outage:
        outage.requests, outage.retry_after = req.requests, req.retry_after
        return outage

    return app
