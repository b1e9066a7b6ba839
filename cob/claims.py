"""How one claim to one payer is built, sent again and judged: its claim control number,
which services need the payer's prior authorization, the frequency of a corrected claim, how
long a sent claim waits for its 277CA, how many times it is sent, and what its answer means.

Pure: the claim workflow (workflows/claim.py) asks these and orchestrates the calls.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from cob.deadlines import Deadline
from cob.denials import DenialDecision, Route, what_to_fix
from cob.model import (
    Benefits,
    ClaimAcknowledgment,
    ClaimSubmission,
    Encounter,
    PriorAuthDecision,
    Remittance,
)

# An original and two corrections; after that the denial stands for a person to work
# (engine policy; configurable).
MAX_SUBMISSIONS = 3

# No 277CA by five days after sending: send the same claim once more, then investigate
# (industry practice for the 277CA, ASC X12 005010X214; configurable).
ACKNOWLEDGMENT_WAIT_DAYS = 5

# What the payer's answer makes of a claim that was sent: an 835 that pays or adjusts it, an
# 835 that denies it (or a denial the team can fix), or a front-end rejection (277CA).
AnswerResult = Literal["adjudicated", "denied", "rejected"]


def claim_control_number(
    encounter_id: str, claim_number: int, payer_sequence: int, attempt: int
) -> str:
    """CLM01 of the encounter's claim and its `attempt`-th submission (1 = the original):
    '<encounter>-<n>-<attempt>', where n is the encounter's claim number, or the payer's
    position in the order of benefits when the claim has no number of its own (0). A
    correction is a new submission, so a payer never confuses it with the claim it replaces
    (ASC X12 005010X222A1 loop 2300 CLM01, at most 38 characters)."""
    return f"{encounter_id}-{claim_number or payer_sequence}-{attempt}"


def prior_auth_procedures(encounter: Encounter, benefits: Benefits) -> list[str]:
    """The encounter's procedure codes the payer's 271 says need prior authorization (a 278
    before the claim), one per line, in line order."""
    return [
        line.procedure_code
        for line in encounter.lines
        if line.procedure_code in benefits.prior_auth_procedures
    ]


def prior_auth_refusal(decision: PriorAuthDecision) -> str | None:
    """Why the claim is not sent, or None when the payer authorized it: a claim for a service
    that needs authorization is never sent without the authorization number it carries
    (ASC X12 005010X222A1 loop 2300 REF*G1; 005010X217 278 HCR02)."""
    if decision.status == "approved" and decision.authorization_number:
        return None
    return f"prior authorization {decision.status}: {decision.reason}".strip()


def acknowledgment_resend_date(sent_on: date) -> date:
    """The day a claim with no 277CA is sent once more (ACKNOWLEDGMENT_WAIT_DAYS)."""
    return sent_on + timedelta(days=ACKNOWLEDGMENT_WAIT_DAYS)


def front_end_rejection(ack: ClaimAcknowledgment) -> DenialDecision:
    """A 277CA rejection (STC01 A3, A6, A7, A8: ASC X12 005010X214): the claim never entered
    adjudication, so it is fixed and sent again, as an original."""
    return DenialDecision(
        route=Route.FIX_RESUBMIT, reason_code=ack.status_code, explanation=ack.reason
    )


def answer_result(remittance: Remittance | None, denial: DenialDecision) -> AnswerResult:
    """What the payer's answer makes of the claim: rejected without an 835 (277CA); denied
    when the 835 says so (CLP02 4, ASC X12 005010X221A1) or carries a denial the team can fix
    and resubmit; else adjudicated."""
    if remittance is None:
        return "rejected"
    if denial.route == Route.FIX_RESUBMIT or remittance.status == "4":
        return "denied"
    return "adjudicated"


def denial_needs_team(denial: DenialDecision) -> bool:
    """A denial whose route is a worklist task: another payer may be primary (COB review),
    which only a person can confirm (271 other coverage, the order of benefits)."""
    return denial.route == Route.COB_REVIEW


def corrected_submission(
    submission: ClaimSubmission,
    encounter: Encounter,
    claim_control_number: str,
    adjudicated: Remittance | None,
) -> ClaimSubmission:
    """The corrected claim sent after `submission` was denied or rejected. After the payer
    adjudicated it (an 835 came), the correction replaces that claim: frequency 7 with the
    payer's claim number in REF*F8; a claim rejected before acceptance (277CA) never reached
    adjudication and is fixed and sent again as an original, frequency 1 (ASC X12
    005010X222A1 loop 2300 CLM05-3, NUBC claim frequency codes, and REF*F8)."""
    replaces = adjudicated.payer_claim_number if adjudicated else None
    return submission.model_copy(
        update={
            "claim_control_number": claim_control_number,
            "encounter": encounter,
            "frequency": "7" if replaces else "1",
            "original_payer_claim_number": replaces,
        }
    )


def amount_at_stake(encounter: Encounter, denied: Remittance | None) -> Decimal:
    """What a denied claim leaves unpaid: the charge less what the payer paid on its 835, or
    the whole charge of a claim rejected before adjudication (no 835)."""
    if denied is None:
        return sum((line.charge for line in encounter.lines), Decimal("0.00"))
    return sum((line.charge - line.paid for line in denied.lines), Decimal("0.00"))


def correction_needed(
    denial: DenialDecision, ccn: str, at_stake: Decimal, deadline: Deadline
) -> str:
    """The worklist task opened the day a correctable denial comes: what to fix, the amount
    at stake and the last day to file the corrected claim."""
    return (
        f"claim {ccn} denied, {at_stake} at stake: {what_to_fix(denial)}; send the correction "
        f"(update correct_claim) by {deadline.due.isoformat()} ({deadline.rule}, "
        f"{deadline.citation})"
    )


def correction_escalation(
    denial: DenialDecision, ccn: str, at_stake: Decimal, deadline: Deadline, day: date
) -> str:
    """The task opened when a correction is still missing close to its deadline."""
    left = (deadline.due - day).days
    return (
        f"claim {ccn} still not corrected, {at_stake} at stake: {left} days left to "
        f"{deadline.due.isoformat()}; {what_to_fix(denial)}"
    )


def correction_lost(denial: DenialDecision, ccn: str, at_stake: Decimal, deadline: Deadline) -> str:
    """Why a denied claim no correction answered is lost: past its timely filing deadline a
    corrected claim would be denied CO-29 (the time limit for filing has expired)."""
    return (
        f"claim {ccn} lost, {at_stake} unpaid: no correction for {denial.explanation} by the "
        f"deadline {deadline.due.isoformat()} ({deadline.rule}, {deadline.citation}); a "
        "corrected claim now would be denied CO-29: appeal only with proof of timely filing, "
        "else write it off (a CO denial is never the patient's)"
    )


def corrections_exhausted(denial: DenialDecision, ccn: str, at_stake: Decimal) -> str:
    """The task when the payer still denies after MAX_SUBMISSIONS submissions."""
    return (
        f"claim {ccn} still denied after {MAX_SUBMISSIONS} submissions, {at_stake} at stake: "
        f"{what_to_fix(denial)}; call the payer, then appeal or write off"
    )
