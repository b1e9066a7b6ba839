"""The lines an auditor reads in a terminal, from an EncounterDecisions, by section: order,
claims, timers, human actions, outcome. Money to the cent, dates ISO; payer ids, claim numbers,
procedure codes, never a patient."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from audit.decision_models import (
    AppealDecisions,
    ClaimDecisions,
    EncounterDecisions,
    GuardedDeadline,
    OrderOfBenefits,
    Outcome,
    TimerDecision,
)
from cob.money import ZERO


def _money(amount: Decimal | None) -> str:
    return "-" if amount is None else f"{amount:.2f}"


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _short(workflow_id: str, encounter_workflow_id: str) -> str:
    """A claim's or an appeal's workflow id after its encounter's."""
    rest = workflow_id.removeprefix(encounter_workflow_id).lstrip("/")
    return rest or "encounter"


def render(decisions: EncounterDecisions) -> list[str]:
    """Plain lines for a terminal, by section: order, claims, timers, human actions, outcome.
    Money to the cent, dates ISO; payer ids, claim numbers, procedure codes, never a patient."""
    d = decisions
    types: dict[str, int] = {}
    for h in d.histories:
        types[h.workflow_type] = types.get(h.workflow_type, 0) + 1
    out = [
        f"Encounter {d.encounter_id} ({d.workflow_id}): {d.stage or 'not started'}"
        + (f", service date {d.service_date.isoformat()}" if d.service_date else ""),
        f"read from {len(d.histories)} histories ("
        + ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
        + ")",
        "",
    ]
    out += _render_order(d.order)
    out += ["", "2. Claims"]
    for claim in d.claims:
        out += _render_claim(claim, d.workflow_id)
    if not d.claims:
        out.append("  none billed")
    out += ["", "3. Timers"]
    for run in _runs(d.timers):
        out += _render_timers(run, d.workflow_id)
    if not d.timers:
        out.append("  none set")
    out += ["", "4. Human actions"]
    for action in d.human_actions:
        where = _short(action.workflow_id, d.workflow_id)
        out.append(
            f"  {_when(action.at)} {action.kind} {action.name} on {where}"
            f" by {action.by}{'' if action.by_from == 'input' else ' (client identity)'}: "
            f"{action.status}: {action.what}" + (f" -> {action.answer}" if action.answer else "")
        )
    if not d.human_actions:
        out.append("  none: no signal or update from outside any workflow")
    out += ["", *_render_outcome(d.outcome)]
    if d.notes:
        out += ["", "Notes"] + [f"  {note}" for note in d.notes]
    return out


def _render_order(order: OrderOfBenefits | None) -> list[str]:
    if order is None:
        return ["1. Order of benefits: not in the histories"]
    out = [f"1. Order of benefits: {' > '.join(order.payers) or 'no payer'}"]
    if order.first_order != order.payers:
        out.append(
            f"  first order {' > '.join(order.first_order)}"
            + (" (no rule decided it)" if order.needs_manual_review else "")
        )
    for rule in order.rules:
        out.append(f"  {rule.rule} ({rule.citation}): {rule.text}")
    for excluded in order.excluded:
        out.append(f"  excluded {excluded.payer_id}: {excluded.reason}")
    if order.choice:
        c = order.choice
        out.append(
            f"  person's order {' > '.join(c.payer_ids)} by {c.by} at {_when(c.at)} "
            f"({c.status}): {c.reason}"
        )
    for review in order.reviews:
        out.append(
            f"  COB review {review.on.isoformat()}: {review.reason}"
            + (f"; set aside {', '.join(review.set_aside)}" if review.set_aside else "")
        )
    return out


def _render_claim(claim: ClaimDecisions, encounter_workflow_id: str) -> list[str]:
    out = [
        f"  {_short(claim.workflow_id, encounter_workflow_id)}: {claim.payer_id} as payer "
        f"{claim.payer_sequence}, {claim.result}"
        + (f": {claim.reason}" if claim.reason else "")
        + ("" if claim.history_read else " (its history was not given)")
    ]
    for pa in claim.prior_authorizations:
        out.append(
            f"    278 {pa.on.isoformat()}: {pa.status}"
            + (f" {pa.authorization_number}" if pa.authorization_number else "")
            + (f" ({pa.reason})" if pa.reason else "")
        )
    for s in claim.submissions:
        answer = {True: "accepted", False: "rejected", None: "no answer"}[s.accepted]
        out.append(
            f"    sent {s.claim_control_number} freq {s.frequency} on {s.sent_on.isoformat()}"
            + (f" replacing {s.replaces}" if s.replaces else "")
            + f": {answer}"
            + (f" as {s.payer_claim_number}" if s.payer_claim_number else "")
            + (f" ({s.answer})" if s.answer and not s.accepted else "")
        )
    if not claim.submissions and claim.claim_control_numbers:
        out.append(f"    claim control numbers {', '.join(claim.claim_control_numbers)}")
    if claim.payer_claim_number:
        day = claim.adjudicated_on.isoformat() if claim.adjudicated_on else "-"
        out.append(
            f"    835 {claim.payer_claim_number} of {day}, CLP02 {claim.claim_status}: "
            f"paid {_money(claim.paid)}"
            + (
                f"; expected {_money(claim.expected)}, variance {_money(claim.variance)}"
                if claim.expected is not None
                else ""
            )
            + (" UNDERPAID" if claim.underpaid else "")
        )
    for ln in claim.lines:
        adjustments = ", ".join(f"{a.group}-{a.reason} {_money(a.amount)}" for a in ln.adjustments)
        out.append(
            f"      line {ln.line_number} {ln.procedure_code}: charge {_money(ln.charge)}, "
            f"allowed {_money(ln.allowed)}, paid {_money(ln.paid)}"
            + (f" [{adjustments}]" if adjustments else "")
            + (f" remarks {','.join(ln.remarks)}" if ln.remarks else "")
            + (
                f"; expected {_money(ln.expected)}, variance {_money(ln.variance)}"
                if ln.expected is not None
                else ""
            )
        )
    for denial in claim.denials:
        codes = f"CARC {denial.carc}" + (f" {','.join(denial.rarcs)}" if denial.rarcs else "")
        out.append(
            f"    denial {codes} -> {denial.route}"
            + (
                f" ({denial.claim_control_number}, {denial.on.isoformat()})"
                if denial.on and denial.claim_control_number
                else ""
            )
            + f": {denial.why}"
        )
    for fix in claim.corrections:
        out.append(
            f"    corrected {fix.claim_control_number} freq {fix.frequency} sent "
            f"{fix.sent_on.isoformat()}"
            + (f" replacing {fix.replaces}" if fix.replaces else "")
            + (f", answering {fix.answering}" if fix.answering else "")
            + (f"; {fix.changes} (by {fix.by})" if fix.changes else "")
        )
    if claim.appeal:
        out += _render_appeal(claim.appeal, encounter_workflow_id)
    return out


def _render_appeal(appeal: AppealDecisions, encounter_workflow_id: str) -> list[str]:
    where = _short(appeal.workflow_id, encounter_workflow_id) if appeal.workflow_id else "appeal"
    result = f"{appeal.result} at level {appeal.level}" if appeal.result else "open"
    out = [
        f"    {where} of {appeal.appealed or 'the denial'}: {result}"
        + (f": {appeal.reason}" if appeal.reason else "")
    ]
    if appeal.levels:
        out.append(f"      levels: {', '.join(appeal.levels)}")
    for step in appeal.steps:
        out.append(
            f"      {step.on.isoformat()} {step.kind}"
            + (f" (due {step.due.isoformat()})" if step.due else "")
        )
    return out


def _runs(timers: list[TimerDecision]) -> list[list[TimerDecision]]:
    """Timers in order, the alike that follow one another (a daily ERA poll: each fired, led
    to no step, guarded the same deadline) in one run, so a month of polls is one line."""
    runs: list[list[TimerDecision]] = []
    for timer in timers:
        last = runs[-1][-1] if runs else None
        alike = (
            last is not None
            and timer.outcome == last.outcome == "fired"
            and timer.led_to is None
            and last.led_to is None
            and (timer.workflow_id, timer.guarded) == (last.workflow_id, last.guarded)
        )
        if alike:
            runs[-1].append(timer)
        else:
            runs.append([timer])
    return runs


def _render_timers(run: list[TimerDecision], encounter_workflow_id: str) -> list[str]:
    if len(run) < 3:
        return [_render_timer(t, encounter_workflow_id) for t in run]
    first, last = run[0], run[-1]
    line = (
        f"  {_short(first.workflow_id, encounter_workflow_id)} timers {first.timer_id} to "
        f"{last.timer_id}: {len(run)} set {first.started_at.date().isoformat()} to "
        f"{last.started_at.date().isoformat()}, each fired (the last {last.fires_on.isoformat()})"
    )
    return [line + _guard(first.guarded)]


def _guard(g: GuardedDeadline | None) -> str:
    if g is None:
        return "; guarded no deadline"
    return f"; guarded {g.kind} due {g.due.isoformat()} (inferred from {g.inferred_from})"


def _render_timer(timer: TimerDecision, encounter_workflow_id: str) -> str:
    ended = {"fired": "fired", "cancelled": "cancelled", "open": "still set"}[timer.outcome]
    line = (
        f"  {_short(timer.workflow_id, encounter_workflow_id)} timer {timer.timer_id}: set "
        f"{timer.started_at.date().isoformat()} to fire {timer.fires_on.isoformat()}, {ended}"
        + (f" {timer.ended_at.date().isoformat()}" if timer.ended_at else "")
        + (f" after {timer.ended_by}" if timer.ended_by else "")
        + (f", led to {timer.led_to}" if timer.led_to else "")
    )
    return line + _guard(timer.guarded)


def _render_outcome(outcome: Outcome | None) -> list[str]:
    if outcome is None:
        return ["5. Outcome: no encounter history"]
    total = _money(outcome.patient_responsibility)
    out = [f"5. Outcome: {outcome.stage}; patient responsibility {total}"]
    for ln in outcome.lines:
        paid = sum(ln.paid_by_payer.values(), ZERO)
        payers = ", ".join(f"{p} {_money(a)}" for p, a in ln.paid_by_payer.items())
        out.append(
            f"  line {ln.line_number} {ln.procedure_code}: charge {_money(ln.charge)} = paid "
            f"{_money(paid)} ({payers or 'no payer'}) + adjustments {_money(ln.adjustments)} + "
            f"patient {_money(ln.patient_responsibility)}: "
            + ("holds" if ln.balances else f"DOES NOT HOLD (off by {_money(ln.difference)})")
        )
    if not outcome.lines:
        out.append("  no line posted (the encounter did not close)")
    elif not outcome.unbalanced:
        out.append("  every line balances to the cent")
    for problem in outcome.unbalanced:
        out.append(f"  UNBALANCED {problem}")
    for problem in outcome.disagreements:
        out.append(f"  DISAGREES {problem}")
    return out
