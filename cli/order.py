"""`cob order`: a person's order of the payers for an encounter that no order-of-benefits rule
decides (held in the stage held_order_review, with an order_review task on the worklist).

`cob order set ENCOUNTER PAYER [PAYER...]` sends the encounter workflow's set_order update;
its validator (cob.order_review.order_choice_problem) refuses an order that does not list every
billable payer exactly once, names a payer the encounter does not have or one whose 271 said
inactive, or has no reason or no name. Who: --by, else the login name ($USER).
"""

from __future__ import annotations

import os

import typer
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from cli.terminal import errors, run

app = typer.Typer(no_args_is_help=True, help="Set the payers' order when no rule decides it")


class OrderRefused(Exception):
    """The encounter refused the order (the validator's reason), or there is no such
    encounter waiting."""


async def set_payer_order(
    client: Client, encounter: str, payer_ids: list[str], by: str, reason: str
) -> list[str]:
    """Send the order to the encounter's workflow; the order as recorded, first payer first."""
    from contract.ids import encounter_workflow_of, workflow_id_of
    from contract.messages import OrderChoice
    from workflows.encounter import EncounterWorkflow

    workflow_id = encounter_workflow_of(workflow_id_of(encounter))
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(
            EncounterWorkflow.set_order, OrderChoice(payer_ids=payer_ids, by=by, reason=reason)
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        why = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
        raise OrderRefused(why) from None
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        raise OrderRefused(f"no running encounter workflow {workflow_id}") from None


def default_user() -> str:
    return os.environ.get("USER") or os.environ.get("LOGNAME") or ""


@app.command("set")
def set_order(
    encounter: str = typer.Argument(..., help="encounter id or workflow id"),
    payers: list[str] = typer.Argument(..., help="payer ids, the first payer first"),
    by: str = typer.Option("", help="who sets the order (default: your login name, $USER)"),
    reason: str = typer.Option(..., help="why this order, for the audit trail"),
) -> None:
    """Set the order of the payers of an encounter held for an order review, and release it
    to bill them in that order."""
    from workers.temporal import connect

    who = by or default_user()

    async def send() -> list[str]:
        return await set_payer_order(await connect(), encounter, payers, who, reason)

    try:
        order = run(send())
    except OrderRefused as refused:
        errors.print(f"order not set: {refused}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    print(f"order set by {who}: {', '.join(order)} (first to last); billing goes on")
