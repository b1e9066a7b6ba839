"""`cob appeal`: the billing team's side of an appeal in progress (Medicare: 42 USC 1395ff and
42 CFR 405 subpart I; commercial: 42 USC 300gg-19 and 29 CFR 2560.503-1).

The appeal belongs to the encounter's current claim; its workflow is
`<claim workflow id>/appeal`. Filing goes through the AppealWorkflow's update, whose validator
refuses a wrong level or a closed window; a reviewer's decision goes in as a signal.
"""

from __future__ import annotations

from typing import Literal

import typer
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError

from cli.terminal import errors, run
from cob.appeals import AppealDecision, AppealFiling

app = typer.Typer(no_args_is_help=True, help="File an appeal, or record the reviewer's decision")


class AppealRefused(Exception):
    """No appeal waits for this, or the appeal's validator refused it; str() is the reason."""


async def appeal_handle(client: Client, encounter: str) -> WorkflowHandle:
    """The appeal of the encounter's current claim; AppealRefused when there is none."""
    from cli.encounters import encounter_status_or_none
    from contract.ids import appeal_workflow_id, encounter_workflow_of, workflow_id_of

    workflow_id = encounter_workflow_of(workflow_id_of(encounter))
    status = await encounter_status_or_none(client, workflow_id)
    if status is None:
        raise AppealRefused(f"no encounter workflow {workflow_id}")
    if status.current_claim is None or not status.stage.is_appeal:
        raise AppealRefused(f"{workflow_id} has no appeal in progress (stage: {status.stage})")
    return client.get_workflow_handle(appeal_workflow_id(status.current_claim))


async def send_filing(client: Client, encounter: str, filing: AppealFiling) -> str:
    """Record the team's filing on the appeal of the encounter's current claim (its update's
    validator refuses a wrong level or a closed window: AppealRefused); the appeal's answer."""
    from workflows.appeal import AppealWorkflow

    handle = await appeal_handle(client, encounter)
    try:
        return await handle.execute_update(AppealWorkflow.file_appeal, filing)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        raise AppealRefused(getattr(cause, "message", None) or str(cause or error)) from None


async def send_decision(client: Client, encounter: str, decision: AppealDecision) -> None:
    """Record the reviewer's decision on the appeal of the encounter's current claim."""
    from workflows.appeal import AppealWorkflow

    handle = await appeal_handle(client, encounter)
    await handle.signal(AppealWorkflow.appeal_decided, decision)


@app.command("file")
def file_appeal(
    encounter: str = typer.Argument(..., help="encounter id or workflow id"),
    level: int = typer.Option(..., min=1, help="the level filed: 1 = the first appeal"),
    note: str = typer.Option("", help="what was sent, e.g. 'CMS-20027 with records'"),
) -> None:
    """Record that the team filed the appeal at LEVEL (today, in the engine's clock)."""
    from workers.temporal import connect, current_user

    async def send() -> None:
        filing = AppealFiling(level=level, note=note, by=current_user())
        try:
            print(await send_filing(await connect(), encounter, filing))
        except AppealRefused as refused:
            errors.print(f"not filed: {refused}", style="red", markup=False, highlight=False)
            raise typer.Exit(1 if "in progress" in str(refused) else 2) from None

    run(send())


@app.command("decided")
def decided(
    encounter: str = typer.Argument(..., help="encounter id or workflow id"),
    level: int = typer.Option(..., min=1, help="the level decided"),
    outcome: str = typer.Option(..., help="overturned or upheld"),
    note: str = typer.Option("", help="the decision letter's reference"),
) -> None:
    """Record the reviewer's decision on a filed level."""
    from workers.temporal import connect, current_user

    if outcome not in ("overturned", "upheld"):
        errors.print(f"[red]--outcome: {outcome!r} is not overturned or upheld[/]")
        raise typer.Exit(2)
    chosen: Literal["overturned", "upheld"] = "overturned" if outcome == "overturned" else "upheld"

    async def send() -> None:
        decision = AppealDecision(level=level, outcome=chosen, note=note, by=current_user())
        try:
            await send_decision(await connect(), encounter, decision)
        except AppealRefused as refused:
            errors.print(str(refused), style="red", markup=False, highlight=False)
            raise typer.Exit(1) from None
        print(f"level {level} decision recorded: {chosen}")

    run(send())
