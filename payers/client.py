"""The provider's side of the payer connection: X12 5010 over HTTP to a clearinghouse
(the simulator, or a real one at another URL), DOMAIN.md §3.

Each call builds the X12 request, sends it, and parses the answer into the engine's models;
every document sent and received is kept in `exchanges`, for the ledger's audit trail.

Only transport trouble is retried here, within a short budget (connection refused, timeouts,
429/502/503/504 honouring Retry-After). A payer's business answer is never retried: it raises
`PayerRejected` with its code. Longer outages surface as `PayerUnavailable`, for the caller
(a Temporal activity) to retry on its own schedule.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_before_delay,
)

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
from payers.era import EraBatch
from payers.x12.acknowledgments import parse_277ca, parse_999
from payers.x12.claim_837p import build_837p
from payers.x12.claim_status import ClaimStatus, StatusInquiry, build_276, parse_277
from payers.x12.eligibility import build_270, inquiry_for
from payers.x12.eligibility_parse import InquiryRejected, parse_271
from payers.x12.parties import MemberInquiry
from payers.x12.prior_auth_278 import build_278_request, parse_278_response
from payers.x12.prior_auth_278 import inquiry_for as prior_auth_inquiry_for
from payers.x12.remittance_835 import parse_835
from payers.x12.segments import X12Error

RETRY_BUDGET = 15.0  # seconds for all attempts of one call
RETRY_AFTER_CAP = 5.0  # never wait longer than this on a Retry-After
RETRYABLE_STATUS = {429, 502, 503, 504}

X12_MEDIA = "application/edi-x12"


class PayerRejected(Exception):
    """The payer answered, and the answer is no (unknown payer, invalid request)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class PayerUnavailable(Exception):
    """The payer could not be reached, or kept failing, within the retry budget."""


class _TryAgain(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code} from {response.request.url}")
        self.retry_after = _retry_after(response)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(float(response.headers["Retry-After"]), RETRY_AFTER_CAP)
    except (KeyError, ValueError):
        return None


def _wait(state: RetryCallState) -> float:
    """Retry-After when the server gave one; otherwise exponential backoff with full jitter."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, _TryAgain) and error.retry_after is not None:
        return error.retry_after
    return random.uniform(0, min(2.0, 0.1 * 2**state.attempt_number))


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        return response.text
    if isinstance(detail, list):  # FastAPI validation errors: name the field
        return "; ".join(
            f"{'.'.join(str(part) for part in err.get('loc', []))}: {err.get('msg')}"
            for err in detail
        )
    return str(detail)


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


class PayerClient:
    def __init__(self, base_url: str, timeout: float = 10.0, retry_budget: float = RETRY_BUDGET):
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._retry_budget = retry_budget
        self.exchanges: list[Exchange] = []

    async def __aenter__(self) -> PayerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def eligibility(
        self, coverage: Coverage, patient: Person, service_date: date, provider: Provider
    ) -> Benefits:
        """270 -> 271 (005010X279A1)."""
        trace = f"{coverage.payer_id}-{coverage.member_id}-{service_date:%Y%m%d}"
        inquiry = inquiry_for(coverage, patient, service_date, provider, trace)
        request = build_270(inquiry, datetime.now(), control_number("270", trace))
        answer = await self._exchange("270", "271", coverage.payer_id, request)
        try:
            trace_back, benefits = self._read(
                lambda text: parse_271(text, default_plan_type=coverage.plan_type, trace=trace),
                answer,
            )
        except PayerRejected as error:
            rejected = error.__cause__
            if not isinstance(rejected, InquiryRejected):
                raise
            # AAA03 42 "unable to respond at current time", AAA04 P/R "resubmit": the payer's
            # system is not answering, which is transient and retried, never a decision
            if rejected.code == "42" or rejected.follow_up in ("P", "R"):
                raise PayerUnavailable(f"271 AAA: {rejected}") from rejected
            raise PayerRejected("AAA", str(rejected)) from rejected
        if trace_back != trace:
            raise PayerRejected("271", f"TRN*2 {trace_back!r} does not answer trace {trace!r}")
        return benefits

    async def prior_auth(self, req: PriorAuthRequest) -> PriorAuthDecision:
        """278 request -> 278 response (005010X217)."""
        inquiry = prior_auth_inquiry_for(req, req.provider_name or req.provider_npi)
        number = control_number("278", req.encounter_id, req.coverage.key, *req.procedure_codes)
        request = build_278_request(inquiry, datetime.now(), number)
        answer = await self._exchange("278", "278", req.coverage.payer_id, request)
        return self._read(parse_278_response, answer)[1]

    async def submit_claim(self, sub: ClaimSubmission) -> ClaimAcknowledgment:
        """837P -> 999 and, when the 999 accepts it, the 277CA (DOMAIN.md §3.4, §3.5)."""
        payer_id, ccn = sub.coverage.payer_id, sub.claim_control_number
        request = build_837p(sub, datetime.now(), control_number("837", payer_id, ccn))
        self.exchanges.append(Exchange("837", "sent", payer_id, request))
        response = await self._call("POST", "/x12/837", content=request)
        answer = response.json()
        self.exchanges.append(Exchange("999", "received", payer_id, answer["ack_999"]))
        accepted, errors = self._read(parse_999, answer["ack_999"])
        if not accepted:  # never entered the payer's system: the 837 itself is at fault
            where = "; ".join(f"{e.segment_id} at {e.position} (IK304 {e.code})" for e in errors)
            reason = f"999 rejected the 837: {where or 'no segment named'}"
            return ClaimAcknowledgment(
                claim_control_number=ccn, accepted=False, status_code="A3", reason=reason
            )
        if answer.get("ack_277ca") is None:  # the payer has not acknowledged it (yet)
            reason = "the 999 accepted the 837 but no 277CA came back"
            return ClaimAcknowledgment(
                claim_control_number=ccn, accepted=False, status_code="", reason=reason,
                acknowledged=False,
            )  # fmt: skip
        self.exchanges.append(Exchange("277CA", "received", payer_id, answer["ack_277ca"]))
        acks = self._read(parse_277ca, answer["ack_277ca"])
        ack = next((a for a in acks if a.claim_control_number == ccn), None)
        if ack is None:
            raise PayerRejected("277CA", f"the 277CA does not mention claim {ccn}")
        return ack

    async def claim_status(self, inquiry: StatusInquiry) -> ClaimStatus:
        """276 -> 277 (005010X212)."""
        number = control_number("276", inquiry.trace_number)
        request = build_276([inquiry], datetime.now(), number)
        answer = await self._exchange("276", "277", inquiry.payer_id, request)
        statuses = self._read(parse_277, answer)
        found = next((s for s in statuses if s.trace_number == inquiry.trace_number), None)
        if found is None and len(statuses) == 1 and statuses[0].level != "claim":
            # one 276 asks about one claim: a status only at the receiver or provider level
            # (e.g. E0, E1: the payer cannot answer now) answers it
            found = statuses[0].model_copy(update={"trace_number": inquiry.trace_number})
        if found is None:
            raise PayerRejected("277", f"the 277 does not answer trace {inquiry.trace_number}")
        return found

    async def claim_status_of(
        self, sub: ClaimSubmission, payer_claim_number: str | None, trace: str
    ) -> ClaimStatus:
        """The 276 about a claim we sent, built from its submission."""
        enc = sub.encounter
        asked = inquiry_for(
            sub.coverage, enc.patient, enc.service_date, enc.billing_provider, trace
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
        return EraBatch.model_validate(response.json())

    async def remittance(self, ccn: str, payer_id: str | None = None) -> Remittance:
        """The newest remittance for claim `ccn` in the whole ERA mailbox (for tests and
        tools; the engine keeps its own cursor in the ledger). PayerRejected 404 when there
        is none, 409 when several payers have a claim `ccn` and no `payer_id` was given."""
        found: dict[str, Remittance] = {}
        cursor: str | None = None
        while True:
            batch = await self.era(cursor, limit=1000)
            for document in batch.documents:
                for remittance in self._read(parse_835, document.x12):
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

    @staticmethod
    def _read(parse, text: str):
        """A payer's answer we cannot read is the payer's fault, never retried as transport."""
        try:
            return parse(text)
        except X12Error as error:
            raise PayerRejected("X12", f"unreadable answer: {error}") from error

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
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((httpx.TransportError, _TryAgain)),
            stop=stop_before_delay(self._retry_budget),
            wait=_wait,
        )
        headers = {"Content-Type": X12_MEDIA} if content is not None else None
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._http.request(
                        method, path, content=content, params=params, headers=headers
                    )
                    if response.status_code in RETRYABLE_STATUS:
                        raise _TryAgain(response)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise PayerUnavailable(
                f"{method} {path}: gave up after {self._retry_budget}s: {last}"
            ) from last
        if response.status_code >= 500:
            raise PayerUnavailable(
                f"{method} {path}: HTTP {response.status_code}: {_detail(response)}"
            )
        if response.status_code >= 400:  # the payer's answer: not retried
            raise PayerRejected(str(response.status_code), _detail(response))
        return response
