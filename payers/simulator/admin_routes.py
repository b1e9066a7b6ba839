"""The simulator's JSON tool routes, for tests and the demo to play what a real payer does on
its own: list the claims on file, hold or release a payer's adjudication, decide an appeal,
silence a payer after the 999, make it underpay, and answer the next requests 503 (an
outage)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import Field

from cob.model import Model
from payers.simulator.appeals_desk import AppealNotPossible, overturn
from payers.simulator.claim_holds import set_hold, set_underpayment
from payers.simulator.claim_store import claims_on_file
from payers.simulator.claims_desk import release_pended
from payers.simulator.clearinghouse import Clearinghouse, Outage


class AppealAnswer(Model):
    payer_id: str
    claim_control_number: str
    outcome: Literal["overturned", "upheld"]


class Hold(Model):
    payer_id: str
    hold: bool = True


class Underpay(Model):
    payer_id: str
    percent: Decimal = Field(ge=0, le=100, decimal_places=2)  # "0" stops it


def admin_routes(payers: Clearinghouse) -> APIRouter:
    store, profile_of = payers.store, payers.profile_of
    router = APIRouter()

    @router.get("/admin/claims")
    async def admin_claims() -> list[dict]:
        return claims_on_file(store)

    @router.post("/admin/hold")
    async def hold(req: Hold) -> dict:
        """Hold a payer's adjudication (claims pend: acknowledged, no 835), or release it:
        the pended claims are adjudicated and their 835s queued."""
        profile = profile_of(req.payer_id)
        with store.transaction() as db:
            set_hold(db, req.payer_id, req.hold)
        released = [] if req.hold else release_pended(store, profile, datetime.now())
        return {"payer_id": req.payer_id, "hold": req.hold, "released": released}

    @router.post("/admin/appeals")
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

    @router.post("/admin/silence")
    async def silence(req: Hold) -> dict:
        """While silent, a payer's 837s get their 999 and nothing more: no 277CA, no claim."""
        profile_of(req.payer_id)
        (payers.silent.add if req.hold else payers.silent.discard)(req.payer_id)
        return {"payer_id": req.payer_id, "silent": req.hold}

    @router.post("/admin/underpay")
    async def underpay(req: Underpay) -> dict:
        """From now on the payer's 835 lines pay `percent`% less than it adjudicated, the
        difference left to the patient as PR-2; "0" stops it. Claims already paid keep their
        835s."""
        profile_of(req.payer_id)
        with store.transaction() as db:
            set_underpayment(db, req.payer_id, req.percent)
        return {"payer_id": req.payer_id, "percent": str(req.percent)}

    @router.post("/admin/outage")
    async def start_outage(req: Outage) -> Outage:
        outage = payers.outage
        outage.requests, outage.retry_after = req.requests, req.retry_after
        return outage

    return router
