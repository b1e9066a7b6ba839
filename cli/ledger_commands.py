"""`cob tasks`, `cob timeline` and `cob documents`: what the ledger kept for the billing team
(the worklist, the audit trail of an encounter, the X12 documents sent and received). The
rows come from cli/views.py, the same for the text and for --json."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import typer

from cli.terminal import errors

JSON_HELP = "print one JSON list on stdout (the fields the API serves), nothing else"
ENCOUNTER_HELP = (
    "the encounter: its id (E1001), its workflow id (encounter-E1001), or a claim's or an "
    "appeal's workflow id (encounter-E1001/claim-1-ACME01)"
)


def tasks(
    encounter: str | None = typer.Option(
        None, help=f"only this encounter's tasks; {ENCOUNTER_HELP}"
    ),
    all_tasks: bool = typer.Option(False, "--all", help="closed tasks too"),
    json_output: bool = typer.Option(False, "--json", help=f"{JSON_HELP}; none is [] and exit 0"),
) -> None:
    """The billing team's worklist: what a deadline or a follow-up needs, by due date. No
    task found is one sentence saying which, exit 0."""
    from cli.views import encounter_id, json_text, task_rows
    from ledger.db import make_engine

    found = task_rows(make_engine(), encounter, include_closed=all_tasks)
    if json_output:
        print(json_text(found))
        return
    if not found:
        about = f" for encounter {encounter_id(encounter)}" if encounter else ""
        print(f"no {'' if all_tasks else 'open '}task{about} in the ledger")
        return
    for task in found:
        closed = f"  [closed: {task['resolution']}]" if task["status"] == "closed" else ""
        stake = f"{task['at_stake']} at stake" if task["at_stake"] is not None else ""
        print(f"due {task['due'] or '-':10}  {task['kind']:18} {task['encounter_id']:14} "
              f"{task['payer_id']:7} {stake:>19}  opened {task['opened_on']}  "
              f"{task['reason']}{closed}")  # fmt: skip
    print(f"{len(found)} task(s){'' if all_tasks else ' open'}")


def timeline(
    encounter: str = typer.Argument(..., help=ENCOUNTER_HELP),
    json_output: bool = typer.Option(
        False,
        "--json",
        help=f"{JSON_HELP} (each event's detail as recorded, patient data "
        "included); no event is [] and exit 0",
    ),
) -> None:
    """What the engine did for an encounter, step by step with its dates, from the audit
    trail (the encounter, its claims and their appeals). No event found is exit 1 (stderr)."""
    from cli.views import encounter_workflow, json_text, timeline_rows
    from ledger.db import make_engine

    events = timeline_rows(make_engine(), encounter)
    if json_output:
        print(json_text(events))
        return
    workflow_id = encounter_workflow(encounter)
    if not events:
        errors.print(f"no audit events in the ledger for {workflow_id}", style="red",
                     markup=False, highlight=False)  # fmt: skip
        raise typer.Exit(1)
    for event in events:
        where = event["workflow_id"].removeprefix(workflow_id).lstrip("/") or "encounter"
        print(
            f"{event['on']}  {where:22} {event['kind']:22} {step_summary(event['detail'], event['kind'])}"
        )


def step_summary(detail: dict, kind: str = "") -> str:
    """One line about an audit step: for the kinds a reader checks most, the figures that
    matter (payer, outcome, amounts; never a name or member id), with the activity's reason
    when it wrote one; for the rest, the reason, else the fields a reader looks for."""
    summary = STEP_SUMMARIES.get(kind)
    if summary is not None:
        try:
            return summary(detail)
        except (KeyError, TypeError, ValueError, ArithmeticError):  # a row of another shape
            pass
    if detail.get("reason"):
        return str(detail["reason"])
    keys = ("category", "status_code", "claim_control_number", "payer_claim_number", "paid",
            "due", "rule", "on_time", "patient_responsibility", "status")  # fmt: skip
    return ", ".join(f"{k}={detail[k]}" for k in keys if detail.get(k) not in (None, "", []))


def _money(value) -> Decimal:
    return Decimal(str(value))


def _payer_ids(keys: list[str]) -> str:
    """Coverage keys are payer:member; the timeline names the payer only."""
    return ", ".join(key.split(":", 1)[0] for key in keys) or "none"


def _encounter_started(detail: dict) -> str:
    encounter = detail["encounter"]
    lines = encounter["lines"]
    charge = sum((_money(line["charge"]) for line in lines), Decimal(0))
    payers = ", ".join(c["payer_id"] for c in encounter.get("coverages", [])) or "self-pay"
    return (
        f"service date {encounter['service_date']}, {len(lines)} line(s), charge {charge}; "
        f"coverages: {payers}"
    )


def _eligibility(detail: dict) -> str:
    if detail.get("reason"):  # the activity's own line (payer, active, plan, cost sharing)
        return str(detail["reason"])
    payer = detail["payer_id"]
    if not detail["active"]:
        return f"{payer}: not active"
    terms = [f"{detail['plan_type']} plan",
             f"deductible left {detail.get('deductible_remaining', '0.00')}"]  # fmt: skip
    if _money(detail.get("coinsurance", 0)):
        terms.append(f"coinsurance {_money(detail['coinsurance']) * 100:.0f}%")
    if _money(detail.get("copay", 0)):
        terms.append(f"copay {detail['copay']}")
    return f"{payer}: active, {', '.join(terms)}"


def _payer_order(detail: dict) -> str:
    if detail.get("reason"):
        return str(detail["reason"])
    rules = ", ".join(dict.fromkeys(d["rule"] for d in detail.get("decisions", [])))
    text = f"order {_payer_ids(detail['order'])}" + (f" by {rules}" if rules else "")
    if detail.get("excluded"):
        text += f"; not billed: {_payer_ids(list(detail['excluded']))}"
    return text + ("; NEEDS MANUAL REVIEW" if detail.get("needs_manual_review") else "")


def _prior_auth(detail: dict) -> str:
    number = f" {detail['authorization_number']}" if detail.get("authorization_number") else ""
    reason = f": {detail['reason']}" if detail.get("reason") else ""
    return f"{detail['payer_id']}: {detail['status']}{number}{reason}"


def _timely_filing(detail: dict) -> str:
    late = "on time" if detail.get("on_time") else "LATE"
    return (
        f"file by {detail['due']}: filed {detail.get('filed_on', '?')}, {late} ({detail['rule']})"
    )


def _acknowledged(detail: dict) -> str:
    ccn = detail["claim_control_number"]
    if detail.get("accepted"):
        return f"claim {ccn} accepted as {detail.get('payer_claim_number') or '-'}"
    code = f" {detail['status_code']}" if detail.get("status_code") else ""
    return f"claim {ccn} REJECTED{code}: {detail.get('reason') or 'no reason given'}"


def _remittance(detail: dict) -> str:
    lines = detail["lines"]
    paid = sum((_money(line["paid"]) for line in lines), Decimal(0))
    patient = sum((_money(adj["amount"]) for line in lines for adj in line["adjustments"]
                   if adj["group"] == "PR"), Decimal(0))  # fmt: skip
    codes = sorted({f"{adj['group']}-{adj['reason']}" for line in lines
                    for adj in line["adjustments"]})  # fmt: skip
    return (
        f"{detail['payer_id']} CLP02 {detail['status']} on claim {detail['claim_control_number']}"
        f": paid {paid}, patient {patient} over {len(lines)} line(s)"
        + (f" ({', '.join(codes)})" if codes else "")
    )


def _claim_status(detail: dict) -> str:
    paid = f", paid {detail['paid']}" if _money(detail.get("paid", 0)) else ""
    message = f": {detail['message']}" if detail.get("message") else ""
    return f"277 {detail['category']}:{detail['status_code']}{paid}{message}"


def _payment_review(detail: dict) -> str:
    """The reason (expected, paid, variance over the claim), then line by line."""
    lines = []
    for line in detail["lines"]:
        if line.get("expected") is None:
            lines.append(f"line {line['line_number']} denied, not reviewed")
            continue
        variance = _money(line["paid"]) - _money(line["expected"])
        lines.append(f"line {line['line_number']} expected {line['expected']} paid "
                     f"{line['paid']} variance {variance}")  # fmt: skip
    head = str(detail.get("reason") or detail.get("summary") or "")
    return "; ".join([head, *lines] if head else lines)


def _encounter_closed(detail: dict) -> str:
    statement = f"; statement {detail['statement']}" if detail.get("statement") else ""
    return f"patient owes {detail['patient_responsibility']}{statement}"


STEP_SUMMARIES: dict[str, Callable[[dict], str]] = {
    "encounter_started": _encounter_started,
    "eligibility": _eligibility,
    "payer_order": _payer_order,
    "prior_auth": _prior_auth,
    "timely_filing": _timely_filing,
    "claim_acknowledged": _acknowledged,
    "remittance": _remittance,
    "claim_status": _claim_status,
    "payment_review": _payment_review,
    "encounter_closed": _encounter_closed,
}


def documents(
    encounter: str = typer.Argument(..., help=ENCOUNTER_HELP),
    out: Path | None = typer.Option(None, help="write each document to a file in this folder"),
    json_output: bool = typer.Option(
        False,
        "--json",
        help=f"{JSON_HELP} (without the X12 text: --out writes it, and each "
        "row names its file); no document is [] and exit 0",
    ),
) -> None:
    """List the X12 documents the ledger kept for an encounter (sent and received, 835s
    included), or write them out to validate or hand to an auditor. No document found is
    exit 1 (stderr)."""
    from cli.views import document_rows, encounter_id, json_text
    from ledger.db import make_engine

    kept = document_rows(make_engine(), encounter, with_text=out is not None)
    if not kept and not json_output:
        errors.print(f"no X12 documents in the ledger for encounter {encounter_id(encounter)}",
                     style="red", markup=False, highlight=False)  # fmt: skip
        raise typer.Exit(1)
    own = [document for document in kept if document["carries_encounter"]]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for n, document in enumerate(own, start=1):
            path = out / f"{n:02d}-{document['transaction']}-{document['payer_id']}.x12"
            path.write_text(document.pop("text"))
            document["file"] = str(path)
        for document in kept:
            document.pop("text", None)
    if json_output:
        print(json_text(kept))
        return
    for n, document in enumerate(own, start=1):
        about = document["claim_control_number"] or document["era_cursor"] or ""
        where = f"  -> {document['file']}" if "file" in document else ""
        problem = f"  PROBLEM: {document['problem']}" if document["problem"] else ""
        recorded = datetime.fromisoformat(document["recorded_at"])
        print(f"{n:2d} {recorded:%Y-%m-%d %H:%M:%S} {document['direction']:8} "
              f"{document['transaction']:5} {document['payer_id']:7} {about}{where}{problem}")  # fmt: skip
        for plb in document["provider_adjustments"]:
            print(f"   PLB {plb['reason']} {plb['amount']} ref {plb['reference'] or '-'} "
                  "(provider-level account, `cob era adjustments`)")  # fmt: skip
    for document in kept[len(own) :]:  # an 835 that carries none of its claims
        for plb in document["provider_adjustments"]:
            print(f"   PLB {plb['reason']} {plb['amount']} names claim {plb['reference']} "
                  f"({plb['document_key']}, {plb['paid_on']})")  # fmt: skip
