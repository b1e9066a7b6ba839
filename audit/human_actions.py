"""What people did on one history: every signal no workflow sent and every update, with who (the
input's `by`, else the client identity), when, what they asked for in one line, and the answer."""

from __future__ import annotations

from typing import Any

from audit.decision_models import HumanAction
from audit.history_reading import WORKFLOWS, Trail
from cob.appeals import AppealDecision, AppealFiling
from cob.denials import ClaimCorrection
from contract.messages import OrderChoice


def human_actions(trail: Trail) -> list[HumanAction]:
    if trail.workflow_type not in WORKFLOWS:
        return []
    actions = [
        HumanAction(
            workflow_id=trail.workflow_id,
            kind="signal",
            name=signal.name,
            **_who(signal.input, signal.identity),
            at=signal.at,
            what=_what(signal.name, signal.input),
            status="received",
            answer="",
        )
        for signal in trail.signals
        if signal.from_outside
    ]
    actions += [
        HumanAction(
            workflow_id=trail.workflow_id,
            kind="update",
            name=update.name,
            **_who(update.input, update.identity),
            at=update.at,
            what=_what(update.name, update.input),
            status=update.status,
            answer=update.answer,
        )
        for update in trail.updates
    ]
    return actions


def _who(value: Any, identity: str) -> dict[str, Any]:
    by = getattr(value, "by", None)
    if isinstance(by, str) and by.strip():
        return {"by": by.strip(), "by_from": "input"}
    return {"by": identity or "unknown", "by_from": "identity"}


def _what(name: str, value: Any) -> str:
    """One line: what the person asked for."""
    note = getattr(value, "note", "")
    noted = f"; note: {note}" if note else ""
    if isinstance(value, OrderChoice):
        return f"order {' > '.join(value.payer_ids)}: {value.reason}"
    if isinstance(value, ClaimCorrection):
        changes = []
        if value.rendering_provider_npi:
            changes.append(f"rendering provider NPI {value.rendering_provider_npi}")
        for line, modifiers in sorted(value.line_modifiers.items()):
            changes.append(f"line {line} modifiers {','.join(modifiers) or 'none'}")
        if value.diagnoses:  # diagnoses are the patient's health information: counted only
            changes.append(f"diagnoses replaced ({len(value.diagnoses)} codes)")
        return f"correction: {', '.join(changes) or 'no change'}{noted}"
    if isinstance(value, AppealFiling):
        return f"level {value.level} appeal filed{noted}"
    if isinstance(value, AppealDecision):
        return f"level {value.level} decided: {value.outcome}{noted}"
    return f"{name} (its input is not summarised here)"
