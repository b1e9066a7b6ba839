"""A deliberately non-deterministic change to the encounter workflow, for the audit tests: it
waits a minute before doing anything, a timer no recorded history has. `install()` puts it in
the workers' list, as a code change would, so `cob audit replay` replays against it."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract.messages import EncounterRun, EncounterStatus
    from workflows.encounter import EncounterWorkflow


@workflow.defn(name="EncounterWorkflow")
class EncounterWorkflowWithAPause(EncounterWorkflow):
    @workflow.run
    async def run(self, run: EncounterRun) -> EncounterStatus:
        await workflow.sleep(60)
        return await super().run(run)


def install() -> None:
    from workers import worker

    worker.WORKFLOWS[:] = [
        EncounterWorkflowWithAPause if w is EncounterWorkflow else w for w in worker.WORKFLOWS
    ]
