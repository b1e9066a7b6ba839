"""Which of our claims a claim of an 835 file answers, and whether it is news: an 835 a
clearinghouse delivered (`cob era post`) names its claims by CLP01, our claim control number
(ASC X12 005010X221A1 loop 2100), and its payer by ids a payer directory maps (REF*2U, N1*PR,
TRN03). Nothing is dropped: what matches no claim waiting for it goes to the team.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from cob.model import Remittance


@dataclass(frozen=True)
class ClaimOnFile:
    """What the ledger knows of a claim we billed."""

    payer_id: str
    status: str | None  # CLP02 of the 835 that settled it; None while its workflow waits
    paid: Decimal | None  # CLP04 of that 835
    payer_claim_number: str | None  # CLP07 of that 835


class EraMatch(StrEnum):
    UNKNOWN_PAYER = "unknown_payer"  # the 835's payer is not in the payer directory: a task
    NOT_ON_FILE = "not_on_file"  # no claim of ours with this CLP01 billed to that payer: a task
    AWAITED = "awaited"  # the claim's workflow waits for this answer: linked to it
    DUPLICATE = "duplicate"  # the same adjudication sent again: nothing to post
    # settled from an earlier 835 and this one says otherwise (a reversal or correction, CLP02
    # 22, or an appeal's reprocessing): linked, since an appeal may be waiting, and a task
    AFTER_SETTLEMENT = "after_settlement"


def match_era_claim(
    remittance: Remittance, payer_id: str | None, on_file: ClaimOnFile | None
) -> EraMatch:
    """What claim `remittance` of an 835 from `payer_id` (None: not in the directory) is to
    the ledger, given the claim of ours with its CLP01 (None: no such claim)."""
    if payer_id is None:
        return EraMatch.UNKNOWN_PAYER
    if on_file is None or on_file.payer_id != payer_id:
        return EraMatch.NOT_ON_FILE
    if on_file.status is None:
        return EraMatch.AWAITED
    settled = (on_file.status, on_file.paid, on_file.payer_claim_number)
    if settled == (remittance.status, remittance.paid, remittance.payer_claim_number):
        return EraMatch.DUPLICATE
    return EraMatch.AFTER_SETTLEMENT
