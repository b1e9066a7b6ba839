"""Replay the recorded histories (tests/histories/, from the end-to-end run) against today's
workflow code: a change that is not deterministic fails here, before it reaches a server with
encounters in flight."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from workers.codec import data_converter
from workers.worker import WORKFLOWS

ROOT = Path(__file__).resolve().parents[1] / "histories"
HISTORIES = sorted(ROOT.glob("**/*.json"))  # one folder per workflow version, the first at the top


def test_histories_are_recorded() -> None:
    names = {path.name for path in HISTORIES}
    assert len(HISTORIES) >= 8, "run `make histories` to record the end-to-end histories"
    assert any(".claim-" in name for name in names), "claim workflow histories are missing"


@pytest.mark.parametrize(
    "path", HISTORIES, ids=[str(p.relative_to(ROOT).with_suffix("")) for p in HISTORIES]
)
async def test_history_replays(path: Path) -> None:
    record = json.loads(path.read_text())
    history = WorkflowHistory.from_json(record["workflow_id"], record["history"])
    # the workers' converter: plaintext histories pass its codec unchanged, encrypted ones
    # decrypt with the tests' key (tests/conftest.py)
    # inside the SDK's sandbox (the workers run without it): a workflow that reads the clock,
    # draws a random number or does I/O on a recorded path fails here too
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter(),
        workflow_runner=SandboxedWorkflowRunner(),
    )
    await replayer.replay_workflow(history)
