"""The provider's side of the payer connection: an async HTTP client for the simulator.

Only transport trouble is retried here, within a short budget (connection refused, timeouts,
429/502/503/504 honouring Retry-After). A payer's business answer is never retried: it raises
`PayerRejected` with its code. Longer outages surface as `PayerUnavailable`, for the caller
(a Temporal activity) to retry on its own schedule.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel
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
    Remittance,
)

RETRY_BUDGET = 15.0  # seconds for all attempts of one call
RETRY_AFTER_CAP = 5.0  # never wait longer than this on a Retry-After
RETRYABLE_STATUS = {429, 502, 503, 504}

Answer = TypeVar("Answer", bound=BaseModel)


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


class PayerClient:
    def __init__(self, base_url: str, timeout: float = 10.0, retry_budget: float = RETRY_BUDGET):
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._retry_budget = retry_budget

    async def __aenter__(self) -> PayerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def eligibility(
        self, coverage: Coverage, patient: Person, service_date: date
    ) -> Benefits:
        body = {
            "coverage": coverage.model_dump(mode="json"),
            "patient": patient.model_dump(mode="json"),
            "service_date": service_date.isoformat(),
        }
        return await self._call("POST", "/eligibility", Benefits, body)

    async def prior_auth(self, req: PriorAuthRequest) -> PriorAuthDecision:
        return await self._call(
            "POST", "/prior-auth", PriorAuthDecision, req.model_dump(mode="json")
        )

    async def submit_claim(self, sub: ClaimSubmission) -> ClaimAcknowledgment:
        body = sub.model_dump(mode="json")
        return await self._call("POST", "/claims", ClaimAcknowledgment, body)

    async def remittance(self, ccn: str, payer_id: str | None = None) -> Remittance:
        params = {"payer_id": payer_id} if payer_id else None
        return await self._call(
            "GET", f"/remittances/{quote(ccn, safe='')}", Remittance, params=params
        )

    async def _call(
        self,
        method: str,
        path: str,
        answer: type[Answer],
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((httpx.TransportError, _TryAgain)),
            stop=stop_before_delay(self._retry_budget),
            wait=_wait,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._http.request(method, path, json=body, params=params)
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
        return answer.model_validate(response.json())
