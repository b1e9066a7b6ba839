"""`cob audit verify`: the ledger proves itself.

1. The audit trail's hash chain is whole (ledger/audit_chain.py): no row changed, deleted or
   slipped in.
2. Every archived history matches its SHA-256, and that digest is the one the audit trail
   recorded when it was archived (so rewriting an archive and its digest is caught too).
3. Every money row traces back, per line and to the cent, to the X12 835 it came from and to
   the history event that carried it: the ledger's line (charge, allowed, paid, each CAS
   adjustment) must equal the 835's SVC/CAS and the remittance in the claim workflow's history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.api.common.v1 import Payloads
from temporalio.converter import DataConverter

from audit.sources import HistoryTampered, RecordedHistory, from_archive
from cob.model import Remittance, ServiceLine
from cob.money import UnplaceableAmount, adjudication_to_post
from ledger import tables as t
from ledger.archives import HistoryArchive, archive_problems
from ledger.audit_chain import verify_chain
from ledger.documents import remittance_documents
from payers.x12.remittance_835 import read_claims
from workers.codec import data_converter


@dataclass
class Verification:
    chain_events: int = 0
    chain_legacy: int = 0
    chain_head: str = ""
    archives: int = 0
    lines: int = 0  # money lines traced to an 835 and a history event
    untraced: list[str] = field(default_factory=list)  # lines of encounters not archived yet
    traces: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


Line = tuple[str, Decimal, Decimal, Decimal, tuple[tuple[str, str, Decimal], ...]]


def _line_key(procedure: str, charge: Any, allowed: Any, paid: Any, adjustments) -> Line:
    return (procedure, Decimal(str(charge)), Decimal(str(allowed)), Decimal(str(paid)),
            tuple(sorted((g, r, Decimal(str(a))) for g, r, a in adjustments)))  # fmt: skip


def _money(key: Line) -> str:
    procedure, charge, allowed, paid, adjustments = key
    cas = " ".join(f"{g}-{r} {a:.2f}" for g, r, a in adjustments) or "no CAS"
    return f"{procedure} charge {charge:.2f} allowed {allowed:.2f} paid {paid:.2f} {cas}"


def _remittance_lines(remittance: Remittance) -> dict[int, Line]:
    return {
        line.line_number: _line_key(
            line.procedure_code, line.charge, line.allowed, line.paid,
            [(a.group, a.reason, a.amount) for a in line.adjustments],
        )
        for line in remittance.lines
    }  # fmt: skip


def _ledger_lines(session: Session, ccn: str) -> dict[int, Line]:
    lines = session.exec(
        select(t.LineAdjudication).where(t.LineAdjudication.claim_control_number == ccn)
    ).all()
    adjustments = session.exec(
        select(t.LineAdjustment).where(t.LineAdjustment.claim_control_number == ccn)
    ).all()
    return {
        line.line_number: _line_key(
            line.procedure_code, line.charge, line.allowed, line.paid,
            [(a.group_code, a.reason_code, a.amount)
             for a in adjustments if a.line_number == line.line_number],
        )
        for line in lines
    }  # fmt: skip


def _payloads_of(event: Any) -> Iterator[Payloads]:
    for name in (
        "activity_task_scheduled_event_attributes.input",
        "activity_task_completed_event_attributes.result",
        "workflow_execution_completed_event_attributes.result",
        "child_workflow_execution_completed_event_attributes.result",
    ):
        attributes, member = name.split(".")
        if event.HasField(attributes):
            yield getattr(getattr(event, attributes), member)


def _remittances_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every value shaped like a cob.model.Remittance inside decoded JSON."""
    if isinstance(value, dict):
        if {"claim_control_number", "payer_claim_number", "lines", "status"} <= value.keys():
            yield value
        for inner in value.values():
            yield from _remittances_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _remittances_in(inner)


async def history_remittances(
    records: list[RecordedHistory], converter: DataConverter
) -> dict[tuple[str, str], list[tuple[str, int, Remittance]]]:
    """(claim control number, payer) -> every (workflow id, event id, remittance) of the
    histories' events that carry the claim's remittance, in history order."""
    found: dict[tuple[str, str], list[tuple[str, int, Remittance]]] = {}
    for record in records:
        for event in record.history().events:
            for payloads in _payloads_of(event):
                if not payloads.payloads:
                    continue
                for value in await converter.decode(list(payloads.payloads)):
                    for raw in _remittances_in(value):
                        remittance = Remittance.model_validate(raw)
                        key = (remittance.claim_control_number, remittance.payer_id)
                        found.setdefault(key, []).append(
                            (record.workflow_id, event.event_id, remittance)
                        )
    return found


def _carried_by(
    occurrences: list[tuple[str, int, Remittance]], payer_id: str
) -> tuple[str, int, Remittance]:
    """The event that posted the claim: the last in its own claim workflow (claim-N-PAYER,
    or its appeal), not a later payer's input that carries it as a prior payment."""
    own = [o for o in occurrences if f"-{payer_id}" in o[0].rsplit("/claim-", 1)[-1]]
    return (own or occurrences)[-1]


def _x12_lines(
    engine: Engine, claim: t.Claim, billed: dict[int, Line]
) -> tuple[str, dict[int, Line]] | str:
    """The claim's lines as the engine posted them (claim-level amounts placed on the billed
    lines, cob.money.adjudication_to_post) from the 835 that carries them: of every 835 that
    names the claim, newest first, the one whose lines are the ledger's, else the newest
    adjudication (to show the difference); or why there is none. A replaced claim's rows
    come from its first 835, while a later one reverses it (CLP02 22)."""
    located = remittance_documents(engine, claim.claim_control_number, claim.payer_id)
    if not located:
        return "no 835 in the ledger carries it"
    lines = [
        ServiceLine(line_number=n, procedure_code=key[0], charge=key[1])
        for n, key in sorted(billed.items())
    ]
    posted: list[tuple[str, dict[int, Line]]] = []
    why = ""
    for document, position in located:
        claims = read_claims(document.text)
        if not 1 <= position <= len(claims):
            why = f"835 {document.key} has no claim #{position}"
            continue
        remittance, at = claims[position - 1]
        try:
            remittance = adjudication_to_post(remittance, lines)
        except UnplaceableAmount as error:  # a reversal, a claim-level amount with no line
            why = f"835 {document.key} CLP at segment {at}: {error}"
            continue
        posted.append((f"835 {document.key} CLP at segment {at}", _remittance_lines(remittance)))
    for found in posted:
        if found[1] == billed:
            return found
    return posted[0] if posted else why


def _compare(where: str, ledger: dict[int, Line], other: dict[int, Line], source: str) -> list[str]:
    problems = []
    for number in sorted(ledger.keys() | other.keys()):
        mine, theirs = ledger.get(number), other.get(number)
        if mine != theirs:
            problems.append(
                f"{where} line {number}: ledger {_money(mine) if mine else 'has no such line'}"
                f" but {source} {_money(theirs) if theirs else 'has no such line'}"
            )
    return problems


async def reconcile(
    engine: Engine, encounter_id: str | None, result: Verification, converter: DataConverter
) -> None:
    with Session(engine) as session:
        query = select(t.Claim).where(col(t.Claim.claim_status).is_not(None))
        if encounter_id is not None:
            query = query.where(t.Claim.encounter_id == encounter_id)
        claims = session.exec(
            query.order_by(t.Claim.encounter_id, t.Claim.claim_control_number)
        ).all()
        archived_ids = set(session.exec(select(HistoryArchive.encounter_id).distinct()).all())
        by_encounter: dict[str, list[t.Claim]] = {}
        for claim in claims:
            by_encounter.setdefault(claim.encounter_id, []).append(claim)
        for encounter, its_claims in by_encounter.items():
            remittances, why_untraced = None, "encounter not archived yet (open?)"
            if encounter in archived_ids:
                try:
                    remittances = await history_remittances(
                        from_archive(engine, encounter), converter
                    )
                except HistoryTampered:  # named by the archive check: no history to trust
                    why_untraced = "its archived histories do not match their SHA-256"
            for claim in its_claims:
                ccn = claim.claim_control_number
                where = f"claim {ccn} ({claim.payer_id}, encounter {encounter})"
                ledger_lines = _ledger_lines(session, ccn)
                x12 = _x12_lines(engine, claim, ledger_lines)
                if isinstance(x12, str):
                    result.problems.append(f"{where}: {x12}")
                    continue
                document, x12_lines = x12
                problems = _compare(where, ledger_lines, x12_lines, document)
                if remittances is None:
                    result.untraced.append(f"{where}: {why_untraced}")
                else:
                    occurrences = remittances.get((ccn, claim.payer_id))
                    if not occurrences:
                        problems.append(f"{where}: no event of its archived history carries it")
                    else:
                        workflow_id, event_id, remittance = _carried_by(occurrences, claim.payer_id)
                        source = f"history {workflow_id} event {event_id}"
                        problems += _compare(
                            where, ledger_lines, _remittance_lines(remittance), source
                        )
                        if not problems:
                            result.traces.append(
                                f"{where}: {len(ledger_lines)} line(s) = {document} = {source}"
                            )
                            result.lines += len(ledger_lines)
                result.problems += problems


def _archive_digests(engine: Engine) -> tuple[dict[str, str], list[str]]:
    """workflow_id@run_id -> digest, as the audit trail recorded them when archiving."""
    recorded: dict[str, str] = {}
    with Session(engine) as session:
        events = session.exec(
            select(t.AuditEvent).where(t.AuditEvent.kind == "histories_archived")
        ).all()
        rows = session.exec(
            select(HistoryArchive.workflow_id, HistoryArchive.run_id, HistoryArchive.sha256)
        ).all()
    for event in events:
        recorded.update(json.loads(event.detail).get("histories", {}))
    problems = []
    for workflow_id, run_id, sha256 in rows:
        key = f"{workflow_id}@{run_id}"
        if key not in recorded:
            problems.append(f"archive of {key}: no audit event recorded its digest")
        elif recorded[key] != sha256:
            problems.append(
                f"archive of {key}: its digest {sha256[:12]}... is not the one the audit "
                f"trail recorded ({recorded[key][:12]}...)"
            )
    return recorded, problems


async def verify(
    engine: Engine, encounter_id: str | None = None, converter: DataConverter | None = None
) -> Verification:
    result = Verification()
    chain = verify_chain(engine)
    result.chain_events, result.chain_legacy = chain.checked, chain.legacy
    result.chain_head = chain.head_hash or ""
    result.problems += chain.problems
    result.archives, problems = archive_problems(engine, encounter_id)
    result.problems += problems
    result.problems += _archive_digests(engine)[1]
    await reconcile(engine, encounter_id, result, converter or data_converter())
    return result
