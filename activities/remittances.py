"""What an 835 means for the ledger, from the ERA mailbox or from a file a clearinghouse
delivered (`cob era post`): the document kept as received, which claims of ours it carries,
its provider-level adjustments (PLB), and the claims it names that the engine cannot match.

Both paths store the same records, so a claim workflow picks up a posted 835 exactly as it
picks up one from the mailbox (ledger.documents.remittance_document). Nothing is dropped: a
claim that matches nothing becomes a worklist task; the same file posted twice stores nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date

from cob.deadlines import posting_task_due
from cob.era_matching import ClaimOnFile, EraMatch, match_era_claim
from cob.model import Remittance
from ledger import documents, worklist
from ledger import tables as t
from payers.directory import payer_of_remittance
from payers.era import EraDocument
from payers.x12.remittance_835 import RemittanceAdvice, parse_835, read_835
from payers.x12.segments import X12Error


@dataclass(frozen=True)
class UnmatchedClaim:
    """A claim of the 835 that needs the team: matched to nothing, or to a claim already
    settled from an earlier 835 (a reversal or correction no workflow may be waiting for)."""

    position: int
    claim_control_number: str
    payer_id: str  # '' when the 835's payer is not in the directory
    reason: str
    kind: str = "era_unmatched_claim"
    encounter_id: str = "-"  # the matched claim's, when there is one


@dataclass
class EraPosting:
    document: documents.Document
    links: list[documents.RemittanceLink] = field(default_factory=list)
    provider_adjustments: list[t.ProviderAdjustment] = field(default_factory=list)
    unmatched: list[UnmatchedClaim] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)  # positions already posted as they are
    advices: list[RemittanceAdvice] = field(default_factory=list)

    @property
    def claims(self) -> list[tuple[Remittance, int]]:
        """Each claim of the 835 as read, with its CLP's segment position, in file order (as
        read_claims gives them); none when the 835 did not read or balance."""
        return [
            claim
            for advice in self.advices
            for claim in zip(advice.remittances, advice.claim_positions, strict=True)
        ]


def _plb_rows(key: str, advices: list[RemittanceAdvice], payer_of) -> list[t.ProviderAdjustment]:
    rows = []
    for advice in advices:
        for adjustment in advice.provider_adjustments:
            rows.append(
                t.ProviderAdjustment(
                    document_key=key, seq=len(rows) + 1, payer_id=payer_of(advice) or "",
                    provider_id=adjustment.provider_id, period_end=adjustment.period_end,
                    reason=adjustment.reason, reference=adjustment.reference,
                    amount=adjustment.amount, trace_number=advice.trace_number,
                    paid_on=advice.paid_on,
                )
            )  # fmt: skip
    return rows


def mailbox_posting(era: EraDocument) -> EraPosting:
    """An 835 from the ERA mailbox, which says which payer sent it. One that does not
    balance or parse is kept with its problem: the claims it names get a task when their
    workflows read it, and one that names no readable claim gets a task of its own."""
    problem, claims, advices = "", [], []
    try:
        advices = read_835(era.x12)  # read and balanced
        claims = [r.claim_control_number for a in advices for r in a.remittances]
    except X12Error as error:
        problem = str(error)
        with suppress(X12Error):  # unbalanced but readable: its claims learn of the problem
            claims = [r.claim_control_number for r in parse_835(era.x12)]
    document = documents.Document(
        key=f"era/{era.cursor}", transaction="835", direction="received",
        payer_id=era.payer_id, text=era.x12, era_cursor=era.cursor, problem=problem,
    )  # fmt: skip
    links = [
        documents.RemittanceLink(position, ccn, era.payer_id)
        for position, ccn in enumerate(claims, start=1)
    ]
    plbs = _plb_rows(document.key, advices, lambda advice: era.payer_id)
    return EraPosting(document, links, plbs, advices=advices)


def file_posting(
    text: str, claim_on_file: Callable[[str], t.Claim | None], payer_id: str | None = None
) -> EraPosting:
    """An 835 file as a clearinghouse delivers it (any number of ISA and ST): refused whole
    with the segment named when it does not read or balance (X12Error), else each claim is
    matched to a claim of ours by CLP01 and the payer (`payer_id`, or the directory's payer
    for the 835's REF*2U / N1*PR / TRN03 ids)."""
    advices = read_835(text)
    key = "era/file/" + hashlib.sha256(text.encode()).hexdigest()[:24]

    def payer_of(advice: RemittanceAdvice) -> str | None:
        return payer_id or payer_of_remittance(advice.payer_ids)

    posting = EraPosting(
        documents.Document(
            key=key,
            transaction="835",
            direction="received",
            payer_id=payer_of(advices[0]) or "",
            text=text,
        ),  # fmt: skip
        advices=advices,
    )
    position = 0
    for advice in advices:
        payer = payer_of(advice)
        for remittance in advice.remittances:
            position += 1
            ccn = remittance.claim_control_number
            claim = claim_on_file(ccn)
            on_file = None if claim is None else ClaimOnFile(
                claim.payer_id, claim.claim_status, claim.total_paid, claim.payer_claim_number
            )  # fmt: skip
            match = match_era_claim(remittance, payer, on_file)
            if match == EraMatch.UNKNOWN_PAYER:
                reason = (
                    f"the 835's payer {advice.payer_name!r} (ids {', '.join(advice.payer_ids) or 'none'}) "
                    "is not in the payer directory: add its ids to the profile's "
                    "remittance_ids, or post with --payer"
                )
            elif match == EraMatch.NOT_ON_FILE:
                reason = f"no claim {ccn} billed to {payer} on file"
            elif match == EraMatch.AWAITED:  # the claim's workflow waits for this answer
                posting.links.append(documents.RemittanceLink(position, ccn, payer))
                continue
            elif match == EraMatch.DUPLICATE:
                posting.duplicates.append(position)  # the same adjudication, sent again
                continue
            else:
                # an appeal may be waiting for it (it reads the newest 835): link it, and
                # tell the team, since a settled claim's workflow may be over
                posting.links.append(documents.RemittanceLink(position, ccn, payer))
                posting.unmatched.append(UnmatchedClaim(
                    position, ccn, payer,
                    f"claim {ccn} was settled from an earlier 835 (CLP02 {claim.claim_status}, "
                    f"paid {claim.total_paid}, payer claim {claim.payer_claim_number}); this "
                    f"one says CLP02 {remittance.status}, paid {remittance.paid}, payer claim "
                    f"{remittance.payer_claim_number}: post the change by hand unless an "
                    "appeal of the claim is waiting for it",
                    kind="era_after_settlement", encounter_id=claim.encounter_id,
                ))  # fmt: skip
                continue
            posting.unmatched.append(UnmatchedClaim(position, ccn, payer or "", reason))
    posting.provider_adjustments = _plb_rows(key, advices, payer_of)
    return posting


@dataclass(frozen=True)
class Posted:
    first_time: bool  # False: this very document was posted before
    linked_now: list[int] = field(default_factory=list)  # on a repost: claims matched at last


def post_era(ledger, posting: EraPosting, today: date) -> Posted:
    """Store the posting; a task for each claim that matched nothing. When this very
    document was posted before, only claims that match now and did not then are linked
    (their tasks closed): nothing else changes."""
    stored = documents.record_era(
        ledger, document=posting.document, claims=posting.links,
        provider_adjustments=posting.provider_adjustments,
    )  # fmt: skip
    if not stored:
        key = posting.document.key
        linked = documents.add_links(ledger, document_key=key, claims=posting.links)
        for position in linked:
            worklist.close_tasks(
                ledger, workflow_id=f"{key}/{position}", resolution="matched on a later post"
            )
        return Posted(first_time=False, linked_now=linked)
    claims = posting.claims
    for claim in posting.unmatched:
        advice_total = claims[claim.position - 1][0].paid  # this CLP's (a reversal's is < 0)
        worklist.open_task(
            ledger,
            workflow_id=f"{posting.document.key}/{claim.position}",
            encounter_id=claim.encounter_id,
            payer_id=claim.payer_id,
            claim_control_number=claim.claim_control_number,
            kind=claim.kind,
            reason=f"835 CLP {claim.claim_control_number} (paid {advice_total}): {claim.reason}",
            due=posting_task_due(today),
            opened_on=today,
        )
    return Posted(first_time=True)
