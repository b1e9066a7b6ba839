"""What the payer client raises when it has no answer to return, kept apart all the way to
the workflow (cob/payer_faults.py says what the engine does with each):

- `PayerRejected`: the payer answered, and the answer is no (a business answer, never retried);
- `PayerUnavailable`, `UnreadableAnswer`: a fault that may clear (no answer, or none readable),
  retried by Temporal;
- `PayerRefusedRequest`, `CannotBuildRequest`: a request that cannot go; a person must look.

`read_answer` and `build_request` turn a reader's or a builder's error into these.

A fault's message names the transaction, segment or field and the rule, never a value, since
it reaches logs; `detail` carries the full text for the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from payers.x12.eligibility_parse import InquiryRejected
from payers.x12.segments import X12Error

T = TypeVar("T")


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


def read_answer(transaction: str, parse, text: str):
    """An answer we cannot read is no answer: garbled or cut short on the way, most likely,
    so it is asked again (UnreadableAnswer). The message names the segment, not its values;
    an AAA (InquiryRejected) is the payer's answer and goes to the caller as it is."""
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
            f"{transaction}: the answer holds a value that cannot be read ({type(error).__name__})",
            str(error),
        ) from None


def build_request(transaction: str, build: Callable[[], T]) -> T:
    """A request the guide cannot carry is refused here (CannotBuildRequest), naming the
    element at fault."""
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
