"""X12 text over HTTP, the clearinghouse's edges: a body read as X12 (ASCII, not empty, not
over MAX_BODY_BYTES), an answer sent as X12, and a request the payer cannot read or answer
refused with 400 naming the segment or field (for a claim, where the 837P carries it),
never a 500."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cob.validation import field_path
from payers.x12.segments import X12Error

X12_MEDIA = "application/edi-x12"
# An 837 from the engine is a few KB; a clearinghouse batch of thousands of claims stays
# under this. Larger bodies are refused (413) before they are held in memory.
MAX_BODY_BYTES = 5 * 1024 * 1024
T = TypeVar("T")


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
