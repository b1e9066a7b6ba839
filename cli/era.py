"""`cob era`: 835s from outside the ERA mailbox, and the provider-level account.

`cob era post FILE.835` posts a payer's 835 as a clearinghouse delivers it to the claims it
names, through the same ledger records as the ERA mailbox, so each claim's workflow picks it
up at its next ERA check. A claim settled before that the 835 adjudicates anew goes to the
team's worklist, unless it is the last payer's claim of an encounter billed to a patient
account: the account is sent the recomputed lines (activities/late_remittances.py) and the
task closes with its answer. Posting the same file twice changes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer
from rich.console import Console

from cli.terminal import errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from activities.late_remittances import LateRepost, RepostAnswer

app = typer.Typer(no_args_is_help=True, help="Post an 835 file; the provider-level account")
console = Console(width=150, soft_wrap=True)  # a line is never broken mid-message


@app.command("post")
def post(
    file: Path,
    payer: str | None = typer.Option(
        None, help="our payer id for this 835 (default: from its REF*2U / N1*PR / TRN03 ids)"
    ),
) -> None:
    """Post FILE's claims and provider-level adjustments; exit 2 (nothing stored) when the
    file does not read or balance, exit 1 when a claim is left for the worklist (a task is
    opened). A new adjudication of a claim settled before, from the last payer of an
    encounter billed to a patient account, is sent to the account, which recomputes the
    patient's share (a refund or a new balance); exit 1 too when it could not be sent."""
    from activities.late_remittances import late_reposts
    from activities.remittances import file_posting, post_era
    from cli.x12 import read_file
    from ledger.db import make_engine
    from ledger.documents import claim_on_file
    from payers.directory import known_payer_ids
    from payers.x12.segments import X12Error
    from workers.temporal import current_user

    if payer is not None and payer not in known_payer_ids():
        errors.print(f"[red]--payer {payer!r} is not in the payer directory[/]", highlight=False)
        raise typer.Exit(2)
    text = read_file(file)
    ledger = make_engine()
    try:
        posting = file_posting(text, lambda ccn: claim_on_file(ledger, ccn), payer)
    except X12Error as error:
        errors.print(f"[red]cannot post[/] {file}: {error}", highlight=False)
        raise typer.Exit(2) from None
    reposts, posting = late_reposts(ledger, posting, current_user())
    posted = post_era(ledger, posting, date.today())
    answers = _send_reposts(ledger, posting.document.key, reposts)
    failed = any(answer.status is None for answer in answers)
    if not posted.first_time:
        if posted.linked_now:
            news = f"; {len(posted.linked_now)} claim(s) matched now and linked, their tasks closed"
        else:  # a repost not sent before is sent now (its answer below)
            news = "" if answers else "; nothing changed"
        console.print(f"{file}: already posted as {posting.document.key}{news}")
        _print_answers(answers)
        raise typer.Exit(1 if failed else 0)
    matched = {link.position for link in posting.links}
    reposted = {p for answer in answers if answer.status for p in answer.late.positions}
    tasks = {
        claim.position: claim.kind for claim in posting.unmatched if claim.position not in reposted
    }
    position = 0
    for advice in posting.advices:
        console.print(
            f"835 ST {advice.control} from {advice.payer_name} ({', '.join(advice.payer_ids)}), "
            f"trace {advice.trace_number}, {advice.paid_on}: payment {advice.payment}"
        )
        for remittance in advice.remittances:
            position += 1
            if position in posting.duplicates:
                verdict = "already posted from an earlier 835 (a duplicate); nothing changed"
            elif position in reposted:
                verdict = "posted, sent to the patient's account"
            elif position in tasks:
                verdict = f"{'posted, ' if position in matched else ''}TASK {tasks[position]}"
            else:
                verdict = "posted"
            console.print(
                f"  CLP {remittance.claim_control_number} status {remittance.status} "
                f"charge {remittance.claim_charge} paid {remittance.paid}: {verdict}"
            )
    for row in posting.provider_adjustments:
        console.print(
            f"  PLB {row.reason} {row.amount} ref {row.reference or '-'} provider "
            f"{row.provider_id}: posted to the provider-level account"
        )
    _print_answers(answers)
    for claim in posting.unmatched:
        if claim.position in tasks:
            errors.print(
                f"{claim.kind} {claim.claim_control_number}: {claim.reason}", highlight=False
            )
    console.print(
        f"{len(posting.links)} claim(s) posted, {len(tasks)} for the worklist, "
        f"{len(posting.provider_adjustments)} provider adjustment(s), "
        f"{sum(1 for answer in answers if answer.status)} sent to patient accounts, "
        f"as {posting.document.key}"
    )
    raise typer.Exit(1 if tasks else 0)


def _send_reposts(ledger: Engine, key: str, reposts: list[LateRepost]) -> list[RepostAnswer]:
    """Send the reposts whose task is open (all of them on a first post) to their accounts,
    closing each task the account took; every one not sent says why (RepostAnswer.problem)."""
    from activities.late_remittances import RepostAnswer, close_reposted, send_reposts, still_open
    from cli.terminal import run, unreachable
    from workers.temporal import connect

    pending = still_open(ledger, key, reposts)
    if not pending:
        return []

    async def send() -> list[RepostAnswer]:
        return await send_reposts(await connect(), pending)

    try:
        answers = cast("list[RepostAnswer]", run(send()))
    except Exception as error:  # the server or its keys: the tasks stay, and say so
        why = unreachable(error)
        if why is None:
            raise
        answers = [RepostAnswer(late, problem=why) for late in pending]
    for answer in answers:
        if answer.status is not None:
            close_reposted(ledger, key, answer)
    return answers


def _print_answers(answers: list[RepostAnswer]) -> None:
    """The account's answer to each repost; for one not sent, why, and that its task stays."""
    for answer in answers:
        late, status = answer.late, answer.status
        clp = f"CLP {late.claim_control_number} at {late.positions[-1]}"
        if status is None:
            errors.print(
                f"repost of {late.repost.encounter_id} ({clp}) to account {late.account_id} not "
                f"sent: {answer.problem}; its era_after_settlement task stays (post the file "
                "again to send it)",
                markup=False, highlight=False,
            )  # fmt: skip
            continue
        refund = (
            f", refund due {status.credit - status.balance}"
            if status.credit > status.balance
            else ""
        )
        console.print(
            f"  repost to account {late.account_id} (encounter {late.repost.encounter_id}, "
            f"{clp}): balance {status.balance}, credit {status.credit}{refund}",
            markup=False, highlight=False,
        )  # fmt: skip


@app.command("adjustments")
def adjustments(payer: str | None = typer.Option(None, help="only this payer's")) -> None:
    """The provider-level account: every PLB posted, with its reason, reference and total."""
    from decimal import Decimal

    from ledger.db import make_engine
    from ledger.documents import provider_adjustments

    rows = provider_adjustments(make_engine(), payer)
    total = Decimal("0.00")
    for row in rows:
        total += row.amount
        console.print(
            f"{row.paid_on} {row.payer_id or '?':7} {row.reason:3} {row.amount:>10} "
            f"ref {row.reference or '-':15} trace {row.trace_number} ({row.document_key})"
        )
    # PLB amounts are positive when they reduce the payment (005010X221A1 PLB04)
    console.print(f"{len(rows)} adjustment(s); net reduction of payments {total}")
