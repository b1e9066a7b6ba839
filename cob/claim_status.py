"""A payer's answer about one claim, as a 277 (ASC X12 005010X212) gives it: the claim's
status category and code (STC01), its dates and amounts, and the statuses the payer stated
at the levels above it. The 277 reader (payers/x12/claim_status_parse.py) produces it;
`task_for_status` says what an answer asks of the team."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal, NamedTuple

from cob.deadlines import Deadline
from cob.model import Model

StatusLevel = Literal["2200B", "2200C"]


class LevelStatus(Model):
    """A 277 status at the information receiver (2200B) or provider (2200C) level: it answers
    for every claim below that level."""

    level: StatusLevel
    trace_number: str  # that level's TRN02
    category: str  # STC01-1
    status_code: str  # STC01-2
    effective_date: date  # STC02
    message: str = ""  # STC12


class ClaimStatusReport(Model):
    """One 2200 loop of a 277: the payer's answer to the inquiry with the same trace number."""

    trace_number: str
    claim_control_number: str = ""  # REF*EJ; "" when the payer did not echo it
    payer_claim_number: str | None = None
    category: str  # STC01-1 (ASC X12 005010X212, loop 2200D)
    status_code: str  # STC01-2
    effective_date: date  # STC02
    charge: Decimal | None = None  # STC04
    paid: Decimal = Decimal("0.00")  # STC05 (finalized claims)
    message: str = ""  # STC12 (X212 marks it Not Used; see build_277)
    # "claim": the claim's own STC (2200D/E). "2200B"/"2200C": a status at that level with no
    # claim listed below it, so it answers for every claim the 276 asked about there.
    level: Literal["claim", "2200B", "2200C"] = "claim"
    above: list[LevelStatus] = []  # statuses of the levels above the claim, the higher first

    @property
    def finalized(self) -> bool:
        return self.category.startswith("F")

    @property
    def pending(self) -> bool:
        return self.category.startswith("P") or self.category in ("A1", "A2")

    @property
    def not_found(self) -> bool:
        return self.category in ("A4", "D0")


# A claim the payer says it finalized (277 STC01 F*) with no 835 this many days later: ask for
# the ERA again (industry practice; configurable).
ERA_RESEND_DAYS = 10


class StatusTask(NamedTuple):
    """What a 277 answer asks of the team: a worklist task of `kind`, due on `due`."""

    kind: str
    reason: str
    due: date


def task_for_status(status: ClaimStatusReport, filing: Deadline) -> StatusTask | None:
    """What a 277 answer asks of the team, or None to keep waiting for the 835 (STC01
    categories, ASC X12 005010X212 loop 2200D): not found (A4, D0) -> refile before the
    timely filing deadline; finalized (F*) -> ask for the ERA again if none came; a request
    for information (R*) -> send it before the deadline. Pending answers (P*, A1, A2) wait."""
    answer = f"277 {status.category}:{status.status_code}"
    if status.not_found:
        return StatusTask(
            "claim_not_on_file",
            f"{answer}: the payer has no record of the claim; refile before the timely "
            f"filing deadline {filing.due.isoformat()} with the 277CA acceptance as proof",
            filing.due,
        )
    if status.finalized:
        return StatusTask(
            "era_missing",
            f"{answer}: finalized on {status.effective_date.isoformat()} but no 835 has "
            "come; ask the payer to re-send the ERA",
            status.effective_date + timedelta(days=ERA_RESEND_DAYS),
        )
    if status.category.startswith("R"):
        return StatusTask(
            "records_requested",
            f"{answer}: the payer asks for more information; send it before "
            f"{filing.due.isoformat()}",
            filing.due,
        )
    return None
