"""`cob tasks`, `cob timeline` and `cob documents`: what the ledger kept for the billing team
(the worklist, the audit trail of an encounter, the X12 documents sent and received)."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.terminal import errors


def tasks(
    encounter: str | None = typer.Option(None, help="only this encounter's tasks"),
    all_tasks: bool = typer.Option(False, "--all", help="closed tasks too"),
) -> None:
    """The billing team's worklist: what a deadline or a follow-up needs, by due date."""
    from ledger.db import make_engine
    from ledger.worklist import tasks as worklist_tasks

    found = worklist_tasks(make_engine(), encounter_id=encounter, include_closed=all_tasks)
    for task in found:
        closed = f"  [closed: {task['resolution']}]" if task["status"] == "closed" else ""
        print(f"due {task['due'] or '-':10}  {task['kind']:18} {task['encounter_id']:14} "
              f"{task['payer_id']:7} opened {task['opened_on']}  {task['reason']}{closed}")  # fmt: skip
    print(f"{len(found)} task(s){'' if all_tasks else ' open'}")


def timeline(encounter: str = typer.Argument(..., help="encounter id or workflow id")) -> None:
    """What the engine did for an encounter, step by step with its dates, from the audit
    trail (the encounter, its claims and their appeals)."""
    from contract.ids import workflow_id_of
    from ledger.db import make_engine
    from ledger.queries import encounter_timeline

    workflow_id = workflow_id_of(encounter)
    events = encounter_timeline(make_engine(), workflow_id)
    if not events:
        errors.print(f"[red]no audit events in the ledger for {workflow_id}[/]")
        raise typer.Exit(1)
    for event in events:
        where = event["workflow_id"].removeprefix(workflow_id).lstrip("/") or "encounter"
        print(f"{event['on']}  {where:22} {event['kind']:22} {step_summary(event['detail'])}")


def step_summary(detail: dict) -> str:
    """One line about an audit step: its reason, else the fields a reader looks for."""
    if detail.get("reason"):
        return str(detail["reason"])
    keys = ("category", "status_code", "claim_control_number", "payer_claim_number", "paid",
            "due", "rule", "on_time", "patient_responsibility", "status")  # fmt: skip
    return ", ".join(f"{k}={detail[k]}" for k in keys if detail.get(k) not in (None, "", []))


def documents(
    encounter: str = typer.Argument(..., help="encounter id (as in `cob status`)"),
    out: Path | None = typer.Option(None, help="write each document to a file in this folder"),
) -> None:
    """List the X12 documents the ledger kept for an encounter (sent and received, 835s
    included), or write them out to validate or hand to an auditor."""
    from ledger.db import make_engine
    from ledger.documents import adjustments_naming, documents_for, provider_adjustments

    ledger = make_engine()
    kept = documents_for(ledger, encounter)
    adjustments: dict[str, list] = {}
    for plb in provider_adjustments(ledger):
        adjustments.setdefault(plb.document_key, []).append(plb)
    if not kept:
        errors.print(f"[red]no X12 documents in the ledger for encounter {encounter}[/]")
        raise typer.Exit(1)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    for n, document in enumerate(kept, start=1):
        about = document.claim_control_number or document.era_cursor or ""
        where = ""
        if out is not None:
            path = out / f"{n:02d}-{document.transaction}-{document.payer_id}.x12"
            path.write_text(document.text)
            where = f"  -> {path}"
        problem = f"  PROBLEM: {document.problem}" if document.problem else ""
        print(f"{n:2d} {document.recorded_at:%Y-%m-%d %H:%M:%S} {document.direction:8} "
              f"{document.transaction:5} {document.payer_id:7} {about}{where}{problem}")  # fmt: skip
        for plb in adjustments.pop(document.key, []):
            print(f"   PLB {plb.reason} {plb.amount} ref {plb.reference or '-'} "
                  "(provider-level account, `cob era adjustments`)")  # fmt: skip
    shown = {(plb.document_key, plb.seq) for plbs in adjustments.values() for plb in plbs}
    for plb in adjustments_naming(ledger, encounter):
        if (plb.document_key, plb.seq) in shown:  # in an 835 that carries none of its claims
            print(f"   PLB {plb.reason} {plb.amount} names claim {plb.reference} "
                  f"({plb.document_key}, {plb.paid_on})")  # fmt: skip
