"""Replay an encounter's histories against today's workflow code with the SDK's Replayer (the
workers' own converter, so encrypted payloads decrypt with the configured keys). A history the
code no longer reproduces is a divergence, reported with the event where it parted."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from temporalio.api.enums.v1 import EventType
from temporalio.converter import DataConverter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import Replayer

from audit.sources import RecordedHistory, payload_key_ids
from workers import worker
from workers.codec import Keyring, PayloadKeyError, data_converter, keyring_from_environment

_EVENT_ID = re.compile(r"HistoryEvent\(id: (\d+)")
_REASON = re.compile(r"Nondeterminism error: (.*?)\", source:", re.DOTALL)
# "patch marker encountered for change lean-encounter, but there is no corresponding change
# command": the SDK names the change, not the event; the event is the change's marker.
_PATCH = re.compile(r"patch marker encountered for change ([^\s,]+)")


@dataclass(frozen=True)
class ReplayOutcome:
    workflow_id: str
    run_id: str
    workflow_type: str
    events: int
    sha256: str
    error: str | None = None  # why it did not replay; None when it did
    event_id: int | None = None  # the event where it diverged, when the SDK names it
    event_type: str | None = None

    @property
    def replayed(self) -> bool:
        return self.error is None

    def line(self) -> str:
        head = f"{self.workflow_id} ({self.workflow_type}, {self.events} events)"
        if self.replayed:
            return f"replayed  {head}"
        where = f" at event {self.event_id} ({self.event_type})" if self.event_id else ""
        return f"DIVERGED  {head}{where}: {self.error}"


def _event_type_name(value: int) -> str:
    return EventType.Name(value).removeprefix("EVENT_TYPE_")


def outcome_of(record: RecordedHistory, events: int, **failure: object) -> ReplayOutcome:
    return ReplayOutcome(
        workflow_id=record.workflow_id,
        run_id=record.run_id,
        workflow_type=record.workflow_type,
        events=events,
        sha256=record.sha256,
        **failure,  # type: ignore[arg-type]
    )


def divergence(record: RecordedHistory, failure: BaseException) -> ReplayOutcome:
    """The outcome of a failed replay: the event the SDK names in its message, if any, and the
    reason without the SDK's wrapping."""
    message = str(failure)
    reason = _REASON.search(message)
    found = _EVENT_ID.search(message)
    history = record.history()
    event_id = int(found[1]) if found else None
    patch = _PATCH.search(message)
    if event_id is None and patch is not None:
        event_id = _patch_marker(history, patch[1])
    event_type = None
    if event_id is not None:
        event = next((e for e in history.events if e.event_id == event_id), None)
        event_type = _event_type_name(event.event_type) if event is not None else None
    return outcome_of(
        record,
        len(history.events),
        error=(reason[1] if reason else f"{type(failure).__name__}: {message}")[:400],
        event_id=event_id,
        event_type=event_type,
    )


def _patch_marker(history, change: str) -> int | None:
    """The event that recorded the change's patch marker (workflow.patched), if any."""
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            details = event.marker_recorded_event_attributes.details.get("patch-data")
            if details is not None and any(change.encode() in p.data for p in details.payloads):
                return event.event_id
    return None


def missing_keys(records: Sequence[RecordedHistory], keyring: Keyring) -> None:
    """PayloadKeyError naming the key ids the histories' payloads were encrypted with that the
    configured keys lack: checked before replaying, so a missing key is one clear line, not
    a replay failure per history."""
    missing = [key_id for key_id in payload_key_ids(records) if key_id not in keyring.keys]
    if missing:
        raise PayloadKeyError(
            f"the histories' payloads are encrypted with key(s) {', '.join(missing)}, which "
            f"{keyring.source} lacks ({', '.join(sorted(keyring.keys))}): add them to "
            "COB_PAYLOAD_KEYS"
        )


@cache
def quiet_runtime() -> Runtime:
    """The Replayer's own logs (a failing workflow task, with its traceback) would repeat,
    less clearly, what ReplayOutcome says: only errors of the SDK's core get through."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )


async def replay(
    records: Sequence[RecordedHistory],
    workflows: Sequence[type] | None = None,
    converter: DataConverter | None = None,
) -> list[ReplayOutcome]:
    """Replay each history against `workflows` (the workers' own by default); every one is
    tried, whatever the others do."""
    if converter is None:
        keyring = keyring_from_environment()
        missing_keys(records, keyring)
        converter = data_converter(keyring)
    replayer = Replayer(
        workflows=list(workflows or worker.WORKFLOWS),
        data_converter=converter,
        runtime=quiet_runtime(),
        workflow_runner=worker.WORKFLOW_RUNNER,  # as the workers run them
    )
    sdk_log = logging.getLogger("temporalio")
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)
    try:
        return [await _replay_one(replayer, record) for record in records]
    finally:
        sdk_log.setLevel(level)


async def _replay_one(replayer: Replayer, record: RecordedHistory) -> ReplayOutcome:
    history = record.history()
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is not None:
        return divergence(record, result.replay_failure)
    return outcome_of(record, len(history.events))
