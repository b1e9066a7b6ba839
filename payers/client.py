"""The provider's side of the payer connection: X12 5010 over HTTP to a clearinghouse
(the simulator, or a real one at another URL): 270/271 (005010X279A1), 278 (005010X217), 837P
(005010X222A1) answered by a 999 (005010X231A1) and a 277CA (005010X214), 276/277
(005010X212), and the ERA mailbox of 835s (005010X221A1).

Each call builds the X12 request, sends it (client_transport.py: retried within a short
budget), and parses the answer into the engine's models; every document sent and received is
kept in `exchanges`, for the ledger's audit trail.

Three kinds of outcome, kept apart all the way to the workflow (client_faults.py):
- a business answer (a 271 with benefits or an AAA about the patient, a 999 R, a 277CA A7, a
  278 decision) is returned, or raised as `PayerRejected` with its code: decided on, never
  retried;
- a fault that may clear: the payer could not be reached, kept failing, hung, answered 5xx,
  or answered something unreadable, truncated or about another request. Transport trouble is
  retried here within a short budget (timeouts, 408/429/502/503/504 honouring Retry-After);
  then `PayerUnavailable` or `UnreadableAnswer`, for Temporal to retry durably;
- a request that cannot go: the payer refused it (4xx) or the builder cannot write it
  (`PayerRefusedRequest`, `CannotBuildRequest`). Retrying will not help; a person must look.
A fault's message names the transaction, segment or field and the rule, never a value, since
it reaches logs; `detail` carries the full text for the ledger.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

import httpx
from pydantic import BaseModel, ValidationError

from cob.model import (
    Benefits,
    ClaimAcknowledgment,
    ClaimSubmission,
    Coverage,
    Person,
    PriorAuthDecision,
    PriorAuthRequest,
    Provider,
    Remittance,
)
from cob.validation import field_path
from payers.client_faults import (
    CannotBuildRequest,
    PayerCallFault,
    PayerRefusedRequest,
    PayerRejected,
    PayerUnavailable,
    UnreadableAnswer,
    build_request,
    read_answer,
)
from payers.client_transport import RETRY_BUDGET, call_payer
from payers.era import EraBatch
from payers.x12.acknowledgments import parse_277ca, parse_999
from payers.x12.claim_837p import build_837p
from payers.x12.claim_status import ClaimStatusReport, StatusInquiry, build_276, parse_277
from payers.x12.eligibility import build_270, inquiry_for
from payers.x12.eligibility_parse import InquiryRejected, parse_271
from payers.x12.parties import MemberInquiry
from payers.x12.prior_auth_278 import build_278_request, parse_278_response
from payers.x12.prior_auth_278 import inquiry_for as prior_auth_inquiry_for
from payers.x12.remittance_835 import parse_835

# The faults are imported from here by the activities and the tests.
__all__ = [
    "CannotBuildRequest",
    "ClaimAnswer",
    "Exchange",
    "PayerCallFault",
    "PayerClient",
    "PayerConnection",
    "PayerRefusedRequest",
    "PayerRejected",
    "PayerUnavailable",
    "UnreadableAnswer",
    "control_number",
]


class ClaimAnswer(BaseModel):
    """The clearinghouse's answer to an 837: the 999, and the 277CA once the payer has one."""

    ack_999: str
    ack_277ca: str | None = None


@dataclass(frozen=True)
class Exchange:
    """One X12 document as it crossed the wire."""

    transaction: str  # 270, 271, 278, 837, 999, 277CA, 276, 277
    direction: str  # sent | received
    payer_id: str
    text: str


def control_number(*parts: str) -> int:
    """The ISA13/GS06 for a request: the same for the same request, so a resend of a claim
    is the same interchange (9 digits, from a hash of what identifies the request)."""
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return int(digest[:12], 16) % 1_000_000_000


class PayerConnection:
    """A worker's one HTTP client to the clearinghouse: a pool of kept-alive connections and
    one TLS context for all its payer calls (a client per call built a new SSL context each
    time, loading the CA bundle on the event loop). Made on first use, on the loop that
    runs the activities."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None

    def client(self, retry_budget: float = RETRY_BUDGET) -> PayerClient:
        """A PayerClient for one call (its own `exchanges`) on the shared connections."""
        if self._http is None or self._http.is_closed:
            self._http = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout)
        return PayerClient(self.base_url, retry_budget=retry_budget, http=self._http)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


class PayerClient:
    def __init__(
        self,
        base_url: str,
        timeout: float = 10.0,
        retry_budget: float = RETRY_BUDGET,
        http: httpx.AsyncClient | None = None,  # shared (PayerConnection): left open
    ):
        self._owned = http is None
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._retry_budget = retry_budget
        self.exchanges: list[Exchange] = []

    async def __aenter__(self) -> PayerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def eligibility(
        self, coverage: Coverage, patient: Person, service_date: date, provider: Provider
    ) -> Benefits:
        """270 -> 271 (005010X279A1)."""
        trace = f"{coverage.payer_id}-{coverage.member_id}-{service_date:%Y%m%d}"
        request = build_request(
            "270",
            lambda: build_270(
                inquiry_for(coverage, patient, service_date, provider, trace),
                datetime.now(),
                control_number("270", trace),
            ),
        )
        answer = await self._exchange("270", "271", coverage.payer_id, request)
        try:
            trace_back, benefits = read_answer(
                "271",
                lambda text: parse_271(text, default_plan_type=coverage.plan_type, trace=trace),
                answer,
            )
        except InquiryRejected as rejected:
            if rejected.payer_busy:
                raise PayerUnavailable(
                    f"271: the payer cannot answer now (AAA03 {rejected.code}, AAA04 "
                    f"{rejected.follow_up or '-'} at {rejected.loop})"
                ) from None
            raise PayerRejected("AAA", str(rejected)) from None
        # The trace (payer, member, date) ties the answer to the question; NM109 may differ
        # on purpose (a payer correcting the member id returns the one asked in REF*Q4).
        if trace_back != trace:
            raise UnreadableAnswer("271: TRN*2 does not echo the trace number asked")
        return benefits

    async def prior_auth(self, req: PriorAuthRequest) -> PriorAuthDecision:
        """278 request -> 278 response (005010X217)."""
        number = control_number("278", req.encounter_id, req.coverage.key, *req.procedure_codes)
        request = build_request(
            "278",
            lambda: build_278_request(
                prior_auth_inquiry_for(req, req.provider_name or req.provider_npi),
                datetime.now(),
                number,
            ),
        )
        answer = await self._exchange("278", "278", req.coverage.payer_id, request)
        try:
            trace, decision = read_answer("278", parse_278_response, answer)
        except InquiryRejected as rejected:  # AAA03 42 / AAA04 P: the payer is not answering
            raise PayerUnavailable(
                f"278: the payer cannot answer now (AAA03 {rejected.code}, AAA04 "
                f"{rejected.follow_up or '-'} at {rejected.loop})"
            ) from None
        if trace != req.encounter_id:
            raise UnreadableAnswer("278: TRN*2 does not echo the trace number asked")
        return decision

    async def submit_claim(self, sub: ClaimSubmission) -> ClaimAcknowledgment:
        """837P -> 999 and, when the 999 accepts it, the 277CA (005010X222A1 -> 005010X231A1,
        005010X214)."""
        payer_id, ccn = sub.coverage.payer_id, sub.claim_control_number
        number = control_number("837", payer_id, ccn)
        request = build_request("837P", lambda: build_837p(sub, datetime.now(), number))
        self.exchanges.append(Exchange("837", "sent", payer_id, request))
        response = await self._call("POST", "/x12/837", content=request)
        try:
            answer = ClaimAnswer.model_validate_json(response.content)
        except ValidationError as error:
            self.exchanges.append(Exchange("999", "received", payer_id, response.text))
            where = ", ".join(field_path(e["loc"]) for e in error.errors(include_url=False))
            raise UnreadableAnswer(
                f"837: the answer is not the clearinghouse's JSON (ack_999, ack_277ca): {where}"
            ) from None
        self.exchanges.append(Exchange("999", "received", payer_id, answer.ack_999))
        accepted, errors = read_answer(
            "999", lambda text: parse_999(text, group_control=str(number)), answer.ack_999
        )
        if not accepted:  # never entered the payer's system: the 837 itself is at fault
            where = "; ".join(f"{e.segment_id} at {e.position} (IK304 {e.code})" for e in errors)
            reason = f"999 rejected the 837: {where or 'no segment named'}"
            return ClaimAcknowledgment(
                claim_control_number=ccn, accepted=False, status_code="A3", reason=reason
            )
        if answer.ack_277ca is None:  # the payer has not acknowledged it (yet)
            reason = "the 999 accepted the 837 but no 277CA came back"
            return ClaimAcknowledgment(
                claim_control_number=ccn, accepted=False, status_code="", reason=reason,
                acknowledged=False,
            )  # fmt: skip
        self.exchanges.append(Exchange("277CA", "received", payer_id, answer.ack_277ca))
        acks = read_answer("277CA", parse_277ca, answer.ack_277ca)
        ack = next((a for a in acks if a.claim_control_number == ccn), None)
        if ack is None:
            raise UnreadableAnswer("277CA: no 2200D REF*D9 names the claim sent")
        return ack

    async def claim_status(self, inquiry: StatusInquiry) -> ClaimStatusReport:
        """276 -> 277 (005010X212)."""
        number = control_number("276", inquiry.trace_number)
        request = build_request("276", lambda: build_276([inquiry], datetime.now(), number))
        answer = await self._exchange("276", "277", inquiry.payer_id, request)
        statuses = read_answer("277", parse_277, answer)
        found = next((s for s in statuses if s.trace_number == inquiry.trace_number), None)
        if found is None and len(statuses) == 1 and statuses[0].level != "claim":
            # one 276 asks about one claim: a status only at the receiver or provider level
            # (e.g. E0, E1: the payer cannot answer now) answers it
            found = statuses[0].model_copy(update={"trace_number": inquiry.trace_number})
        if found is None:
            raise UnreadableAnswer("277: no TRN*2 echoes the trace number asked")
        return found

    async def claim_status_of(
        self, sub: ClaimSubmission, payer_claim_number: str | None, trace: str
    ) -> ClaimStatusReport:
        """The 276 about a claim we sent, built from its submission."""
        enc = sub.encounter
        asked = build_request(
            "276",
            lambda: inquiry_for(
                sub.coverage, enc.patient, enc.service_date, enc.billing_provider, trace
            ),
        )
        parties = asked.model_dump(include=set(MemberInquiry.model_fields))
        inquiry = StatusInquiry(
            **parties,
            claim_control_number=sub.claim_control_number,
            payer_claim_number=payer_claim_number,
            charge=enc.total_charge,
        )
        return await self.claim_status(inquiry)

    async def era(self, cursor: str | None, limit: int = 100) -> EraBatch:
        """The 835s waiting in the ERA mailbox after `cursor` (None: from the top)."""
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        response = await self._call("GET", "/x12/era", params=params)
        try:
            return EraBatch.model_validate_json(response.content)
        except ValidationError as error:
            where = ", ".join(field_path(e["loc"]) for e in error.errors(include_url=False))
            raise UnreadableAnswer(
                f"ERA mailbox: the batch is not readable JSON: {where}"
            ) from None

    async def remittance(self, ccn: str, payer_id: str | None = None) -> Remittance:
        """The newest remittance for claim `ccn` in the whole ERA mailbox (for tests and
        tools; the engine keeps its own cursor in the ledger). PayerRejected 404 when there
        is none, 409 when several payers have a claim `ccn` and no `payer_id` was given."""
        found: dict[str, Remittance] = {}
        cursor: str | None = None
        while True:
            batch = await self.era(cursor, limit=1000)
            for document in batch.documents:
                for remittance in read_answer("835", parse_835, document.x12):
                    if remittance.claim_control_number == ccn:
                        found[remittance.payer_id] = remittance
                cursor = document.cursor
            if not batch.more:
                break
        if payer_id is not None:
            found = {k: v for k, v in found.items() if k == payer_id}
        if not found:
            raise PayerRejected("404", f"no remittance for claim {ccn}")
        if len(found) > 1:
            raise PayerRejected("409", f"claim {ccn} is on file with {', '.join(sorted(found))}")
        return next(iter(found.values()))

    async def _exchange(self, sent: str, received: str, payer_id: str, request: str) -> str:
        self.exchanges.append(Exchange(sent, "sent", payer_id, request))
        response = await self._call("POST", f"/x12/{sent}", content=request)
        self.exchanges.append(Exchange(received, "received", payer_id, response.text))
        return response.text

    async def _call(
        self,
        method: str,
        path: str,
        content: str | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await call_payer(self._http, method, path, self._retry_budget, content, params)
