"""Timeouts and retry policies for every activity call, written out (never the defaults).

Payer calls retry durably for a day: a payer that is down for hours is waited out, while
tenacity inside the client (payers/client.py) handles the short transport blips within one
attempt.
A payer's business rejection is `PayerRejected`, never retried.
"""

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

NON_RETRYABLE = ["PayerRejected", "InvalidEncounter", "UnbalancedLine"]

PAYER_CALL = dict(
    start_to_close_timeout=timedelta(seconds=30),  # > the client's 15 s transport budget
    schedule_to_close_timeout=timedelta(days=1),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        # a blip is retried within seconds; a payer down for hours is asked every quarter
        # hour, not hammered (about 100 attempts in the day's budget)
        maximum_interval=timedelta(minutes=15),
        non_retryable_error_types=NON_RETRYABLE,
    ),
)

LEDGER_WRITE = dict(
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(hours=6),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        non_retryable_error_types=NON_RETRYABLE,
    ),
)


def payer_rejection(error: ActivityError) -> str | None:
    """The payer's own 'no' (PayerRejected), as a message the workflow decides on; None for
    any other failure, which the workflow lets fail loudly."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type == "PayerRejected":
        return cause.message
    return None


# The engine's own lookups and records (profile terms, audit steps): local, quick, retried
# for an hour.
LOOKUP = dict(
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(hours=1),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        non_retryable_error_types=NON_RETRYABLE,
    ),
)


# The same lookups run as local activities (in the worker, inside the workflow task: one
# marker in the history, no task of their own), for steps that read the worker's own files or
# ledger in milliseconds. Retried in the workflow task for a minute, then on timers.
LOCAL_LOOKUP = {**LOOKUP, "start_to_close_timeout": timedelta(seconds=10)}

# A ledger write run as a local activity (the same retries as LEDGER_WRITE's, in the workflow
# task and then on timers), for a write whose input the history has already.
LOCAL_LEDGER_WRITE = LEDGER_WRITE
