"""Calls to a payer from a workflow, where a fault never becomes a decision.

A business answer comes back (or raises PayerRejected, for the caller to decide on). Any
other failure, once Temporal's retry policy has spent its budget (or at once, for a request
the payer refused or the engine cannot write), holds the workflow in a `held_<kind>` stage,
opens one worklist task saying what is wrong (cob/payer_faults.py), and asks again on a
timer until the payer answers; the answer closes the task and the work goes on where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.claims import ClaimActivities
    from cob.payer_faults import FaultKind, fault_kind, fault_task_due, retry_after
    from contract.messages import FollowUp
    from contract.stages import Stage
    from workflows.policies import LOOKUP, PAYER_CALL
    from workflows.versions import changed

# Version (workflow.patched): faults hold with a task instead of failing or deciding.
PAYER_FAULTS = "payer-faults"


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    message: str  # names the call and the segment, never a value
    detail: str  # the payer's text or the unreadable segment, for the worklist


def payer_fault(error: ActivityError) -> Fault | None:
    """What went wrong with a payer call, or None when the payer answered no (PayerRejected),
    which is the caller's decision to make."""
    cause: BaseException | None = error.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__  # a spent budget: a TimeoutError caused by the last failure
    if isinstance(cause, ApplicationError) and cause.type == "PayerRejected":
        return None
    if isinstance(cause, ApplicationError):
        detail = str(cause.details[0]) if cause.details else ""
        return Fault(fault_kind(cause.type), cause.message, detail)
    reason = error.cause or error
    return Fault(fault_kind(None), str(reason), "")


class PayerCalls:
    """A workflow's payer calls; `stage`/`set_stage` are the workflow's own stage. Several
    calls may be held at once (an encounter's 270s go out together): the stage shows the
    latest fault until the last of them is answered."""

    def __init__(
        self,
        *,
        workflow_id: str,
        encounter_id: str,
        stage: Callable[[], Stage],
        set_stage: Callable[[Stage], None],
    ) -> None:
        self.workflow_id = workflow_id
        self.encounter_id = encounter_id
        self._stage = stage
        self._set_stage = set_stage
        self._held = 0
        self._resume = Stage.NEW

    async def ask(
        self,
        activity: Callable[..., Any],
        arg: Any,
        *,
        payer_id: str,
        about: str,
        ccn: str | None = None,
    ) -> Any:
        """The activity's result; an ActivityError only for the payer's own 'no'."""
        if not changed(PAYER_FAULTS):  # workflows started before: as they ran
            return await workflow.execute_activity_method(activity, arg, **PAYER_CALL)
        held: Fault | None = None
        while True:
            try:
                result = await workflow.execute_activity_method(activity, arg, **PAYER_CALL)
            except ActivityError as error:
                fault = payer_fault(error)
                if fault is None:
                    raise
                if held is None:
                    held = fault
                    await self._hold(fault, payer_id, about, ccn)
                await workflow.sleep(retry_after(fault.kind))
                continue
            if held is not None:
                await self._answered(held, payer_id, about, ccn)
            return result

    async def _hold(self, fault: Fault, payer_id: str, about: str, ccn: str | None) -> None:
        detail = f" [{fault.detail}]" if fault.detail and fault.detail != fault.message else ""
        reason = f"{about}: {fault.message}{detail}; {fault.kind.action}"
        today = workflow.now().date()
        step = self._step(fault.kind.kind, payer_id, reason, ccn)
        await self._record(step.model_copy(update={"task": True, "due": fault_task_due(today)}))
        if self._held == 0:
            self._resume = self._stage()
        self._held += 1
        self._set_stage(Stage.held_on(fault.kind.kind))

    async def _answered(self, fault: Fault, payer_id: str, about: str, ccn: str | None) -> None:
        reason = f"{about}: the payer answered again; work goes on"
        step = self._step(f"{fault.kind.kind}_cleared", payer_id, reason, ccn)
        await self._record(step.model_copy(update={"closes_kind": fault.kind.kind}))
        self._held -= 1
        if self._held == 0:
            self._set_stage(self._resume)

    def _step(self, kind: str, payer_id: str, reason: str, ccn: str | None) -> FollowUp:
        return FollowUp(
            workflow_id=self.workflow_id,
            encounter_id=self.encounter_id,
            payer_id=payer_id,
            claim_control_number=ccn,
            kind=kind,
            on=workflow.now().date(),
            reason=reason,
            per_payer=True,
        )

    async def _record(self, step: FollowUp) -> None:
        await workflow.execute_activity_method(ClaimActivities.follow_up, step, **LOOKUP)
