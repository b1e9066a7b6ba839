"""The provider's side of the payer connection: X12 5010 over HTTP to a clearinghouse
(the simulator, or a real one at another URL), DOMAIN.md §3.

Each call builds the X12 request, sends it, and parses the answer into the engine's models;
every document sent and received is kept in `exchanges`, for the ledger's audit trail.

Three kinds of outcome, kept apart all the way to the workflow:
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
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError
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
from cob.validation import field_path
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
from payers.x12.segments import X12Error

T = TypeVar("T")

RETRY_BUDGET = 15.0  # seconds for all attempts of one call
RETRY_AFTER_CAP = 5.0  # never wait longer than this on a Retry-After
RETRYABLE_STATUS = {408, 429, 502, 503, 504}

X12_MEDIA = "application/edi-x12"


class ClaimAnswer(BaseModel):
    """The clearinghouse's answer to an 837: the 999, and the 277CA once the payer has one."""

    ack_999: str
    ack_277ca: str | None = None


class PayerRejected(Exception):
    """The payer answered, and the answer is no (unknown payer, invalid request)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class PayerCallFault(Exception):
    """No answer the engine can decide on. str() is safe for logs; `detail` is the whole
    story (the payer's error text, the unreadable segment) for the ledger and the worklist."""

    retryable = True

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


class PayerUnavailable(PayerCallFault):
    """The payer could not be reached, or kept failing, within the retry budget."""


class UnreadableAnswer(PayerUnavailable):
    """The payer answered, but not with a readable answer to this request: garbled or
    truncated X12, a body that is not the expected shape, or an answer about another trace,
    member or claim. Asked again, as a transport failure is."""


class PayerRefusedRequest(PayerCallFault):
    """The payer (or clearinghouse) refused the request itself with a 4xx: nothing about the
    patient's coverage was said, and sending it again unchanged will not help."""

    retryable = False

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(f"{code}: {message}", detail)
        self.code = code


class CannotBuildRequest(PayerCallFault):
    """The engine cannot write this request as X12 (a value the guide does not allow)."""

    retryable = False


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
        request = self._build(
            "270",
            lambda: build_270(
                inquiry_for(coverage, patient, service_date, provider, trace),
                datetime.now(),
                control_number("270", trace),
            ),
        )
        answer = await self._exchange("270", "271", coverage.payer_id, request)
        try:
            trace_back, benefits = self._read(
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
        request = self._build(
            "278",
            lambda: build_278_request(
                prior_auth_inquiry_for(req, req.provider_name or req.provider_npi),
                datetime.now(),
                number,
            ),
        )
        answer = await self._exchange("278", "278", req.coverage.payer_id, request)
        try:
            trace, decision = self._read("278", parse_278_response, answer)
        except InquiryRejected as rejected:  # AAA03 42 / AAA04 P: the payer is not answering
            raise PayerUnavailable(
                f"278: the payer cannot answer now (AAA03 {rejected.code}, AAA04 "
                f"{rejected.follow_up or '-'} at {rejected.loop})"
            ) from None
        if trace != req.encounter_id:
            raise UnreadableAnswer("278: TRN*2 does not echo the trace number asked")
        return decision

    async def submit_claim(self, sub: ClaimSubmission) -> ClaimAcknowledgment:
        """837P -> 999 and, when the 999 accepts it, the 277CA (DOMAIN.md §3.4, §3.5)."""
        payer_id, ccn = sub.coverage.payer_id, sub.claim_control_number
        number = control_number("837", payer_id, ccn)
        request = self._build("837P", lambda: build_837p(sub, datetime.now(), number))
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
        accepted, errors = self._read(
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
        acks = self._read("277CA", parse_277ca, answer.ack_277ca)
        ack = next((a for a in acks if a.claim_control_number == ccn), None)
        if ack is None:
            raise UnreadableAnswer("277CA: no 2200D REF*D9 names the claim sent")
        return ack

    async def claim_status(self, inquiry: StatusInquiry) -> ClaimStatusReport:
        """276 -> 277 (005010X212)."""
        number = control_number("276", inquiry.trace_number)
        request = self._build("276", lambda: build_276([inquiry], datetime.now(), number))
        answer = await self._exchange("276", "277", inquiry.payer_id, request)
        statuses = self._read("277", parse_277, answer)
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
        asked = self._build(
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
            raise UnreadableAnswer(f"ERA mailbox: the batch is not readable JSON: {where}") from None

    async def remittance(self, ccn: str, payer_id: str | None = None) -> Remittance:
        """The newest remittance for claim `ccn` in the whole ERA mailbox (for tests and
        tools; the engine keeps its own cursor in the ledger). PayerRejected 404 when there
        is none, 409 when several payers have a claim `ccn` and no `payer_id` was given."""
        found: dict[str, Remittance] = {}
        cursor: str | None = None
        while True:
            batch = await self.era(cursor, limit=1000)
            for document in batch.documents:
                for remittance in self._read("835", parse_835, document.x12):
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
    def _read(transaction: str, parse, text: str):
        """An answer we cannot read is no answer: garbled or cut short on the way, most
        likely, so it is asked again. The message names the segment, not its values."""
        try:
            return parse(text)
        except InquiryRejected:
            raise
        except X12Error as error:
            where = f"segment {error.segment_id}" if error.segment_id else "the envelope"
            if error.position:
                where += f" at position {error.position}"
            raise UnreadableAnswer(
                f"{transaction}: the answer is not readable X12 ({where})", str(error)
            ) from None
        except (ValidationError, ValueError, ArithmeticError, LookupError) as error:
            # a value no reader rule expected (a pydantic error quotes it: kept in detail)
            raise UnreadableAnswer(
                f"{transaction}: the answer holds a value that cannot be read "
                f"({type(error).__name__})",
                str(error),
            ) from None

    @staticmethod
    def _build(transaction: str, build: Callable[[], T]) -> T:
        """A request the guide cannot carry is refused here, naming the element at fault."""
        try:
            return build()
        except X12Error as error:
            raise CannotBuildRequest(
                f"{transaction}: cannot be written as X12 ({error.segment_id or 'envelope'})",
                str(error),
            ) from None
        except (ValueError, ValidationError) as error:
            raise CannotBuildRequest(
                f"{transaction}: cannot be written as X12 ({type(error).__name__})", str(error)
            ) from None

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
                f"{method} {path}: no answer within {self._retry_budget:g}s "
                f"({type(last).__name__})",
                str(last),
            ) from None
        if response.status_code >= 500:
            raise PayerUnavailable(
                f"{method} {path}: HTTP {response.status_code}", _detail(response)
            )
        if response.status_code >= 400:  # the request itself was refused: a person looks
            raise PayerRefusedRequest(
                str(response.status_code),
                f"{method} {path} was refused (HTTP {response.status_code})",
                _detail(response),
            )
        return response
