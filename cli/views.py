"""What `cob list`, `status`, `tasks`, `timeline` and `documents` show, as JSON-ready data:
the one shape their text and their `--json` are both made from, and that the HTTP API will
serve as it is. Money is a string of cents ("57.10"), dates and times are ISO 8601.

An encounter may be named in every form the CLI prints: its id (E1001), its workflow id
(encounter-E1001), or the workflow id of one of its claims or appeals
(encounter-E1001/claim-1-ACME01, .../appeal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from contract.ids import encounter_id_of, encounter_workflow_of, workflow_id_of

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from temporalio.client import Client, WorkflowExecution

    from contract.messages import EncounterStatus

CENTS = Decimal("0.01")


def json_ready(value: Any) -> Any:
    """`value` as JSON can carry it: a Decimal as a string with two decimals (more when it has
    more: a rate is never rounded), a date or time in ISO 8601, a model as its fields."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python")
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if not value.is_finite() or (isinstance(exponent, int) and exponent < -2):
            return f"{value:f}"
        return f"{value.quantize(CENTS):f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return json_ready(value.value)
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(item) for item in value]
    return value


def json_text(value: Any) -> str:
    """The one JSON document a `--json` command prints."""
    return json.dumps(json_ready(value), indent=2, ensure_ascii=False)


def encounter_workflow(typed: str) -> str:
    """The encounter workflow id for any form of its name a person types."""
    return encounter_workflow_of(workflow_id_of(typed.strip()))


def encounter_id(typed: str) -> str:
    """The encounter id for any form of its name a person types."""
    return encounter_id_of(encounter_workflow(typed))


# --- cob list: encounters by their search attributes (Temporal visibility) ---


def encounter_row(execution: WorkflowExecution) -> dict[str, Any]:
    """One encounter as `cob list` shows it: its search attributes and its run's status."""
    from contract import search_attributes as sa

    found = execution.typed_search_attributes
    balance = found.get(sa.PATIENT_BALANCE)  # a float in visibility: back to cents
    due = found.get(sa.NEXT_DEADLINE)  # a day, kept as 00:00 UTC (contract.search_attributes)
    return {
        "workflow_id": execution.id,
        "encounter_id": encounter_id_of(execution.id),
        "status": execution.status.name if execution.status else None,
        "stage": found.get(sa.STAGE),
        "current_payer": found.get(sa.CURRENT_PAYER),
        "patient_balance": None if balance is None else f"{balance:.2f}",
        "next_deadline": due.date().isoformat() if due else None,
        "next_deadline_kind": found.get(sa.NEXT_DEADLINE_KIND),
        "underpaid": bool(found.get(sa.UNDERPAID)),
        "started": execution.start_time.isoformat(),
    }


async def encounter_rows(client: Client, query: str, limit: int) -> list[dict[str, Any]]:
    """The encounters the visibility query finds, at most `limit`, newest first."""
    return [
        encounter_row(execution) async for execution in client.list_workflows(query, limit=limit)
    ]


# --- cob status: the encounter workflow's own answer, and the provider-level adjustments ---


@dataclass(frozen=True)
class EncounterView:
    workflow_id: str
    status: EncounterStatus
    # PLBs naming one of its claims (ledger.documents.adjustments_naming), as row dicts
    provider_adjustments: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """The workflow's status query answer field by field, its workflow id first and the
        provider-level adjustments naming its claims last."""
        return json_ready(
            {
                "workflow_id": self.workflow_id,
                **self.status.model_dump(mode="python"),
                "provider_adjustments": self.provider_adjustments,
            }
        )


async def encounter_view(
    client: Client, typed: str, engine: Engine | None = None
) -> EncounterView | None:
    """The encounter's status (its workflow's query), then the PLBs that name its claims from
    the ledger (`engine`, else the configured one); None when there is no such workflow."""
    from cli.encounters import encounter_status_or_none
    from ledger.db import make_engine
    from ledger.documents import adjustments_naming
    from ledger.queries import row_dict

    workflow_id = encounter_workflow(typed)
    status = await encounter_status_or_none(client, workflow_id)
    if status is None:
        return None
    naming = adjustments_naming(engine or make_engine(), status.encounter_id)
    plbs = [row_dict(plb) for plb in naming]
    return EncounterView(workflow_id, status, plbs)


# --- the ledger's: cob tasks, cob timeline, cob documents ---


def task_rows(
    engine: Engine,
    typed_encounter: str | None = None,
    include_closed: bool = False,
    snoozed_on: date | None = None,
) -> list[dict[str, Any]]:
    """The worklist (ledger.worklist.tasks), of one encounter when it is named; with
    `snoozed_on`, without the tasks snoozed past that day."""
    from ledger.worklist import tasks

    wanted = encounter_id(typed_encounter) if typed_encounter else None
    found = tasks(engine, encounter_id=wanted, include_closed=include_closed, snoozed_on=snoozed_on)
    return json_ready(found)


def timeline_rows(engine: Engine, typed: str) -> list[dict[str, Any]]:
    """The encounter's audit trail, its claims' and appeals' included
    (ledger.queries.encounter_timeline): each event with its `detail` as recorded (patient
    data included, as the ledger keeps it) and `on`, the engine's day for the step."""
    from ledger.queries import encounter_timeline

    return json_ready(encounter_timeline(engine, encounter_workflow(typed)))


def document_rows(engine: Engine, typed: str, with_text: bool = False) -> list[dict[str, Any]]:
    """The X12 documents the ledger kept for the encounter (ledger.documents.documents_for),
    oldest first, each with the provider-level adjustments (PLB) it carries; after them, each
    other 835 whose PLBs name one of the encounter's claims, with those PLBs only
    (`carries_encounter` false). The X12 text itself with `with_text`. [] when the encounter
    has no document of its own."""
    from ledger.documents import adjustments_naming, documents_for, provider_adjustments
    from ledger.queries import row_dict
    from ledger.tables import X12Document

    wanted = encounter_id(typed)
    kept = documents_for(engine, wanted)
    if not kept:
        return []
    plbs: dict[str, list[dict[str, Any]]] = {}
    for plb in provider_adjustments(engine):
        plbs.setdefault(plb.document_key, []).append(row_dict(plb))

    def shaped(document: X12Document, adjustments: list[dict[str, Any]], own: bool) -> dict:
        fields = row_dict(document)
        if not with_text:
            del fields["text"]
        return fields | {"carries_encounter": own, "provider_adjustments": adjustments}

    rows = [shaped(d, plbs.get(d.key, []), True) for d in kept]
    listed = {d.key for d in kept}
    elsewhere: dict[str, list[dict[str, Any]]] = {}
    for plb in adjustments_naming(engine, wanted):
        if plb.document_key not in listed:
            elsewhere.setdefault(plb.document_key, []).append(row_dict(plb))
    if elsewhere:
        from sqlmodel import Session, col, select

        with Session(engine) as session:
            query = select(X12Document).where(col(X12Document.key).in_(list(elsewhere)))
            found = {d.key: d for d in session.exec(query).all()}
        # record_era stores an 835 with its PLBs in one transaction: each one is found
        rows += [
            shaped(found[key], naming, False) for key, naming in elsewhere.items() if key in found
        ]
    return json_ready(rows)
