"""A payer clearinghouse over HTTP that speaks X12 5010 (DOMAIN.md §3), for every payer in
`payers/profiles/`:

    POST /x12/270  -> 271      eligibility
    POST /x12/278  -> 278      prior authorization
    POST /x12/837  -> {"ack_999": 999, "ack_277ca": 277CA or null}
    POST /x12/276  -> 277      claim status
    GET  /x12/era?cursor=...   -> the 835s after the cursor, as a clearinghouse's ERA mailbox

Requests and answers are X12 text (`application/edi-x12`). A document the clearinghouse
cannot route (unknown payer id) or read (broken envelope) is refused with 404 or 400 and
a message naming the segment. An 837 with a bad segment inside a readable envelope is
rejected the X12 way, in its 999. The payers' decisions live in `payers/claims_desk.py`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, HTTPException, Request, Response

from cob.model import ClaimAcknowledgment, Model
from payers.appeals_desk import AppealNotPossible, overturn
from payers.claim_holds import holding, pended_claim_number, set_hold
from payers.claims_desk import (
    ClaimStore,
    benefits_for,
    era_since,
    next_control_number,
    prior_auth_decision,
    receive_claim,
    release_pended,
    stored_remittance,
)
from payers.era import EraBatch
from payers.profiles import PayerProfile, load_profiles
from payers.x12.acknowledgments import AckError, build_277ca, build_999
from payers.x12.claim_837p import VERSION as CLAIM_837P
from payers.x12.claim_837p import check_837p_balance
from payers.x12.claim_837p_parse import parse_837p
from payers.x12.claim_status import ClaimStatus, StatusInquiry, build_277, parse_276
from payers.x12.eligibility import build_271
from payers.x12.eligibility_parse import parse_270
from payers.x12.prior_auth_278 import build_278_response, parse_278_request
from payers.x12.segments import X12Error, parse_interchange

X12_MEDIA = "application/edi-x12"


class Outage(Model):
    requests: int = 1  # how many of the next requests answer 503
    retry_after: int = 1  # seconds, sent as Retry-After


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


def x12_response(text: str) -> Response:
    return Response(content=text, media_type=X12_MEDIA)


async def x12_body(request: Request) -> str:
    try:
        return (await request.body()).decode("ascii")
    except UnicodeDecodeError as exc:
        detail = f"the body is not X12 text: byte {exc.start} is not ASCII"
        raise HTTPException(400, detail) from exc


def status_of(store: ClaimStore, inquiry: StatusInquiry, today: datetime) -> ClaimStatus:
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
            return ClaimStatus(
                **asked, payer_claim_number=pended, category="P1", status_code="20",
                effective_date=today.date(),
            )  # fmt: skip
        return ClaimStatus(**asked, category="A4", status_code="35", effective_date=today.date())
    category = "F2" if remittance.status == "4" else ("F1" if remittance.paid > 0 else "F4")
    return ClaimStatus(
        **asked,
        payer_claim_number=remittance.payer_claim_number,
        category=category,
        status_code="65" if category == "F2" else "1",  # 1: see the remittance advice
        paid=remittance.paid,
        effective_date=remittance.adjudication_date,
    )


def create_app(state_path: Path, latency: float = 0.0, profiles_dir: Path | None = None) -> FastAPI:
    profiles = load_profiles(profiles_dir)
    store = ClaimStore(state_path)
    outage = Outage(requests=0)
    silent: set[str] = set()
    app = FastAPI(title="Payer simulator (X12 5010)")

    def profile_of(payer_id: str) -> PayerProfile:
        if payer_id not in profiles:
            raise HTTPException(status_code=404, detail=f"unknown payer id {payer_id}")
        return profiles[payer_id]

    @app.exception_handler(X12Error)
    async def unreadable(_request: Request, error: X12Error) -> Response:
        return Response(str(error), status_code=400, media_type="text/plain")

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
        inquiry = parse_270(await x12_body(request))
        profile = profile_of(inquiry.payer_id)
        benefits = benefits_for(store, profile, inquiry.member_id, inquiry.service_date)
        with store.transaction() as db:
            control = next_control_number(db, f"271 {inquiry.trace_number}")
        return x12_response(build_271(inquiry, benefits, datetime.now(), control))

    @app.post("/x12/278")
    async def prior_auth(request: Request) -> Response:
        inquiry = parse_278_request(await x12_body(request))
        profile = profile_of(inquiry.payer_id)
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
        return x12_response(build_278_response(inquiry, decision, datetime.now(), control))

    @app.post("/x12/837")
    async def claims(request: Request) -> ClaimAnswer:
        text, now = await x12_body(request), datetime.now()
        interchange = parse_interchange(text)  # a broken envelope cannot be acknowledged: 400
        group = interchange.groups[0]
        txn = group.transactions[0] if group.transactions else None
        if txn is None or txn.code != "837":
            raise HTTPException(400, "the interchange holds no 837 transaction")
        with store.transaction() as db:
            control = next_control_number(db, f"999 {group.gs[6]}")
        try:
            check_837p_balance(interchange)
            parsed = parse_837p(text)
        except X12Error as error:  # 999 rejection, IK3 pointing into the transaction (ST = 1)
            where = (error.position or txn.st.position) - txn.st.position + 1
            ik3 = AckError(error.segment_id or "ST", max(where, 1), "8")
            ack_999 = build_999(False, group.gs[6], txn.st[2], CLAIM_837P, [ik3], now, control)
            return ClaimAnswer(ack_999=ack_999)
        ack_999 = build_999(True, group.gs[6], txn.st[2], CLAIM_837P, None, now, control)
        acks: list[ClaimAcknowledgment] = []
        payer_ids = {claim.payer_id for claim in parsed}
        if len(payer_ids) != 1:
            raise HTTPException(400, f"one payer per interchange; this one has {sorted(payer_ids)}")
        profile = profile_of(payer_ids.pop())
        if profile.payer_id in silent:  # the 837 never reached the payer: no 277CA
            return ClaimAnswer(ack_999=ack_999)
        for claim in parsed:
            acks.append(receive_claim(store, profile, claim.to_submission(), now))
        first = parsed[0]
        with store.transaction() as db:
            control = next_control_number(db, f"277CA {group.gs[6]}")
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
        inquiries = parse_276(await x12_body(request))
        for inquiry in inquiries:
            profile_of(inquiry.payer_id)
        now = datetime.now()
        statuses = [status_of(store, inquiry, now) for inquiry in inquiries]
        with store.transaction() as db:
            control = next_control_number(db, "277")
        return x12_response(build_277(inquiries, statuses, now, control))

    @app.get("/x12/era")
    async def era(cursor: str | None = None, limit: int = 100) -> EraBatch:
        if not 1 <= limit <= 1000:
            raise HTTPException(422, f"limit: {limit} is not between 1 and 1000")
        return era_since(store, cursor, limit)

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
