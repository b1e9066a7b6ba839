"""Where each workflow lives: the task queue, and workflow ids in both directions.

    encounter-<encounter id>                                  the encounter
    encounter-<encounter id>/claim-<n>-<payer id>             its n-th claim (1, 2, ...)
    encounter-<encounter id>/claim-<n>-<payer id>/appeal      that claim's appeal
    encounter-<encounter id>/archive                          its archive's audit events (and,
                                                              before batches, its workflow)
    archives-<task queue>-<YYYYMMDDTHHMM>                     archives the encounters closing
                                                              in that minute (UTC)

An id says what it is and whose it is, so a claim or an appeal leads back to its encounter
without a lookup, and the encounter's status names its current claim (no counting).
"""

from __future__ import annotations

from datetime import UTC, datetime

TASK_QUEUE = "cob-encounters"

ENCOUNTER_PREFIX = "encounter-"
CLAIM_PART = "/claim-"
APPEAL_SUFFIX = "/appeal"
ARCHIVE_SUFFIX = "/archive"
ARCHIVE_BATCH_PREFIX = "archives-"


def encounter_workflow_id(encounter_id: str) -> str:
    return f"{ENCOUNTER_PREFIX}{encounter_id}"


def claim_workflow_id(encounter_workflow_id: str, claim_number: int, payer_id: str) -> str:
    """The encounter's `claim_number`-th claim (counted from 1), billed to `payer_id`."""
    return f"{encounter_workflow_id}{CLAIM_PART}{claim_number}-{payer_id}"


def appeal_workflow_id(claim_workflow_id: str) -> str:
    return f"{claim_workflow_id}{APPEAL_SUFFIX}"


def archive_workflow_id(encounter_workflow_id: str) -> str:
    return f"{encounter_workflow_id}{ARCHIVE_SUFFIX}"


def archive_batch_workflow_id(task_queue: str, at: datetime) -> str:
    """The ArchiveBatchWorkflow of the encounters on `task_queue` closing in `at`'s minute."""
    return f"{ARCHIVE_BATCH_PREFIX}{task_queue}-{at.astimezone(UTC):%Y%m%dT%H%M}"


def encounter_workflow_of(workflow_id: str) -> str:
    """The encounter workflow id of an encounter's, a claim's or an appeal's workflow id."""
    return workflow_id.split("/", 1)[0]


def encounter_id_of(workflow_id: str) -> str:
    """The encounter id inside any of its workflows' ids."""
    return encounter_workflow_of(workflow_id).removeprefix(ENCOUNTER_PREFIX)


def claim_workflow_of(appeal_workflow_id: str) -> str:
    """The claim workflow an appeal belongs to."""
    if not appeal_workflow_id.endswith(APPEAL_SUFFIX):
        raise ValueError(f"not an appeal workflow id: {appeal_workflow_id!r}")
    return appeal_workflow_id.removesuffix(APPEAL_SUFFIX)


def workflow_id_of(encounter: str) -> str:
    """The encounter workflow id for what a person typed: an encounter id or the id itself."""
    if encounter.startswith(ENCOUNTER_PREFIX):
        return encounter
    return encounter_workflow_id(encounter)
