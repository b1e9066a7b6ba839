"""The clearinghouse's X12 5010 routes, for every simulated payer:

    POST /x12/270  -> 271      eligibility (005010X279A1)
    POST /x12/278  -> 278      prior authorization (005010X217)
    POST /x12/837  -> {"ack_999": 999, "ack_277ca": 277CA or null}  (005010X222A1 in;
                               005010X231A1 and 005010X214 out)
    POST /x12/276  -> 277      claim status (005010X212)
    GET  /x12/era?cursor=...   -> the 835s (005010X221A1) after the cursor, as a
                               clearinghouse's ERA mailbox

An 837 with a bad segment inside a readable envelope is rejected the X12 way, in its 999; a
claim in it whose fields the payer cannot take, in the 277CA. What the payer decides lives
in claims_desk.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import ValidationError

from cob.model import ClaimAcknowledgment, ClaimSubmission, Model
from payers.era import EraBatch
from payers.simulator.claim_holds import holding, pended_claim_number
from payers.simulator.claim_store import (
    BadCursor,
    ClaimStore,
    era_since,
    next_control_number,
    stored_remittance,
)
from payers.simulator.claims_desk import benefits_for, prior_auth_decision, receive_claim
from payers.simulator.clearinghouse import Clearinghouse
from payers.simulator.x12_http import read_request, refusal, refusing, x12_body, x12_response
from payers.x12.acknowledgments import AckError, build_277ca, build_999
from payers.x12.claim_837p import VERSION as CLAIM_837P
from payers.x12.claim_837p import check_837p_balance
from payers.x12.claim_837p_parse import ParsedClaim, parse_837p
from payers.x12.claim_status import ClaimStatusReport, StatusInquiry, build_277, parse_276
from payers.x12.eligibility import build_271
from payers.x12.eligibility_parse import parse_270
from payers.x12.prior_auth_278 import build_278_response, parse_278_request
from payers.x12.segments import X12Error, parse_interchange


class ClaimAnswer(Model):
    ack_999: str
    ack_277ca: str | None = None  # only when the 999 accepted the transaction


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
    """A 277 answer from what the payer holds (STC01 category, ASC X12 005010X212): F1 paid,
    F2 denied, F4 no payment, P1 pended (accepted, not yet adjudicated), A4 not found
    (STC01-2 35: claim/line not found)."""
    remittance = stored_remittance(store, inquiry.payer_id, inquiry.claim_control_number)
    asked: dict[str, Any] = {
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
        return ClaimStatusReport(
            **asked, category="A4", status_code="35", effective_date=today.date()
        )
    category = "F2" if remittance.status == "4" else ("F1" if remittance.paid > 0 else "F4")
    return ClaimStatusReport(
        **asked,
        payer_claim_number=remittance.payer_claim_number,
        category=category,
        status_code="65" if category == "F2" else "1",  # 1: see the remittance advice
        paid=remittance.paid,
        effective_date=remittance.adjudication_date,
    )


def x12_routes(payers: Clearinghouse) -> APIRouter:
    store, profile_of = payers.store, payers.profile_of
    router = APIRouter()

    @router.post("/x12/270")
    async def eligibility(request: Request) -> Response:
        inquiry = read_request("270", parse_270, await x12_body(request))
        profile = profile_of(inquiry.payer_id, "2100A NM109")
        benefits = benefits_for(store, profile, inquiry.member_id, inquiry.service_date)
        with store.transaction() as db:
            control = next_control_number(db, f"271 {inquiry.trace_number}")
        with refusing("the 270 cannot be answered"):
            return x12_response(build_271(inquiry, benefits, datetime.now(), control))

    @router.post("/x12/278")
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

    @router.post("/x12/837")
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
        if profile.payer_id in payers.silent:  # the 837 never reached the payer: no 277CA
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

    @router.post("/x12/276")
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

    @router.get("/x12/era")
    async def era(cursor: str | None = None, limit: int = 100) -> EraBatch:
        if not 1 <= limit <= 1000:
            raise HTTPException(422, f"limit: {limit} is not between 1 and 1000")
        try:
            return era_since(store, cursor, limit)
        except BadCursor as error:
            raise HTTPException(422, f"cursor: {error}") from error

    return router
