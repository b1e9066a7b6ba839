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

app = typer.Typer(no_args_is_help=True, help="File an appeal, or record the reviewer's decision")


async def appeal_handle(client: Client, encounter: str) -> WorkflowHandle:
    """The appeal of the encounter's current claim, or a clear exit 1."""
    from cli.encounters import encounter_status_or_none
    from contract.ids import appeal_workflow_id, workflow_id_of

    workflow_id = workflow_id_of(encounter)
    status = await encounter_status_or_none(client, workflow_id)
    if status is None:
        errors.print(f"[red]no encounter workflow {workflow_id}[/]")
        raise typer.Exit(1)
    if status.current_claim is None or not status.stage.is_appeal:
        errors.print(f"[red]{workflow_id} has no appeal in progress (stage: {status.stage})[/]")
        raise typer.Exit(1)
    return client.get_workflow_handle(appeal_workflow_id(status.current_claim))


@app.command("file")
def file_appeal(
    encounter: str = typer.Argument(..., help="encounter id or workflow id"),
    level: int = typer.Option(..., min=1, help="the level filed: 1 = the first appeal"),
    note: str = typer.Option("", help="what was sent, e.g. 'CMS-20027 with records'"),
) -> None:
    """Record that the team filed the appeal at LEVEL (today, in the engine's clock)."""
    from cob.appeals import AppealFiling
    from workers.temporal import connect, current_user
    from workflows.appeal import AppealWorkflow

    async def send() -> None:
        handle = await appeal_handle(await connect(), encounter)
        try:
            answer = await handle.execute_update(
                AppealWorkflow.file_appeal, AppealFiling(level=level, note=note, by=current_user())
            )
        except WorkflowUpdateFailedError as error:
            errors.print(f"[red]not filed: {error.cause}[/]", highlight=False)
            raise typer.Exit(2) from None
        print(answer)

    run(send())


@app.command("decided")
def decided(
    encounter: str = typer.Argument(..., help="encounter id or workflow id"),
    level: int = typer.Option(..., min=1, help="the level decided"),
    outcome: str = typer.Option(..., help="overturned or upheld"),
    note: str = typer.Option("", help="the decision letter's reference"),
) -> None:
    """Record the reviewer's decision on a filed level."""
    from cob.appeals import AppealDecision
    from workers.temporal import connect, current_user
    from workflows.appeal import AppealWorkflow

    if outcome not in ("overturned", "upheld"):
        errors.print(f"[red]--outcome: {outcome!r} is not overturned or upheld[/]")
        raise typer.Exit(2)
    chosen: Literal["overturned", "upheld"] = "overturned" if outcome == "overturned" else "upheld"

    async def send() -> None:
        handle = await appeal_handle(await connect(), encounter)
        await handle.signal(
            AppealWorkflow.appeal_decided,
            AppealDecision(level=level, outcome=chosen, note=note, by=current_user()),
        )
        print(f"level {level} decision recorded: {chosen}")

    run(send())
