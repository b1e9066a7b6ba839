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
    from cob.payer_faults import (
        RETRY_AFTER_FAULT,
        RETRY_AFTER_REFUSAL,
        FaultKind,
        fault_kind,
        fault_task_due,
    )
    from workflows.messages import FollowUp
    from workflows.policies import LOOKUP, PAYER_CALL

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
    """A workflow's payer calls; `stage`/`set_stage` are the workflow's own stage."""

    def __init__(
        self,
        *,
        workflow_id: str,
        encounter_id: str,
        payer_id: str,
        stage: Callable[[], str],
        set_stage: Callable[[str], None],
    ) -> None:
        self.workflow_id = workflow_id
        self.encounter_id = encounter_id
        self.payer_id = payer_id
        self._stage = stage
        self._set_stage = set_stage

    async def ask(
        self, activity: Callable[..., Any], arg: Any, *, about: str, ccn: str | None = None
    ) -> Any:
        """The activity's result; an ActivityError only for the payer's own 'no'."""
        if not workflow.patched(PAYER_FAULTS):  # workflows started before: as they ran
            return await workflow.execute_activity_method(activity, arg, **PAYER_CALL)
        held: Fault | None = None
        resume = ""
        while True:
            try:
                result = await workflow.execute_activity_method(activity, arg, **PAYER_CALL)
            except ActivityError as error:
                fault = payer_fault(error)
                if fault is None:
                    raise
                if held is None:
                    held, resume = fault, self._stage()
                    await self._hold(fault, about, ccn)
                wait = RETRY_AFTER_FAULT if fault.kind.transient else RETRY_AFTER_REFUSAL
                await workflow.sleep(wait)
                continue
            if held is not None:
                await self._resume(held, about, ccn)
                self._set_stage(resume)
            return result

    async def _hold(self, fault: Fault, about: str, ccn: str | None) -> None:
        detail = f" ({fault.detail})" if fault.detail and fault.detail != fault.message else ""
        reason = f"{about}: {fault.message}{detail}; {fault.kind.action}"
        today = workflow.now().date()
        await self._record(fault.kind.kind, reason, ccn, task=True, due=fault_task_due(today))
        self._set_stage(f"held_{fault.kind.kind}")

    async def _resume(self, fault: Fault, about: str, ccn: str | None) -> None:
        reason = f"{about}: the payer answered again; work goes on"
        await self._record(f"{fault.kind.kind}_cleared", reason, ccn, closes=fault.kind.kind)

    async def _record(
        self,
        kind: str,
        reason: str,
        ccn: str | None,
        *,
        task: bool = False,
        due: Any = None,
        closes: str | None = None,
    ) -> None:
        step = FollowUp(
            workflow_id=self.workflow_id,
            encounter_id=self.encounter_id,
            payer_id=self.payer_id,
            claim_control_number=ccn,
            kind=kind,
            on=workflow.now().date(),
            reason=reason,
            due=due,
            task=task,
            closes_kind=closes,
        )
        await workflow.execute_activity_method(ClaimActivities.follow_up, step, **LOOKUP)
