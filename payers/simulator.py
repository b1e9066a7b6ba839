"""A payer clearinghouse over HTTP: eligibility (270/271), prior auth (278), claims (837 with
999/277CA) and remittances (835), for every payer in `payers/profiles/`.

State lives in its own SQLite file: received claims, their remittances, each member's
deductible accumulator and, for a plan using a credit reserve, each member's calendar-year
reserve. A claim resent with the same claim control number is answered from the file, never
adjudicated twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, Response

from cob.model import (
    Benefits,
    ClaimAcknowledgment,
    ClaimSubmission,
    Coverage,
    Model,
    Person,
    PriorAuthDecision,
    PriorAuthRequest,
    Remittance,
)
from cob.money import ZERO
from payers.adjudication import adjudicate, payer_claim_number, reversal
from payers.credit_reserves import (
    CREDIT_RESERVE_SCHEMA,
    credit_reserve,
    give_back_credit_reserve,
    move_credit_reserve,
)
from payers.profiles import PayerProfile, load_profiles

SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    payer_claim_number TEXT PRIMARY KEY, payer_id TEXT NOT NULL,
    claim_control_number TEXT NOT NULL, member_id TEXT NOT NULL, encounter_id TEXT NOT NULL,
    frequency TEXT NOT NULL, plan_year INTEGER NOT NULL, deductible_used TEXT NOT NULL,
    received_count INTEGER NOT NULL DEFAULT 1, adjudicated_count INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'adjudicated', replaced_by TEXT,
    acknowledgment TEXT NOT NULL, remittance TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accumulators (
    payer_id TEXT NOT NULL, member_id TEXT NOT NULL, plan_year INTEGER NOT NULL,
    deductible_used TEXT NOT NULL, PRIMARY KEY (payer_id, member_id, plan_year));
"""


class EligibilityRequest(Model):
    coverage: Coverage
    patient: Person
    service_date: date


class Outage(Model):
    requests: int = 1  # how many of the next requests answer 503
    retry_after: int = 1  # seconds, sent as Retry-After


class ClaimStore:
    """The simulator's SQLite file: one connection, one lock, one transaction at a time."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.executescript(SCHEMA + CREDIT_RESERVE_SCHEMA)
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._conn:  # commits, or rolls back on an exception
            yield self._conn


@cache
def year_to_date_deductibles() -> dict[str, Decimal]:
    """The accumulators the payers had before the simulator started (payers/members.json)."""
    data = json.loads((Path(__file__).parent / "members.json").read_text())
    return {key: Decimal(amount) for key, amount in data["deductible_met"].items()}


def deductible_used(db: sqlite3.Connection, payer_id: str, member_id: str, year: int) -> Decimal:
    row = db.execute(
        "SELECT deductible_used FROM accumulators WHERE payer_id=? AND member_id=? AND plan_year=?",
        (payer_id, member_id, year),
    ).fetchone()
    if row:
        return Decimal(row[0])
    return year_to_date_deductibles().get(f"{payer_id}/{member_id}/{year}", ZERO)


def add_to_accumulator(db: sqlite3.Connection, key: tuple[str, str, int], amount: Decimal) -> None:
    used = deductible_used(db, *key) + amount
    db.execute("INSERT OR REPLACE INTO accumulators VALUES (?, ?, ?, ?)", (*key, str(used)))


def create_app(state_path: Path, latency: float = 0.0, profiles_dir: Path | None = None) -> FastAPI:
    profiles = load_profiles(profiles_dir)
    store = ClaimStore(state_path)
    outage = Outage(requests=0)
    app = FastAPI(title="Payer simulator")

    def profile_of(payer_id: str) -> PayerProfile:
        if payer_id not in profiles:
            raise HTTPException(status_code=404, detail=f"unknown payer id {payer_id}")
        return profiles[payer_id]

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

    @app.post("/eligibility")
    async def eligibility(req: EligibilityRequest) -> Benefits:
        profile, member_id = profile_of(req.coverage.payer_id), req.coverage.member_id
        answer = Benefits(
            payer_id=profile.payer_id,
            member_id=member_id,
            active=False,
            plan_type=profile.plan_type,
        )
        reason = inactive_reason(profile, req.coverage, req.service_date)
        if reason:
            return answer.model_copy(update={"reason": reason})
        with store.transaction() as db:
            used = deductible_used(db, profile.payer_id, member_id, req.service_date.year)
        terms = profile.model_dump(
            include={
                "deductible", "coinsurance", "copay", "prior_auth_procedures",
                "copay_procedures", "cob_method",
            }  # fmt: skip
        )
        remaining = max(ZERO, profile.deductible - used)
        return answer.model_copy(
            update={**terms, "active": True, "deductible_remaining": remaining}
        )

    @app.post("/prior-auth")
    async def prior_auth(req: PriorAuthRequest) -> PriorAuthDecision:
        profile = profile_of(req.coverage.payer_id)
        if not profile.is_member_id(req.coverage.member_id):
            reason = f"member id {req.coverage.member_id} not found"
            return PriorAuthDecision(payer_id=profile.payer_id, status="denied", reason=reason)
        needed = sorted(set(req.procedure_codes) & set(profile.prior_auth_procedures))
        if not needed:  # 278 HCR01 NA, no action required (DOMAIN.md §3.3)
            return PriorAuthDecision(
                payer_id=profile.payer_id, status="approved", reason="not required"
            )
        key = f"{profile.payer_id}:{req.coverage.member_id}:{req.encounter_id}:{','.join(needed)}"
        number = "PA" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()
        reason = f"certified: {', '.join(needed)}"
        return PriorAuthDecision(
            payer_id=profile.payer_id, status="approved", authorization_number=number, reason=reason
        )

    @app.post("/claims")
    async def submit_claim(sub: ClaimSubmission) -> ClaimAcknowledgment:
        profile = profile_of(sub.coverage.payer_id)
        number = payer_claim_number(profile.payer_id, sub)
        with store.transaction() as db:
            resend = (
                "UPDATE claims SET received_count = received_count + 1 WHERE payer_claim_number=?"
            )
            seen = db.execute(resend + " RETURNING acknowledgment", (number,)).fetchall()
            if seen:  # the same claim again: counted, answered as before, not adjudicated
                return ClaimAcknowledgment.model_validate_json(seen[0][0])
            problem = front_end_edit(db, profile, sub)
            if problem:  # 277CA rejection: never entered adjudication, so nothing is stored
                code, reason = problem
                ccn = sub.claim_control_number
                return ClaimAcknowledgment(
                    claim_control_number=ccn, accepted=False, status_code=code, reason=reason
                )
            return accept(db, profile, sub, number)

    @app.get("/remittances/{ccn}")
    async def remittance(ccn: str, payer_id: str | None = None) -> Remittance:
        query = "SELECT payer_id, remittance FROM claims WHERE claim_control_number=? AND replaced_by IS NULL"
        with store.transaction() as db:
            rows = db.execute(query + " ORDER BY rowid DESC", (ccn,)).fetchall()
        rows = [row for row in rows if payer_id is None or row["payer_id"] == payer_id]
        if not rows:
            raise HTTPException(status_code=404, detail=f"no remittance for claim {ccn}")
        payers = sorted({row["payer_id"] for row in rows})
        if len(payers) > 1:
            detail = f"claim {ccn} is on file with {', '.join(payers)}: pass ?payer_id="
            raise HTTPException(status_code=409, detail=detail)
        return Remittance.model_validate_json(rows[0]["remittance"])

    @app.get("/admin/claims")
    async def admin_claims() -> list[dict]:
        columns = (
            "claim_control_number, payer_id, member_id, encounter_id, frequency, "
            "received_count, adjudicated_count, status, replaced_by, payer_claim_number"
        )
        with store.transaction() as db:
            rows = db.execute(f"SELECT {columns} FROM claims ORDER BY rowid").fetchall()
        return [dict(row) for row in rows]

    @app.post("/admin/outage")
    async def start_outage(req: Outage) -> Outage:
        outage.requests, outage.retry_after = req.requests, req.retry_after
        return outage

    return app


def inactive_reason(profile: PayerProfile, coverage: Coverage, service_date: date) -> str:
    """Why a 271 would say the coverage is not active on the date of service ("" if active)."""
    if not profile.is_member_id(coverage.member_id):  # 271 AAA*72: invalid member id
        return f"member id {coverage.member_id} not found"
    ended = coverage.termination_date is not None and service_date > coverage.termination_date
    if service_date < coverage.effective_date or ended:
        return f"coverage not in effect on {service_date.isoformat()}"
    return ""


def front_end_edit(
    db: sqlite3.Connection, profile: PayerProfile, sub: ClaimSubmission
) -> tuple[str, str] | None:
    """277CA front-end edits: (STC01 code, reason) when the claim is rejected (DOMAIN.md §3.5)."""
    if not profile.is_member_id(sub.coverage.member_id):
        return "A7", f"member id {sub.coverage.member_id} is invalid for {profile.payer_id}"
    if sub.payer_sequence > 1 and not sub.prior_remittances:
        return "A6", "prior payer adjudication (2320/2430) missing for a non-primary claim"
    if sub.frequency == "1":
        return None
    if not sub.original_payer_claim_number:  # DOMAIN.md §3.4: frequency 7 and 8 need REF*F8
        return "A7", f"frequency {sub.frequency} requires the original payer claim number (REF*F8)"
    original = db.execute(
        "SELECT replaced_by FROM claims WHERE payer_claim_number=? AND payer_id=?",
        (sub.original_payer_claim_number, profile.payer_id),
    ).fetchone()
    if original is None:
        return "A7", f"original payer claim number {sub.original_payer_claim_number} not found"
    if original["replaced_by"]:
        replaced_by = original["replaced_by"]
        return (
            "A7",
            f"claim {sub.original_payer_claim_number} was already replaced by {replaced_by}",
        )
    return None


def accept(
    db: sqlite3.Connection, profile: PayerProfile, sub: ClaimSubmission, number: str
) -> ClaimAcknowledgment:
    """Adjudicate at once, store the remittance, move the deductible accumulator and the
    credit reserve."""
    year = sub.encounter.service_date.year
    key = (profile.payer_id, sub.coverage.member_id, year)
    today = date.today()
    if sub.frequency in ("7", "8"):  # the original's deductible is given back before re-pricing
        original_number = sub.original_payer_claim_number or ""  # front_end_edit checked it
        original = db.execute(
            "SELECT deductible_used, remittance FROM claims WHERE payer_claim_number=?",
            (sub.original_payer_claim_number,),
        ).fetchone()
        add_to_accumulator(db, key, -Decimal(original["deductible_used"]))
        give_back_credit_reserve(db, original_number, key)
        status = "replaced" if sub.frequency == "7" else "voided"
        db.execute(
            "UPDATE claims SET status=?, replaced_by=? WHERE payer_claim_number=?",
            (status, number, sub.original_payer_claim_number),
        )
    if sub.frequency == "8":
        result = reversal(Remittance.model_validate_json(original["remittance"]), sub, today)
        used = ZERO
    else:
        remaining = max(ZERO, profile.deductible - deductible_used(db, *key))
        reserve = credit_reserve(db, *key)
        result, used, reserve_after = adjudicate(profile, sub, remaining, today, reserve)
        move_credit_reserve(db, number, key, reserve_after - reserve)
    add_to_accumulator(db, key, used)
    ack = ClaimAcknowledgment(
        claim_control_number=sub.claim_control_number, accepted=True, payer_claim_number=number
    )
    db.execute(
        "INSERT INTO claims (payer_claim_number, payer_id, claim_control_number, member_id, "
        "encounter_id, frequency, plan_year, deductible_used, acknowledgment, remittance) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (number, profile.payer_id, sub.claim_control_number, sub.coverage.member_id,
         sub.encounter.encounter_id, sub.frequency, year, str(used),
         ack.model_dump_json(), result.model_dump_json()),
    )  # fmt: skip
    return ack
