"""When a payer call gives no answer to decide on: what the team is asked to do, and by when.

A payer's transient failure is never a business decision. A coverage is dropped, a claim
denied or a prior authorization refused only for a reason the payer stated (a 271 AAA or
inactive EB, a 999 R, a 277CA A6/A7, an 835, a 278 HCR or AAA). Anything else (no answer,
an answer that cannot be read or is about another request, a request the payer refused, a
value the X12 guide cannot carry) holds the encounter where it is, opens a worklist task
saying what is wrong, and the engine keeps asking until the payer answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# A held encounter earns no money: the team looks within two business days' worth of time.
PAYER_FAULT_TASK_DAYS = 2
# Between one spent retry budget and the next: a payer down for hours is waited out, one
# that refuses the request is asked once a day (a fix to its enrolment or routing is picked up).
RETRY_AFTER_FAULT = timedelta(hours=1)
RETRY_AFTER_REFUSAL = timedelta(days=1)


@dataclass(frozen=True)
class FaultKind:
    kind: str  # the worklist task's kind; the held stage is "held_<kind>"
    transient: bool  # may clear by itself (asked again soon) or needs a person first
    action: str  # what the team does


# By the failure type the payer client raises (payers/client_faults.py).
FAULT_KINDS: dict[str, FaultKind] = {
    "PayerUnavailable": FaultKind(
        "payer_unavailable",
        True,
        "check the payer's or clearinghouse's status and the connection; the engine keeps asking",
    ),
    "UnreadableAnswer": FaultKind(
        "payer_answer_unreadable",
        True,
        "the answers are kept in the ledger's documents; report them to the clearinghouse; "
        "the engine keeps asking",
    ),
    "PayerRefusedRequest": FaultKind(
        "payer_refused_request",
        False,
        "check the payer id, the enrolment and the payer's error in the detail; the engine "
        "asks again daily",
    ),
    "CannotBuildRequest": FaultKind(
        "request_not_writable",
        False,
        "a value of the encounter cannot be written in X12: correct the source record; the "
        "engine asks again daily",
    ),
}
UNKNOWN_FAULT = FaultKind(
    "payer_call_failed",
    True,
    "the call kept failing (timeouts or an engine error; see the worker's log); the engine "
    "keeps asking",
)


def fault_kind(failure_type: str | None) -> FaultKind:
    return FAULT_KINDS.get(failure_type or "", UNKNOWN_FAULT)


def fault_task_due(today: date) -> date:
    return today + timedelta(days=PAYER_FAULT_TASK_DAYS)


def retry_after(kind: FaultKind) -> timedelta:
    """How long a held call waits before it is asked again, once Temporal's retry budget is
    spent: an hour for a fault that may clear by itself, a day for one a person must fix."""
    return RETRY_AFTER_FAULT if kind.transient else RETRY_AFTER_REFUSAL
