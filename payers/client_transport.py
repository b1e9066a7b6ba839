"""One HTTP call to the clearinghouse, retried within a short budget: timeouts, connection
failures and 408/429/502/503/504 (honouring Retry-After, capped) are tried again; after the
budget, or on another 5xx, `PayerUnavailable`; a 4xx is `PayerRefusedRequest` (the request
itself was refused: a person looks). Temporal retries the activity durably after that."""

from __future__ import annotations

import random

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_before_delay,
)

from payers.client_faults import PayerRefusedRequest, PayerUnavailable

RETRY_BUDGET = 15.0  # seconds for all attempts of one call
RETRY_AFTER_CAP = 5.0  # never wait longer than this on a Retry-After
RETRYABLE_STATUS = {408, 429, 502, 503, 504}

X12_MEDIA = "application/edi-x12"


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


async def call_payer(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    retry_budget: float = RETRY_BUDGET,
    content: str | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """The clearinghouse's answer to one request (X12 text when `content` is given)."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type((httpx.TransportError, _TryAgain)),
        stop=stop_before_delay(retry_budget),
        wait=_wait,
    )
    headers = {"Content-Type": X12_MEDIA} if content is not None else None
    try:
        async for attempt in retrying:
            with attempt:
                response = await http.request(
                    method, path, content=content, params=params, headers=headers
                )
                if response.status_code in RETRYABLE_STATUS:
                    raise _TryAgain(response)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise PayerUnavailable(
            f"{method} {path}: no answer within {retry_budget:g}s ({type(last).__name__})",
            str(last),
        ) from None
    if response.status_code >= 500:
        raise PayerUnavailable(f"{method} {path}: HTTP {response.status_code}", _detail(response))
    if response.status_code >= 400:  # the request itself was refused: a person looks
        raise PayerRefusedRequest(
            str(response.status_code),
            f"{method} {path} was refused (HTTP {response.status_code})",
            _detail(response),
        )
    return response
