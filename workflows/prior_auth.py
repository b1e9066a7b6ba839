"""A claim's prior authorization: the 278 for the services the payer's 271 says need one, and
the wait on durable timers while the payer has it pended (HCR01 A4, ASC X12 005010X217).

For a payer under CMS-0057-F the decision is due 7 calendar days after a standard request (a
pended answer does not stop the clock): a task at 80% of the window, another when it is
breached. For the others a task after 7 days (cob/follow_up.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.encounter import EncounterActivities
    from cob.claims import prior_auth_procedures, prior_auth_refusal
    from cob.deadlines import (
        Deadline,
        DeadlineRules,
        prior_auth_decision_deadline,
        prior_auth_decision_due,
    )
    from cob.follow_up import prior_auth_alert_at, prior_auth_next_ask
    from cob.model import PriorAuthDecision, PriorAuthRequest
    from contract.messages import ClaimOutcome, ClaimRun, FollowUp
    from contract.stages import Stage
    from workflows.follow_up import record, today
    from workflows.payer_calls import PayerCalls
    from workflows.versions import changed

# Workflow version (workflow.patched): a pended 278 is asked again on timers.
PRIOR_AUTH_FOLLOW_UP = "prior-auth-follow-up"


async def authorize(
    run: ClaimRun,
    outcome: ClaimOutcome,
    calls: PayerCalls,
    set_stage: Callable[[Stage], None],
    set_deadline: Callable[[Deadline | None], None],
    deadline_rules: Callable[[], Awaitable[DeadlineRules]],
) -> str | None:
    """The authorization number for the claim (None when no service needs one). When the
    payer did not authorize it, `outcome.reason` says why and the claim is not sent."""
    codes = prior_auth_procedures(run.encounter, run.benefits)
    if not codes:
        return None
    set_stage(Stage.PRIOR_AUTH)
    request = PriorAuthRequest(
        encounter_id=run.encounter.encounter_id,
        coverage=run.coverage,
        patient=run.encounter.patient,
        service_date=run.encounter.service_date,
        procedure_codes=codes,
        provider_npi=run.encounter.billing_provider.npi,
        provider_name=run.encounter.billing_provider.name,
    )
    decision = await calls.ask(
        EncounterActivities.request_prior_auth,
        request,
        payer_id=run.coverage.payer_id,
        about="prior authorization (278)",
    )
    if decision.status == "pended" and changed(PRIOR_AUTH_FOLLOW_UP):
        decision = await await_prior_auth(
            request, await deadline_rules(), workflow.info().workflow_id, set_deadline, calls
        )
    refusal = prior_auth_refusal(decision)
    if refusal is not None:
        outcome.reason = refusal
    return decision.authorization_number


async def await_prior_auth(
    request: PriorAuthRequest,
    rules: DeadlineRules,
    workflow_id: str,
    on_deadline: Callable[[Deadline | None], None],
    calls: PayerCalls,
) -> PriorAuthDecision:
    """A pended 278, asked again every day until the payer decides; the alert and the
    breach of the decision window are tasks."""
    requested_at = workflow.now()
    due_at = prior_auth_decision_due(rules, requested_at, urgent=False)
    alert_at = prior_auth_alert_at(requested_at, due_at)
    if due_at:
        on_deadline(prior_auth_decision_deadline(due_at))

    def step(kind: str, reason: str, task: bool) -> FollowUp:
        return FollowUp(
            workflow_id=workflow_id,
            encounter_id=request.encounter_id,
            payer_id=request.coverage.payer_id,
            kind=kind,
            on=today(),
            reason=reason,
            due=due_at.date() if due_at else None,
            task=task,
        )

    codes = ", ".join(request.procedure_codes)
    await record(step("prior_auth_pended", f"278 pended for {codes}; asked again daily", False))
    alerted = breached = False
    asks = 0
    while True:
        next_ask = prior_auth_next_ask(requested_at, asks)
        wake = [next_ask]
        if not alerted:
            wake.append(alert_at)
        if due_at and not breached:
            wake.append(due_at)
        await workflow.sleep(max(min(wake) - workflow.now(), timedelta(seconds=1)))
        now = workflow.now()
        if not alerted and now >= alert_at:
            alerted = True
            limit = f"due {due_at:%Y-%m-%d %H:%M} UTC" if due_at else "no regulatory window"
            reason = (
                f"278 for {codes} still pended after {(now - requested_at).days} days ({limit})"
            )
            await record(step("prior_auth_escalation", reason, True))
        if due_at and not breached and now >= due_at:
            breached = True
            reason = f"the payer's CMS-0057-F decision window for {codes} passed at {due_at:%Y-%m-%d %H:%M} UTC"
            await record(step("prior_auth_overdue", reason, True))
        if now < next_ask:
            continue
        asks += 1
        decision = await calls.ask(
            EncounterActivities.request_prior_auth,
            request.model_copy(update={"follow_up": asks}),
            payer_id=request.coverage.payer_id,
            about=f"prior authorization (278) follow-up {asks}",
        )
        if decision.status != "pended":
            reason = f"278 {decision.status} for {codes} {decision.reason}".strip()
            closing = step("prior_auth_decided", reason, False)
            await record(closing.model_copy(update={"closes_tasks": True}))
            on_deadline(None)
            return decision
