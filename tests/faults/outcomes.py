"""What one encounter came to, in fields two runs can compare (stage, payer order, each
claim's result and authorization, each payer's money per line, the patient's total), what
the ledger and the payers hold for it (counts that would show anything done twice), and
the comparison of a run with faults against the run without.

Only money, stages, payer ids and codes: never a patient's name.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cob.payer_faults import FAULT_KINDS, UNKNOWN_FAULT
from contract.messages import EncounterStatus
from ledger import tables as t
from ledger.queries import unbalanced_lines

# Audit events that happen once per encounter, claim or coverage in any run: more of them
# under faults means a step was done twice.
ONCE_EVENTS = (
    "encounter_started",
    "eligibility",
    "payer_order",
    "claim_acknowledged",
    "remittance",
    "timely_filing",
    "payment_review",
    "encounter_closed",
)
# The worklist tasks a payer fault opens while the engine holds the work and asks again.
PAYER_FAULT_TASKS = frozenset({k.kind for k in FAULT_KINDS.values()} | {UNKNOWN_FAULT.kind})


def _masked(number: str | None) -> str:
    """An authorization number as compared and shown: a digest, so a listing names no case."""
    if not number:
        return "-"
    return "#" + hashlib.sha256(number.encode()).hexdigest()[:8]


def _money(amount: Decimal | None) -> str:
    return "-" if amount is None else f"{amount:.2f}"


def outcome_fields(status: EncounterStatus, auths: dict[str, str]) -> dict[str, str]:
    """The encounter's outcome as field -> value; `auths` the prior authorization number
    each claim went out with, by claim control number (from the ledger)."""
    fields = {
        "stage": status.stage,
        "payer order": " > ".join(status.payer_order) or "-",
        "not billed": ", ".join(sorted(k.split(":")[0] for k in status.excluded)) or "-",
        "claims": ", ".join(f"{c.payer_id}:{c.result}" for c in status.claims) or "-",
        "patient total": _money(status.patient_responsibility),
    }
    for n, claim in enumerate(status.claims, start=1):
        numbers = [auths.get(ccn) for ccn in claim.claim_control_numbers]
        fields[f"claim {n} {claim.payer_id} authorization"] = ", ".join(map(_masked, numbers))
        remittance = claim.remittance
        if remittance is None:
            continue
        fields[f"claim {n} {claim.payer_id} status"] = remittance.status
        for line in remittance.lines:
            at = f"claim {n} {claim.payer_id} line {line.line_number}"
            fields[f"{at} paid"] = _money(line.paid)
            fields[f"{at} CAS"] = (
                " ".join(f"{a.group}-{a.reason} {_money(a.amount)}" for a in line.adjustments)
                or "-"
            )
    for account in status.lines:
        at = f"line {account.line_number}"
        for payer_id, paid in sorted(account.paid_by_payer.items()):
            fields[f"{at} paid by {payer_id}"] = _money(paid)
        fields[f"{at} adjustments"] = _money(account.adjustments)
        fields[f"{at} patient responsibility"] = _money(account.patient_responsibility)
    return fields


@dataclass
class LedgerView:
    """What the ledger holds for one encounter."""

    in_ledger: bool
    auths: dict[str, str]
    counts: Counter[str]  # claims, 835 links, audit events of ONCE_EVENTS kinds
    open_tasks: list[str]  # kinds of the worklist tasks still open
    unbalanced: list[str]
    payer_fault_tasks: list[str]  # kinds of the tasks a payer fault opened, open or closed


def ledger_view(engine: Engine, encounter_id: str) -> LedgerView:
    workflow_id = f"encounter-{encounter_id}"
    with Session(engine) as session:
        encounter = session.get(t.Encounter, encounter_id)
        claims = session.exec(select(t.Claim).where(t.Claim.encounter_id == encounter_id)).all()
        ccns = [c.claim_control_number for c in claims]
        links = session.exec(
            select(t.RemittanceDocument).where(
                col(t.RemittanceDocument.claim_control_number).in_(ccns)
            )
        ).all()
        events = session.exec(
            select(t.AuditEvent.kind).where(
                (t.AuditEvent.workflow_id == workflow_id)
                | col(t.AuditEvent.workflow_id).startswith(workflow_id + "/")
            )
        ).all()
        tasks = session.exec(
            select(t.WorklistTask).where(t.WorklistTask.encounter_id == encounter_id)
        ).all()
    counts: Counter[str] = Counter({"ledger claims": len(claims), "ledger 835 links": len(links)})
    counts.update(f"audit {kind}" for kind in events if kind in ONCE_EVENTS)
    return LedgerView(
        in_ledger=encounter is not None,
        auths={c.claim_control_number: c.prior_authorization_number or "" for c in claims},
        counts=counts,
        open_tasks=sorted(task.kind for task in tasks if task.status == "open"),
        unbalanced=unbalanced_lines(engine, encounter_id) if encounter is not None else [],
        payer_fault_tasks=sorted(task.kind for task in tasks if task.kind in PAYER_FAULT_TASKS),
    )


def payer_counts(simulator_claims: list[dict]) -> dict[str, Counter[str]]:
    """Per encounter, what the payers did twice: a claim adjudicated more than once, or two
    claims of one encounter to one payer with the same frequency."""
    doubled: dict[str, Counter[str]] = {}
    per_claim = Counter(
        (c["encounter_id"], c["payer_id"], c["frequency"]) for c in simulator_claims
    )
    for (encounter_id, payer_id, frequency), n in per_claim.items():
        if n > 1:
            doubled.setdefault(encounter_id, Counter())[f"{payer_id} claims (freq {frequency})"] = n
    for claim in simulator_claims:
        if claim["adjudicated_count"] > 1:
            doubled.setdefault(claim["encounter_id"], Counter())[
                f"{claim['payer_id']} adjudications of one claim"
            ] = claim["adjudicated_count"]
    return doubled


@dataclass
class EncounterResult:
    """One encounter in one run."""

    encounter_id: str
    finished: str  # "completed", or the workflow's end (FAILED, TIMED_OUT, still RUNNING)
    fields: dict[str, str]  # empty when the workflow failed (no status to read)
    ledger: LedgerView
    failure: str = ""  # why the workflow did not complete


@dataclass(frozen=True)
class Difference:
    encounter_id: str
    field: str
    expected: str
    got: str


@dataclass
class Comparison:
    encounters: int = 0
    lost: list[Difference] = field(default_factory=list)
    doubled: list[Difference] = field(default_factory=list)
    unbalanced: list[Difference] = field(default_factory=list)
    different: list[Difference] = field(default_factory=list)
    # held at the end (a spent retry budget: stage held_<kind>) with a worklist task saying
    # why; a difference too unless the run without faults held it as well
    held_with_task: list[str] = field(default_factory=list)
    # held for a payer fault on the way, then resumed when the payer answered again
    held_and_resumed: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.doubled or self.unbalanced or self.different)

    def differing_encounters(self, kind: str) -> list[str]:
        return sorted({d.encounter_id for d in getattr(self, kind)})


def compare(
    expected: dict[str, EncounterResult],
    got: dict[str, EncounterResult],
    payers_doubled: dict[str, Counter[str]],
) -> Comparison:
    """The run with faults (`got`) against the run without (`expected`), encounter by
    encounter. A held encounter is allowed only where the run without faults held it too
    (and then a worklist task must say why)."""
    result = Comparison(encounters=len(expected))
    for encounter_id, want in sorted(expected.items()):
        have = got.get(encounter_id)
        if have is None or not have.fields or not have.ledger.in_ledger:
            end = "not started" if have is None else have.finished
            if have is not None and not have.ledger.in_ledger:
                end += ", not in the ledger"
            why = f"{end}: {have.failure}" if have is not None and have.failure else end
            result.lost.append(Difference(encounter_id, "workflow", want.finished, why))
            continue
        for name, n in sorted(have.ledger.counts.items()):
            if n > want.ledger.counts.get(name, 0):
                result.doubled.append(
                    Difference(encounter_id, name, str(want.ledger.counts.get(name, 0)), str(n))
                )
        for name, n in sorted(payers_doubled.get(encounter_id, Counter()).items()):
            result.doubled.append(Difference(encounter_id, name, "1", str(n)))
        for problem in have.ledger.unbalanced:
            result.unbalanced.append(Difference(encounter_id, "ledger", "balanced", problem))
        for name in sorted(set(want.fields) | set(have.fields), key=_field_order):
            expected_value, got_value = want.fields.get(name, "-"), have.fields.get(name, "-")
            if expected_value != got_value:
                result.different.append(Difference(encounter_id, name, expected_value, got_value))
        if have.fields["stage"].startswith("held"):
            if have.ledger.open_tasks:
                result.held_with_task.append(encounter_id)
            else:
                result.different.append(
                    Difference(encounter_id, "open tasks", "a task saying why", "none")
                )
        elif have.ledger.payer_fault_tasks:
            result.held_and_resumed.append(encounter_id)
    return result


def _field_order(name: str) -> tuple[int, str]:
    first = ("stage", "payer order", "not billed", "claims", "patient total")
    return (first.index(name), "") if name in first else (len(first), name)
