"""`cob era`: 835s from outside the ERA mailbox, and the provider-level account.

`cob era post FILE.835` posts a payer's 835 as a clearinghouse delivers it to the claims it
names, through the same ledger records as the ERA mailbox, so each claim's workflow picks it
up at its next ERA check. Posting the same file twice changes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from cli.terminal import errors

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
    file does not read or balance, exit 1 when a claim matched nothing (a task is opened)."""
    from activities.remittances import file_posting, post_era
    from cli.x12 import read_file
    from ledger.db import make_engine
    from ledger.documents import claim_on_file
    from payers.directory import known_payer_ids
    from payers.x12.segments import X12Error

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
    posted = post_era(ledger, posting, date.today())
    if not posted.first_time:
        linked = (f"; {len(posted.linked_now)} claim(s) matched now and linked, their tasks "
                  "closed" if posted.linked_now else "; nothing changed")  # fmt: skip
        console.print(f"{file}: already posted as {posting.document.key}{linked}")
        raise typer.Exit(0)
    matched = {link.position for link in posting.links}
    tasks = {claim.position: claim.kind for claim in posting.unmatched}
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
    for claim in posting.unmatched:
        errors.print(f"{claim.kind} {claim.claim_control_number}: {claim.reason}", highlight=False)
    console.print(
        f"{len(posting.links)} claim(s) posted, {len(posting.unmatched)} for the worklist, "
        f"{len(posting.provider_adjustments)} provider adjustment(s), as {posting.document.key}"
    )
    raise typer.Exit(1 if posting.unmatched else 0)


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
