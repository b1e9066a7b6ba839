"""What was decided for one encounter, read from its Temporal histories alone (not the ledger):
the order of benefits, each claim, the timers, what people did, and where the money went.

`read_decisions(histories, converter)` takes every history of one encounter in any order (its
EncounterWorkflow, the PayerClaimWorkflows `<encounter>/claim-N-PAYER`, their AppealWorkflows
`<claim>/appeal`; told apart by the workflow type in WorkflowExecutionStarted) and answers an
EncounterDecisions; `render(decisions)` makes the lines an auditor reads in a terminal.

Where each answer comes from:
- activity inputs from ActivityTaskScheduled.input, results from ActivityTaskCompleted.result
  (matched to its scheduled event), typed by the activity's own signature (activities/); a
  workflow's input and result (WorkflowExecutionStarted, WorkflowExecutionCompleted) typed by
  its run method; a claim's ClaimOutcome from the encounter's ChildWorkflowExecutionCompleted
  when the claim's own history is not in the list. Activities this module does not read, or
  does not know (another version's), are skipped; a payload that no longer fits its type is
  left out with a note. A payload that cannot be decrypted raises workers.codec's
  PayloadKeyError: a wrong key is not an empty audit.
- timers: every TimerStarted, with its TimerFired or TimerCanceled. It was set to fire at the
  workflow's clock when the timer was started (the time of the WorkflowTaskStarted event of
  the task that started it: workflow.now()) plus its start_to_fire_timeout. The deadline it
  guarded is inferred, the first of these that applies:
    1. the follow-up the timer led to (the first `follow_up` activity scheduled after it
       fired, before another timer started), when that FollowUp has a `due`: e.g. a
       correction_escalation, due on the corrected-claim deadline;
    2. the deadline the workflow was working against when the timer started: the latest
       ClaimProgress it had sent its parent (or an appeal had sent it), when not null;
    3. the `due` of the latest follow-up recorded before the timer started.
  When none applies the timer guarded no deadline (a payer call's retry, an ERA poll).
- human actions: every WorkflowExecutionSignaled that no workflow sent (its
  external_workflow_execution is empty, and it is not the claim_progress workflows send one
  another: a test server records no sender) and every update (WorkflowExecutionUpdateAccepted,
  then Completed with its answer or failure). Who: the input's `by` when it has one, else the
  event's identity (the sending client's, `pid@host` unless the client was given one). An
  update its validator rejects leaves no event (Temporal does not persist rejections), so no
  history shows it; an UpdateRejected event, were one there, is read as rejected.

PHI stays out: nothing here keeps a patient's or subscriber's name, a birth date, a member id
(Coverage.key is `payer:member`; only the payer is kept) or a diagnosis code. What people typed
(an order's reason, a filing's note) is kept as they typed it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from audit.claim_decisions import claims
from audit.decision_models import (
    ClaimDecisions,
    CobReviewMade,
    EncounterDecisions,
    Exclusion,
    HistoryRead,
    HumanAction,
    LineOutcome,
    OrderChoiceMade,
    OrderOfBenefits,
    OrderRule,
    Outcome,
)
from audit.decisions_render import render
from audit.history_reading import APPEAL, CLAIM, ENCOUNTER, WORKFLOWS, Reader, Trail
from audit.human_actions import human_actions
from audit.timer_decisions import timers
from cob.model import OrderDecision, PayerOrder
from cob.money import ZERO, LineAccount
from cob.order_review import MANUAL_RULE, WHY_NO_RULE_DECIDES
from contract.ids import claim_workflow_of, encounter_id_of, encounter_workflow_of
from contract.messages import (
    CobReview,
    EncounterClosed,
    EncounterRun,
    EncounterStatus,
    OrderChoice,
    OrderChosen,
    OrderRecord,
)

__all__ = ["EncounterDecisions", "read_decisions", "render"]


async def read_decisions(
    histories: list[WorkflowHistory], converter: DataConverter
) -> EncounterDecisions:
    """What was decided for one encounter, from its histories (any order); see the module's
    docstring for where each answer comes from. ValueError when the histories are of more
    than one encounter, or none."""
    if not histories:
        raise ValueError("no histories to read")
    encounters = sorted({encounter_workflow_of(h.workflow_id) for h in histories})
    if len(encounters) > 1:
        raise ValueError(f"the histories are of more than one encounter: {', '.join(encounters)}")
    reader = Reader(converter)
    trails = [await reader.trail(h) for h in histories]
    notes = reader.notes
    for trail in trails:
        if trail.workflow_type not in WORKFLOWS:
            kind = trail.workflow_type or "history without a start"
            notes.append(f"{trail.workflow_id}: a {kind}, not read")
    encounter = _latest([t for t in trails if t.workflow_type == ENCOUNTER], notes)
    claim_trails = [t for t in trails if t.workflow_type == CLAIM]
    appeals = {_appealed_claim(t): t for t in trails if t.workflow_type == APPEAL}
    workflow_id = encounters[0]
    run = encounter.input if encounter and isinstance(encounter.input, EncounterRun) else None
    status = (
        encounter.result if encounter and isinstance(encounter.result, EncounterStatus) else None
    )
    actions = [a for t in trails for a in human_actions(t)]
    claim_decisions = claims(encounter, claim_trails, appeals, actions, notes)
    return EncounterDecisions(
        encounter_id=(status.encounter_id if status else None)
        or (run.encounter.encounter_id if run else encounter_id_of(workflow_id)),
        workflow_id=workflow_id,
        service_date=run.encounter.service_date if run else None,
        stage=str(status.stage) if status else (encounter.status if encounter else None),
        histories=[
            HistoryRead(
                workflow_id=t.workflow_id,
                workflow_type=t.workflow_type or "?",
                status=t.status,
                events=t.events,
            )
            for t in sorted(trails, key=lambda t: t.workflow_id)
        ],
        order=_order(encounter, status, actions) if encounter else None,
        claims=claim_decisions,
        timers=sorted(
            (timer for t in trails if t.workflow_type in WORKFLOWS for timer in timers(t)),
            key=lambda timer: (timer.started_at, timer.workflow_id, timer.timer_id),
        ),
        human_actions=sorted(actions, key=lambda a: a.at),
        outcome=_outcome(encounter, status, claim_decisions) if encounter else None,
        notes=notes,
    )


def _latest(encounters: list[Trail], notes: list[str]) -> Trail | None:
    if len(encounters) > 1:
        notes.append(f"{len(encounters)} runs of the encounter workflow: the latest is read")
    return max(
        encounters, key=lambda t: t.started_at or datetime.min.replace(tzinfo=UTC), default=None
    )


def _appealed_claim(appeal: Trail) -> str:
    if appeal.parent_id:
        return appeal.parent_id
    try:
        return claim_workflow_of(appeal.workflow_id)
    except ValueError:
        return appeal.workflow_id


def _payer(key: str) -> str:
    return key.split(":", 1)[0]  # Coverage.key is payer id:member id; only the payer is kept


def _rule(decision: OrderDecision) -> OrderRule:
    higher, lower = _payer(decision.higher), _payer(decision.lower)
    recorded = decision.rule
    if recorded.startswith(f"{MANUAL_RULE} "):  # "manual_order by <who>: <why>"
        name, text = (
            MANUAL_RULE,
            f"{higher} pays before {lower}, set {recorded[len(MANUAL_RULE) + 1 :]}",
        )
    elif re.fullmatch(r"[a-z0-9_]+", recorded):
        why = WHY_NO_RULE_DECIDES.get(recorded)
        name, text = recorded, f"{higher} pays before {lower}" + (f": {why}" if why else "")
    else:  # cob.coverages.reorder_after_cob_denial records its reason as the rule
        name = "cob_review" if recorded.startswith("COB review") else "recorded"
        text = recorded
    return OrderRule(higher=higher, lower=lower, rule=name, citation=decision.citation, text=text)


def _order(
    encounter: Trail, status: EncounterStatus | None, actions: list[HumanAction]
) -> OrderOfBenefits | None:
    first = next(
        (v for _, v in encounter.inputs("record_order") if isinstance(v, OrderRecord)), None
    )
    if first is None and status is None:
        return None
    order: PayerOrder | None = first.order if first else None
    choice: OrderChoiceMade | None = None
    for call, chosen in encounter.inputs("record_order_choice"):
        if isinstance(chosen, OrderChosen):
            order = chosen.order.order
            asked = next(
                (
                    a
                    for a in actions
                    if a.name == "set_order" and a.workflow_id == encounter.workflow_id
                ),
                None,
            )
            choice = OrderChoiceMade(
                payer_ids=chosen.choice.payer_ids,
                by=chosen.choice.by,
                reason=chosen.choice.reason,
                at=asked.at if asked else call.at,
                status=asked.status if asked else "accepted",
            )
    if choice is None:  # asked, but never recorded: still show what the person asked
        for update in encounter.updates:
            if update.name == "set_order" and isinstance(update.input, OrderChoice):
                choice = OrderChoiceMade(
                    payer_ids=update.input.payer_ids,
                    by=update.input.by,
                    reason=update.input.reason,
                    at=update.at,
                    status=update.status,
                )
    reviews = []
    for call, review in encounter.inputs("review_order"):
        if isinstance(review, CobReview):
            order = review.order.order
            reviews.append(
                CobReviewMade(reason=review.reason, set_aside=review.set_aside, on=call.at.date())
            )
    decisions = status.order_rules if status else (order.decisions if order else [])
    excluded = status.excluded if status else (order.excluded if order else {})
    payers = (
        status.payer_order if status else [c.payer_id for c in order.coverages] if order else []
    )
    return OrderOfBenefits(
        payers=payers,
        first_order=[c.payer_id for c in first.order.coverages] if first else payers,
        needs_manual_review=first.order.needs_manual_review if first else False,
        rules=[_rule(d) for d in decisions],
        excluded=[Exclusion(payer_id=_payer(k), reason=r) for k, r in excluded.items()],
        choice=choice,
        reviews=reviews,
    )


def _outcome(
    encounter: Trail, status: EncounterStatus | None, claims: list[ClaimDecisions]
) -> Outcome | None:
    closed = next(
        (
            c.result
            for c in reversed(encounter.calls)
            if c.name == "close_encounter" and isinstance(c.result, EncounterClosed)
        ),
        None,
    )
    accounts: list[LineAccount] = (
        status.lines if status and status.lines else closed.lines if closed else []
    )
    total = status.patient_responsibility if status else None
    if total is None and closed is not None:
        total = closed.patient_responsibility
    stage = str(status.stage) if status else encounter.status
    lines = []
    for account in accounts:
        difference = account.charge - (
            account.paid + account.adjustments + account.patient_responsibility
        )
        lines.append(
            LineOutcome(
                line_number=account.line_number,
                procedure_code=account.procedure_code,
                charge=account.charge,
                paid_by_payer=dict(account.paid_by_payer),
                adjustments=account.adjustments,
                patient_responsibility=account.patient_responsibility,
                difference=difference,
                balances=difference == ZERO,
            )
        )
    unbalanced = [
        f"line {ln.line_number} {ln.procedure_code}: charge {ln.charge:.2f} != paid "
        f"{sum(ln.paid_by_payer.values(), ZERO):.2f} + adjustments {ln.adjustments:.2f} + "
        f"patient {ln.patient_responsibility:.2f} (off by {ln.difference:.2f})"
        for ln in lines
        if not ln.balances
    ]
    if (
        total is not None
        and lines
        and sum((ln.patient_responsibility for ln in lines), ZERO) != total
    ):
        unbalanced.append(f"patient responsibility {total:.2f} is not the lines' sum")
    return Outcome(
        stage=stage,
        patient_responsibility=total,
        lines=lines,
        unbalanced=unbalanced,
        disagreements=_disagreements(lines, claims),
        statement_written=bool(
            status.statement_path if status else closed and closed.statement_path
        ),
    )


def _disagreements(lines: list[LineOutcome], claims: list[ClaimDecisions]) -> list[str]:
    """A payer's paid per line as the encounter posted it against the claims' 835s."""
    paid: dict[tuple[str, int], Decimal] = {}
    for claim in claims:
        for ln in claim.lines:
            key = (claim.payer_id, ln.line_number)
            paid[key] = paid.get(key, ZERO) + ln.paid
    return [
        f"line {ln.line_number} {payer}: posted {amount:.2f}, its 835 paid {on_835:.2f}"
        for ln in lines
        for payer, amount in ln.paid_by_payer.items()
        if (on_835 := paid.get((payer, ln.line_number))) is not None and on_835 != amount
    ]
