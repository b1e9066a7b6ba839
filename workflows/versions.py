"""Which code an execution runs: the version of each change to the workflows.

Until generation 2, every change was taken through workflow.patched(), which records, in each
new execution, a marker and an upsert of TemporalChangeVersion per change: some twenty events
an encounter, and a visibility write each. Since generation 2, a new execution's input says
its generation (contract.messages.GENERATION), and one started at generation 2 or later takes
every change listed up to then without a marker: its first event already says which code it
runs. Executions started before (no generation in their input: 1) still take each change by
its marker, so they and the stored histories replay as they ran.

A change made after generation 2 goes through workflow.patched() again, or through a new
generation: `changed(ID, generation=3)` with GENERATION moved to 3.
"""

from __future__ import annotations

from temporalio import workflow


def changed(change: str, generation: int = 2) -> bool:
    """True when this execution runs the code after `change`: always in an execution of
    `generation` or later (its workflow instance's `generation`, from its input); else
    workflow.patched(change), as before generations."""
    if getattr(workflow.instance(), "generation", 1) >= generation:
        return True
    return workflow.patched(change)
