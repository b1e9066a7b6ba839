"""Each claim's decisions from its PayerClaimWorkflow history (or, without it, the encounter's
record of the child): its submissions and 277CA answers, prior authorizations, the 835 and the
payment review per line, the denial routes, the corrections sent and the appeal."""

from __future__ import annotations

import re
from datetime import date

from audit.decision_models import (
    AppealDecisions,
    AppealStep,
    ClaimDecisions,
    CorrectionSent,
    DenialRoute,
    HumanAction,
    LineDecision,
    PriorAuthorization,
    Submission,
)
from audit.history_reading import Trail
from cob.appeals import AppealOutcome, AppealRun
from cob.denials import ROUTE_ACTIONS, DenialDecision, Route
from cob.model import ClaimAcknowledgment, PriorAuthDecision, Remittance
from cob.money import ZERO
from contract.messages import ClaimOutcome, ClaimRun, SubmitClaim

# The activities that read a claim's 835 (history_reading decodes both).
_REMITTANCE_READS = {"pick_up_remittance", "fetch_remittance"}
# cob.denials.route_denial's explanation: "CARC <code>[ <rarc,...>] -> <route>"
_EXPLANATION = re.compile(r"^CARC (?P<carc>\S+)(?: (?P<rarcs>\S+))? -> (?P<route>\w+)")


def claims(
    encounter: Trail | None,
    trails: list[Trail],
    appeals: dict[str, Trail],
    actions: list[HumanAction],
    notes: list[str],
) -> list[ClaimDecisions]:
    by_id = {t.workflow_id: t for t in trails}
    known = dict(encounter.children) if encounter else {}
    order = [
        w
        for w in (encounter.child_order if encounter else [])
        if w in by_id or isinstance(known.get(w), ClaimOutcome)
    ]
    order += sorted(w for w in by_id if w not in order)
    decided = []
    for workflow_id in order:
        trail = by_id.get(workflow_id)
        outcome = trail.result if trail and isinstance(trail.result, ClaimOutcome) else None
        outcome = outcome or (
            known.get(workflow_id) if isinstance(known.get(workflow_id), ClaimOutcome) else None
        )
        if trail is None:
            notes.append(
                f"{workflow_id}: its history is not in the list; read from the "
                "encounter's record of it (no timers, no human actions)"
            )
        decided.append(_claim(workflow_id, trail, outcome, appeals.get(workflow_id), actions))
    return decided


def _claim(
    workflow_id: str,
    trail: Trail | None,
    outcome: ClaimOutcome | None,
    appeal: Trail | None,
    actions: list[HumanAction],
) -> ClaimDecisions:
    run = trail.input if trail and isinstance(trail.input, ClaimRun) else None
    submissions = _submissions(trail) if trail else []
    remittance = outcome.remittance if outcome else None
    if remittance is None and outcome is None and trail is not None:  # still open: the last 835
        read = [c.result for c in trail.calls if c.name in _REMITTANCE_READS]
        remittance = next((r for r in reversed(read) if isinstance(r, Remittance)), None)
    review = (
        {ln.line_number: ln for ln in outcome.payment_review.lines}
        if outcome and outcome.payment_review
        else {}
    )
    lines = [
        LineDecision(
            line_number=ln.line_number,
            procedure_code=ln.procedure_code,
            charge=ln.charge,
            allowed=ln.allowed,
            paid=ln.paid,
            adjustments=ln.adjustments,
            remarks=ln.remarks,
            expected=review[ln.line_number].expected if ln.line_number in review else None,
            variance=review[ln.line_number].variance
            if ln.line_number in review and review[ln.line_number].expected is not None
            else None,
        )
        for ln in (remittance.lines if remittance else [])
    ]
    reviewed = [ln for ln in lines if ln.expected is not None]
    corrections_by = [
        a for a in actions if a.workflow_id == workflow_id and a.name == "correct_claim"
    ]
    denials = _denials(trail, outcome)
    return ClaimDecisions(
        workflow_id=workflow_id,
        payer_id=(outcome.payer_id if outcome else None)
        or (run.coverage.payer_id if run else workflow_id.rsplit("-", 1)[-1]),
        payer_sequence=outcome.payer_sequence if outcome else run.payer_sequence if run else 0,
        result=str(outcome.result) if outcome else "open",
        reason=outcome.reason if outcome else "",
        claim_control_numbers=outcome.claim_control_numbers
        if outcome
        else [s.claim_control_number for s in submissions],
        frequency=submissions[-1].frequency if submissions else None,
        submissions=submissions,
        prior_authorizations=[
            PriorAuthorization(
                status=r.status,
                authorization_number=r.authorization_number,
                reason=r.reason,
                on=c.at.date(),
            )
            for c in (trail.calls if trail else [])
            if c.name == "request_prior_auth" and isinstance(r := c.result, PriorAuthDecision)
        ],
        payer_claim_number=remittance.payer_claim_number if remittance else None,
        adjudicated_on=remittance.adjudication_date if remittance else None,
        claim_status=remittance.status if remittance else None,
        paid=remittance.paid if remittance else None,
        lines=lines,
        expected=sum((ln.expected or ZERO for ln in reviewed), ZERO) if reviewed else None,
        variance=sum((ln.variance or ZERO for ln in reviewed), ZERO) if reviewed else None,
        underpaid=bool(outcome and outcome.payment_review and outcome.payment_review.underpaid),
        denials=denials,
        corrections=_corrections(submissions, outcome, corrections_by),
        appeal=_appeal(appeal, outcome),
        history_read=trail is not None,
    )


def _submissions(trail: Trail) -> list[Submission]:
    sent = []
    for call, claim in trail.inputs("submit_claim"):
        if not isinstance(claim, SubmitClaim):
            continue
        ack = call.result if isinstance(call.result, ClaimAcknowledgment) else None
        answer = ""
        if ack is not None:
            answer = ack.reason or f"277CA {ack.status_code}"
            if not ack.acknowledged:
                answer = f"no 277CA: {ack.reason}"
        sub = claim.submission
        sent.append(
            Submission(
                claim_control_number=sub.claim_control_number,
                frequency=sub.frequency,
                replaces=sub.original_payer_claim_number,
                sent_on=call.at.date(),
                accepted=ack.accepted if ack else None,
                payer_claim_number=ack.payer_claim_number if ack else None,
                answer=answer,
            )
        )
    return sent


def _route(explanation: str, why: str, ccn: str | None, on: date | None) -> DenialRoute:
    found = _EXPLANATION.match(explanation)
    return DenialRoute(
        claim_control_number=ccn,
        carc=found["carc"] if found else "",
        rarcs=found["rarcs"].split(",") if found and found["rarcs"] else [],
        route=found["route"] if found else "",
        why=why,
        on=on,
    )


def _denials(trail: Trail | None, outcome: ClaimOutcome | None) -> list[DenialRoute]:
    """Each denial and the route taken: the `denial_routed` follow-ups (the route and why, as
    recorded), the claim's last denial (ClaimOutcome.denial) and the denials a correction
    answered, for the versions that recorded no route."""
    routes = []
    for _, step in trail.follow_ups() if trail else []:
        if step.kind == "denial_routed":
            explanation, _, why = step.reason.partition(": ")
            routes.append(_route(explanation, why, step.claim_control_number, step.on))
    seen = {(r.carc, r.route) for r in routes}
    earlier = [] if outcome is None else outcome.corrected_denials
    for explanation in earlier:
        route = _route(explanation, ROUTE_ACTIONS[Route.FIX_RESUBMIT], None, None)
        if (route.carc, route.route) not in seen:
            routes.append(route)
            seen.add((route.carc, route.route))
    last: DenialDecision | None = outcome.denial if outcome else None
    if (
        last is not None
        and last.route != Route.POST
        and (last.reason_code, str(last.route)) not in seen
    ):
        ccns = outcome.claim_control_numbers if outcome else []
        routes.append(
            DenialRoute(
                claim_control_number=ccns[-1] if ccns else None,
                carc=last.reason_code,
                rarcs=list(last.remarks),
                route=str(last.route),
                why=ROUTE_ACTIONS.get(last.route, ""),
                on=outcome.remittance.adjudication_date if outcome and outcome.remittance else None,
            )
        )
    return routes


def _corrections(
    submissions: list[Submission], outcome: ClaimOutcome | None, updates: list[HumanAction]
) -> list[CorrectionSent]:
    """Every submission after the first that answered a denial; the n-th is paired with the
    n-th correct_claim update the claim accepted and the n-th denial corrected."""
    answered = outcome.corrected_denials if outcome else []
    accepted = [u for u in updates if u.status == "accepted"]
    originals = {s.claim_control_number for s in submissions[:1]}
    resent = [s for s in submissions if s.claim_control_number not in originals]
    unique = list({s.claim_control_number: s for s in resent}.values())  # a resend is no fix
    return [
        CorrectionSent(
            claim_control_number=s.claim_control_number,
            frequency=s.frequency,
            replaces=s.replaces,
            sent_on=s.sent_on,
            answering=answered[n] if n < len(answered) else "",
            changes=accepted[n].what if n < len(accepted) else "",
            by=accepted[n].by if n < len(accepted) else None,
        )
        for n, s in enumerate(unique)
    ]


def _appeal(trail: Trail | None, claim: ClaimOutcome | None) -> AppealDecisions | None:
    outcome = trail.result if trail and isinstance(trail.result, AppealOutcome) else None
    outcome = outcome or (claim.appeal if claim else None)
    if trail is None and outcome is None:
        return None
    run = trail.input if trail and isinstance(trail.input, AppealRun) else None
    steps = [
        AppealStep(on=step.on, kind=step.kind, due=step.due, reason=step.reason)
        for _, step in (trail.follow_ups() if trail else [])
    ]
    if not steps and outcome is not None:  # only the claim's copy: its dated lines
        for line in outcome.steps:
            day, _, rest = line.partition(" ")
            kind, _, reason = rest.partition(": ")
            try:
                steps.append(
                    AppealStep(on=date.fromisoformat(day), kind=kind, due=None, reason=reason)
                )
            except ValueError:
                continue
    appealed = (
        run.denial.explanation
        if run
        else (claim.denial.explanation if claim and claim.denial else "")
    )
    return AppealDecisions(
        workflow_id=trail.workflow_id if trail else None,
        appealed=appealed,
        levels=[level.name for level in run.rules.appeal_levels] if run else [],
        result=str(outcome.result) if outcome else None,
        level=outcome.level if outcome else None,
        reason=outcome.reason if outcome else "",
        steps=steps,
    )
