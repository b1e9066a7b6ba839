"""`cob correct`: a bad correction file is refused naming the field, before Temporal is reached;
on the time-skipping server, a claim denied CO-16 N290 (examples/07) refuses a correction
without the NPI with the validator's reason, takes one with it, and is paid as a replacement."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from cli.correct import CorrectionRefused, load_correction, send_correction
from cli.encounters import start_encounter
from cob.denials import ClaimCorrection
from cob.validation import InvalidInput
from contract.ids import claim_workflow_id
from tests.cli.test_cli import cob
from tests.workflow_harness import example, running_worker
from workflows.claim import PayerClaimWorkflow

ROOT = Path(__file__).resolve().parents[2]

BAD = {
    "unknown field": ({"npi": "1427051234"}, "npi: is not a known field"),
    "npi not text": ({"rendering_provider_npi": 1427051234}, "rendering_provider_npi:"),
    "modifiers not a list": ({"line_modifiers": {"1": "25"}}, "line_modifiers.1:"),
    "line number not a number": ({"line_modifiers": {"one": ["25"]}}, "line_modifiers.one"),
    "diagnosis not ICD-10-CM": ({"diagnoses": ["J18.9", "Q99.999"]}, "diagnoses[1]:"),
    "not an object": (["rendering_provider_npi"], "(root): expected a JSON object"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_correct_refuses_a_bad_file_naming_the_field_with_exit_1(case: str, tmp_path: Path):
    data, field = BAD[case]
    path = tmp_path / "correction.json"
    path.write_text(json.dumps(data))
    result = cob("correct", "E1007", "--file", str(path))  # TEMPORAL_ADDRESS is never reached
    assert result.returncode == 1, result.stdout + result.stderr
    assert field in result.stderr and "Traceback" not in result.stderr


def test_correct_refuses_a_file_that_is_not_json_or_missing(tmp_path: Path):
    path = tmp_path / "correction.json"
    path.write_text('{"note": "a", "note": "b"}')
    twice = cob("correct", "E1007", "--file", str(path))
    assert twice.returncode == 1 and "given twice" in twice.stderr
    missing = cob("correct", "E1007", "--file", str(tmp_path / "nope.json"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_the_example_correction_reads_and_diagnoses_come_in_x12_form(tmp_path: Path):
    example_file = ROOT / "examples" / "07-denied-then-corrected.correction.json"
    assert load_correction(example_file).rendering_provider_npi == "1427051234"
    path = tmp_path / "correction.json"
    path.write_text('{"diagnoses": [" j18.9 ", "R06.02"]}')
    assert load_correction(path).diagnoses == ["J189", "R0602"]
    path.write_text('{"diagnoses": ["E11"]}')
    with pytest.raises(InvalidInput, match="diagnoses\\[0\\]: 'E11' is a category"):
        load_correction(path)


async def test_correct_n290_without_the_npi_is_refused_then_with_it_is_paid_as_frequency_7(
    client, simulator, tmp_path
):
    address = client.service_client.config.target_host
    fix = tmp_path / "fix.json"
    fix.write_text(json.dumps({"diagnoses": ["J18.9"], "note": "wrong fix"}))
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    encounter = example("07-denied-then-corrected", encounter_id="E1007-cli")

    def cob_here(*args: str):  # a subprocess on the test's server, off the event loop
        return asyncio.to_thread(
            cob, *args, env={"TEMPORAL_ADDRESS": address, "COB_USER": "dana.lee"}
        )

    async with running_worker(client, simulator.url, ledger, tmp_path) as settings:
        handle = await start_encounter(client, encounter, task_queue=settings.task_queue)
        claim = client.get_workflow_handle(claim_workflow_id(handle.id, 1, "BLUE02"))
        while True:
            try:
                if (await claim.query(PayerClaimWorkflow.status)).stage == "awaiting_correction":
                    break
            except Exception:  # the claim workflow is starting
                pass
            await asyncio.sleep(0.1)

        refused = await cob_here("correct", "E1007-cli", "--file", str(fix))
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert refused.stderr.strip() == (
            f"correction not accepted by claim {claim.id}: remark N290 requires "
            "rendering_provider_npi in the correction"
        )
        example_file = ROOT / "examples" / "07-denied-then-corrected.correction.json"
        accepted = await cob_here("correct", "E1007-cli", "--file", str(example_file))
        assert accepted.returncode == 0, accepted.stdout + accepted.stderr
        assert accepted.stdout.strip() == "correction accepted; resubmitting to BLUE02"
        status = await handle.result()

        with pytest.raises(CorrectionRefused, match=r"has no claim waiting for a correction"):
            await send_correction(client, "E1007-cli", ClaimCorrection(note="late"))
        with pytest.raises(CorrectionRefused, match="no encounter workflow encounter-NOPE"):
            await send_correction(client, "NOPE", ClaimCorrection(note="x"))
    outcome = status.claims[0]
    assert outcome.result == "adjudicated" and outcome.remittance.paid > 0
    assert outcome.claim_control_numbers == ["E1007-cli-1-1", "E1007-cli-1-2"]
    # the claim's history says who sent the correction, as its input and as its client
    (accepted_update,) = [
        e.workflow_execution_update_accepted_event_attributes
        for e in (await claim.fetch_history()).events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    request = accepted_update.accepted_request
    (sent,) = await client.data_converter.decode(
        list(request.input.args.payloads), [ClaimCorrection]
    )
    assert sent.by == "dana.lee" and request.meta.identity.startswith("dana.lee@")
