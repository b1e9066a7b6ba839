"""`cob correct`: the billing team's fix for a denied or rejected claim, sent to the encounter's
claim that waits for one (stage awaiting_correction) through PayerClaimWorkflow's update
correct_claim. The update's validator decides whether the fix answers the denial (e.g. RARC
N290 needs a rendering provider NPI); this command reads the file, sends it and prints."""

from __future__ import annotations

from pathlib import Path

import typer
from temporalio.client import Client

from cli.terminal import console, errors, run
from cob.denials import ClaimCorrection
from cob.validation import InvalidInput


class CorrectionRefused(Exception):
    """Nothing was sent, or the claim refused it; str() is the one line the user sees."""


def load_correction(path: Path) -> ClaimCorrection:
    """The correction file as a ClaimCorrection, its diagnoses in X12 form; InvalidInput names
    the field at fault."""
    from cli.encounters import read_json
    from cob.validation import parse_input

    return checked_correction(parse_input(ClaimCorrection, read_json(path)))


def checked_correction(correction: ClaimCorrection) -> ClaimCorrection:
    """Its diagnoses checked against ICD-10-CM and put in X12 form (no dot); InvalidInput
    names the one at fault."""
    from cob.codes import icd10_problem, normalize_icd10

    for i, code in enumerate(correction.diagnoses or []):
        if problem := icd10_problem(code):
            raise InvalidInput(f"diagnoses[{i}]", problem)
    if correction.diagnoses:
        correction.diagnoses = [normalize_icd10(code) for code in correction.diagnoses]
    return correction


async def send_correction(client: Client, encounter: str, correction: ClaimCorrection) -> str:
    """Send `correction` to the encounter's claim waiting for one; the update's answer.
    CorrectionRefused when there is no such claim or the claim's validator refuses it."""
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.service import RPCError, RPCStatusCode

    from cli.encounters import encounter_status_or_none
    from contract.ids import encounter_workflow_of, workflow_id_of
    from contract.stages import Stage
    from workflows.claim import PayerClaimWorkflow

    workflow_id = encounter_workflow_of(workflow_id_of(encounter))
    status = await encounter_status_or_none(client, workflow_id)
    if status is None:
        raise CorrectionRefused(f"no encounter workflow {workflow_id}")
    if status.current_claim is None:
        raise CorrectionRefused(
            f"{workflow_id} has no claim waiting for a correction (stage: {status.stage})"
        )
    claim = client.get_workflow_handle(status.current_claim)
    try:
        stage = (await claim.query(PayerClaimWorkflow.status)).stage
        if stage != Stage.AWAITING_CORRECTION:
            raise CorrectionRefused(
                f"claim {claim.id} is not waiting for a correction (stage: {stage})"
            )
        return await claim.execute_update(PayerClaimWorkflow.correct_claim, correction)
    except WorkflowUpdateFailedError as error:  # the validator's reason, without the traceback
        reason = getattr(error.cause, "message", None) or str(error.cause or error)
        raise CorrectionRefused(f"correction not accepted by claim {claim.id}: {reason}") from None
    except RPCError as error:  # the claim closed or is not started yet
        if error.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise
        reason = f"claim {claim.id} cannot take a correction: {error.message}"
        raise CorrectionRefused(reason) from None


def correct(
    encounter: str = typer.Argument(..., help="encounter id or workflow id"),
    file: Path = typer.Option(..., "--file", help="the correction, a JSON object (see above)"),
) -> None:
    """Send the billing team's correction to the encounter's claim waiting for one (a denial
    the team can fix, such as CARC 16 with RARC N290); the claim then resubmits as a
    replacement (frequency 7), or as a new claim if the payer never accepted it.

    The file is a JSON object with at least one of the first three fields:

    rendering_provider_npi: the rendering provider's NPI, 10 digits (RARC N290)

    line_modifiers: modifiers by line number, e.g. {"1": ["25"]}

    diagnoses: ICD-10-CM codes replacing the claim's, e.g. ["J18.9", "I10"]

    note: what was fixed, for the audit trail

    Exit 1: the file is no correction, no claim waits for one, or the claim refuses it."""
    from rich.markup import escape

    from workers.temporal import connect, current_user

    try:
        correction = load_correction(file).model_copy(update={"by": current_user()})
    except InvalidInput as error:  # the value may hold '[': never read as markup
        errors.print(
            f"[red]invalid correction[/] {escape(str(file))}: {escape(str(error))}",
            highlight=False,
        )
        raise typer.Exit(1) from None

    async def send() -> str:
        return await send_correction(await connect(), encounter, correction)

    try:
        answer = run(send())
    except CorrectionRefused as refused:
        errors.print(str(refused), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    console.print(str(answer), markup=False, highlight=False)
