"""Where an auditor's histories come from: the live Temporal server, the ledger's archive
(ledger/archives.py), or an exported bundle (audit/bundle.py). Each gives the same records:
the history exactly as the server stored it, payloads still encrypted, with its SHA-256."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from activities.archive import encounter_histories
from contract.ids import encounter_id_of, encounter_workflow_of, workflow_id_of
from ledger.archives import archived, history_text

_KEY_ID = re.compile(r'"encryption-key-id":\s*"([A-Za-z0-9+/=]+)"')  # base64 in the JSON


class HistoriesNotFound(LookupError):
    """Nothing to replay for the encounter at the source asked; the message says what to try."""


class HistoryTampered(ValueError):
    """A stored history does not match its SHA-256: it is not replayed."""


@dataclass(frozen=True)
class RecordedHistory:
    workflow_id: str
    run_id: str
    workflow_type: str
    text: str  # JSON of temporal.api.history.v1.History

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def history(self) -> WorkflowHistory:
        return WorkflowHistory.from_json(self.workflow_id, self.text)


async def from_server(client: Client, encounter: str) -> list[RecordedHistory]:
    """The encounter's histories as the server holds them now, open ones included."""
    workflow_id = encounter_workflow_of(workflow_id_of(encounter))
    try:
        found = await encounter_histories(client, workflow_id, open_ok=True)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        raise HistoriesNotFound(
            f"the Temporal server has no workflow {workflow_id} (never started, or deleted "
            "by its retention): replay the ledger's copy with --archive, or a bundle with "
            "--bundle DIR"
        ) from None
    return [RecordedHistory(h.workflow_id, h.run_id, h.workflow_type, h.text) for h in found]


def from_archive(ledger: Engine, encounter: str) -> list[RecordedHistory]:
    """The histories archived in the ledger when the encounter closed; HistoryTampered when one
    no longer matches its SHA-256."""
    encounter_id = encounter_id_of(workflow_id_of(encounter))
    rows = archived(ledger, encounter_id)
    if not rows:
        raise HistoriesNotFound(
            f"the ledger has no archived history of encounter {encounter_id}: it is archived "
            "when it closes; for one closed before archiving existed run `cob audit archive "
            f"{encounter_id}` while the server still has it"
        )
    records = []
    for row in rows:
        try:
            text = history_text(row)
        except ValueError as error:
            raise HistoryTampered(str(error)) from None
        records.append(RecordedHistory(row.workflow_id, row.run_id, row.workflow_type, text))
    return _encounter_first(records)


def _encounter_first(records: list[RecordedHistory]) -> list[RecordedHistory]:
    return sorted(records, key=lambda r: ("/" in r.workflow_id, r.workflow_id))


def payload_key_ids(records: list[RecordedHistory]) -> list[str]:
    """The payload key ids the histories' encrypted payloads name (base64 in the JSON)."""
    found = set()
    for record in records:
        for encoded in _KEY_ID.findall(record.text):
            found.add(base64.b64decode(encoded).decode(errors="replace"))
    return sorted(found)
