"""A payer's 835 for a claim settled before (`cob era post`), when the encounter's patient
balance is on the guarantor's account: the account is sent a repost (PatientAccountWorkflow's
`repost` update) with the encounter's lines recomputed from the 835s the ledger keeps and the
new adjudication in place of the old (cob.late_remittance). A patient who paid beyond the new
share gets the excess as credit and a refund; a larger share is a new balance.

What cannot go to the account (an earlier payer's change, a reversal with no new claim after
it, figures that do not fold to the cent, no account) stays the team's era_after_settlement
task, its reason saying why. The repost's id is the 835's key and the CLP's position, so
posting the file again sends the account nothing new.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities.remittances import EraPosting, UnmatchedClaim
from cob.late_remittance import NotReposted, readjudicated, reposted_lines
from cob.model import Remittance, ServiceLine
from cob.money import (
    LineAccount,
    UnbalancedLine,
    UnplaceableAmount,
    adjudication_to_post,
    check_remittance_line,
)
from contract.accounts import AccountStatus, Repost, RepostLine, account_workflow_id
from ledger import documents, worklist
from ledger import tables as t
from payers.x12.remittance_835 import read_claims

REPOST_UPDATE = "repost"  # PatientAccountWorkflow's update (workflows/patient_account.py), by name
REPOST_WAIT = timedelta(seconds=30)  # the account's worker answers at once when it runs
SETTLED_KIND = "era_after_settlement"


@dataclass(frozen=True)
class LateRepost:
    """What the account is sent for one claim of the 835, and the CLPs it answers (a reversal
    and the new adjudication after it, or the new one alone): their tasks close once sent."""

    account_id: str
    repost: Repost
    claim_control_number: str
    positions: tuple[int, ...]


@dataclass(frozen=True)
class RepostAnswer:
    late: LateRepost
    status: AccountStatus | None = None  # the account's answer; None when not sent
    problem: str = ""  # why it was not sent or was refused


@dataclass(frozen=True)
class _Encounter:
    account_id: str | None
    service_date: date
    payer_order: list[str]
    billed: list[LineAccount]  # each line's number, code and charge, as closed
    claims: list[t.Claim]  # the claims its patient balance rests on, in payer order


def late_reposts(
    ledger: Engine, posting: EraPosting, by: str
) -> tuple[list[LateRepost], EraPosting]:
    """A repost for each claim of the 835 settled before whose new adjudication the account
    can take, and the posting with each other such claim's reason saying why it stays the
    team's. Reads the ledger only."""
    settled: dict[str, list[UnmatchedClaim]] = {}
    for claim in posting.unmatched:
        if claim.kind == SETTLED_KIND:
            settled.setdefault(claim.claim_control_number, []).append(claim)
    reposts: list[LateRepost] = []
    kept: dict[str, str] = {}
    for ccn, clps in settled.items():
        positions = tuple(sorted(clp.position for clp in clps))
        remittance = posting.claims[positions[-1] - 1][0]  # the later CLP wins (a reversal first)
        try:
            account_id, repost = _repost(
                ledger, posting.document.key, positions[-1], remittance, by
            )
        except NotReposted as why:
            kept[ccn] = str(why)
            continue
        reposts.append(LateRepost(account_id, repost, ccn, positions))
    unmatched = [
        replace(claim, reason=f"{claim.reason}; not sent to the patient's account: "
                f"{kept[claim.claim_control_number]}")
        if claim.kind == SETTLED_KIND and claim.claim_control_number in kept else claim
        for claim in posting.unmatched
    ]  # fmt: skip
    return reposts, replace(posting, unmatched=unmatched)


def _repost(
    ledger: Engine, key: str, position: int, remittance: Remittance, by: str
) -> tuple[str, Repost]:
    ccn = remittance.claim_control_number
    claim = documents.claim_on_file(ledger, ccn)
    assert claim is not None  # matched as settled
    encounter = _encounter(ledger, claim.encounter_id)
    if encounter is None or encounter.account_id is None:
        raise NotReposted(f"encounter {claim.encounter_id} was not billed to a patient account")
    lines = [
        ServiceLine(line_number=ln.line_number, procedure_code=ln.procedure_code, charge=ln.charge)
        for ln in encounter.billed
    ]
    in_force = [_posted(ledger, row, lines) for row in encounter.claims]
    late = _as_posted(remittance, claim, lines)
    billed_payers = {row.payer_id for row in encounter.claims}
    order = encounter.payer_order
    after = order[order.index(claim.payer_id) + 1 :] if claim.payer_id in order else []
    remittances = readjudicated(in_force, late, [p for p in after if p not in billed_payers])
    try:
        recomputed = reposted_lines(
            claim.encounter_id, encounter.service_date, encounter.billed, remittances
        )
    except UnbalancedLine as error:
        raise NotReposted(str(error)) from None
    adjudicated = {line.line_number for line in late.lines}
    repost = Repost(
        repost_id=f"{key}/{position}",
        encounter_id=claim.encounter_id,
        lines=[
            RepostLine(
                line_number=line.line_number,
                paid_by_payer=line.paid_by_payer,
                payer_adjustments=line.payer_adjustments,
                responsibility=line.responsibility,
            )
            for line in recomputed
            if line.line_number in adjudicated
        ],
        reason=f"{claim.payer_id} 835 {key} CLP {ccn} at {position} (CLP02 {late.status}, "
        f"paid {late.paid}, payer claim {late.payer_claim_number})",
        by=by,
    )
    return encounter.account_id, repost


def _encounter(ledger: Engine, encounter_id: str) -> _Encounter | None:
    """The encounter as closed: None when it never closed with its lines."""
    with Session(ledger) as session:
        row = session.get(t.Encounter, encounter_id)
        balance = session.get(t.PatientBalance, encounter_id)
        if row is None or balance is None or not balance.lines:
            return None
        claims = session.exec(
            select(t.Claim)
            .where(
                t.Claim.encounter_id == encounter_id,
                col(t.Claim.replaced_by).is_(None),  # a frequency-7 or a COB review's
                col(t.Claim.claim_status).is_not(None),
            )
            .order_by(col(t.Claim.payer_sequence))
        ).all()
    return _Encounter(
        account_id=row.account_id,
        service_date=row.service_date,
        payer_order=json.loads(row.payer_order),
        billed=[LineAccount.model_validate(line) for line in json.loads(balance.lines)],
        claims=list(claims),
    )


def _posted(ledger: Engine, claim: t.Claim, lines: list[ServiceLine]) -> Remittance:
    """The adjudication the claim was settled from: the newest 835 in the ledger whose CLP
    says what the claim row says (CLP02, CLP04, CLP07), read as its workflow read it."""
    settled = (claim.claim_status, claim.total_paid, claim.payer_claim_number)
    for document, position in documents.remittance_documents(
        ledger, claim.claim_control_number, claim.payer_id
    ):
        if document.problem:
            continue
        remittance, _ = read_claims(document.text)[position - 1]
        if (remittance.status, remittance.paid, remittance.payer_claim_number) == settled:
            return _as_posted(remittance, claim, lines)
    raise NotReposted(
        f"the 835 that settled claim {claim.claim_control_number} is not in the ledger"
    )


def _as_posted(remittance: Remittance, claim: t.Claim, lines: list[ServiceLine]) -> Remittance:
    """The CLP as the claim's adjudication, as activities/claims.py posts one: our payer id
    (the ledger's link says whose claim it is), its position when CLP02 does not say it, the
    claim-level amounts on the lines, each line balanced (cob.money)."""
    remittance = remittance.model_copy(update={"payer_id": claim.payer_id})
    if remittance.payer_sequence == 0:  # CLP02 4/22 do not say the payer's position
        remittance = remittance.model_copy(update={"payer_sequence": claim.payer_sequence})
    try:
        remittance = adjudication_to_post(remittance, lines)
        for line in remittance.lines:
            check_remittance_line(line, remittance.payer_id)
    except (UnplaceableAmount, UnbalancedLine) as error:
        raise NotReposted(str(error)) from None
    return remittance


def still_open(ledger: Engine, key: str, reposts: list[LateRepost]) -> list[LateRepost]:
    """The reposts whose task is open (all on a first post; on a post of the file again, the
    ones not sent then): a repost sent before has nothing to do."""
    names = [f"{key}/{position}" for late in reposts for position in late.positions]
    with Session(ledger) as session:
        open_ids = set(
            session.exec(
                select(t.WorklistTask.workflow_id).where(
                    col(t.WorklistTask.workflow_id).in_(names),
                    t.WorklistTask.kind == SETTLED_KIND,
                    t.WorklistTask.status == "open",
                )
            ).all()
        )
    return [late for late in reposts if any(f"{key}/{p}" in open_ids for p in late.positions)]


async def send_reposts(client: Client, reposts: list[LateRepost]) -> list[RepostAnswer]:
    """Send each repost to its account (the update's id is the repost's, so a send that timed
    out and is sent again is the same update); the account's answer, or why there is none."""
    return [await _send(client, late) for late in reposts]


async def _send(client: Client, late: LateRepost) -> RepostAnswer:
    handle = client.get_workflow_handle(account_workflow_id(late.account_id))
    try:
        status = await asyncio.wait_for(
            handle.execute_update(REPOST_UPDATE, late.repost, id=late.repost.repost_id,
                                  result_type=AccountStatus),
            REPOST_WAIT.total_seconds(),
        )  # fmt: skip
    except WorkflowUpdateFailedError as error:  # the account's validator refused it
        why = getattr(error.cause, "message", None) or str(error.cause or error)
        return RepostAnswer(late, problem=f"account {late.account_id} refused it: {why}")
    except TimeoutError:
        return RepostAnswer(late, problem=f"no worker answered for account {late.account_id} "
                            f"within {REPOST_WAIT.seconds} s: start one with `cob worker`")  # fmt: skip
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            why = f"no account workflow {handle.id} is running"
        else:
            why = f"the Temporal server answered {error.status.name if error.status else ''}: {error.message}"
        return RepostAnswer(late, problem=why)
    return RepostAnswer(late, status=status)


def close_reposted(ledger: Engine, key: str, answer: RepostAnswer) -> None:
    """The tasks of the CLPs the account took, closed with what it answered."""
    status = answer.status
    assert status is not None
    resolution = (f"reposted to account {answer.late.account_id} ({answer.late.repost.repost_id}): "
                  f"balance {status.balance}, credit {status.credit}")  # fmt: skip
    for position in answer.late.positions:
        worklist.close_tasks(
            ledger, workflow_id=f"{key}/{position}", resolution=resolution, kind=SETTLED_KIND
        )
