"""ArchiveWorkflow: keep an encounter's histories once it has closed (activities/archive.py).

The encounter starts it as its last step (activities/archive.py start_archive), because a
workflow cannot read its own final history: this one waits for the close, then copies the
histories of the encounter, its claims and their appeals into the ledger.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.archive import ArchiveActivities
    from contract.messages import ArchiveRequest, ArchiveResult

# Retried until the encounter has closed (seconds) and the ledger answers (however long it
# takes: the server keeps the histories for its retention, a day or more).
ARCHIVE = dict(
    start_to_close_timeout=timedelta(minutes=5),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=10),
        non_retryable_error_types=["ArchiveConflict"],
    ),
)


@workflow.defn
class ArchiveWorkflow:
    @workflow.run
    async def run(self, request: ArchiveRequest) -> ArchiveResult:
        return await workflow.execute_activity_method(
            ArchiveActivities.archive_histories, request, **ARCHIVE
        )
