"""A sent claim with no 277CA (ASC X12 005010X214): the same claim is sent once more on the
day cob.claims gives, then the team is asked to look."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from cob.claims import acknowledgment_resend_date
    from cob.model import ClaimAcknowledgment, ClaimSubmission
    from workflows.follow_up import sleep_until

# A follow-up step of the claim: (submission, kind, reason, task).
Step = Callable[..., Awaitable[None]]


async def resend_once(
    submission: ClaimSubmission,
    ack: ClaimAcknowledgment,
    submit: Callable[[ClaimSubmission], Awaitable[ClaimAcknowledgment]],
    step: Step,
) -> ClaimAcknowledgment:
    """Wait, send the same claim once more (the same claim control number, so a payer that
    did get it answers as before), then escalate to the team: the answer, or one still not
    acknowledged whose reason says what to check."""
    sent_on = workflow.now().date()
    resend_on = acknowledgment_resend_date(sent_on)
    await step(submission, "no_277ca", f"{ack.reason}; resend on {resend_on}")
    await sleep_until(resend_on)
    ack = await submit(submission)
    if ack.acknowledged:
        return ack
    reason = (
        f"no 277CA for claim {submission.claim_control_number} sent {sent_on} and resent "
        f"{resend_on}: check the clearinghouse and the payer's front end, then resubmit"
    )
    await step(submission, "no_acknowledgment", reason, task=True)
    return ack.model_copy(update={"reason": reason})
