"""276/277 claim status inquiry and response (005010X212): built in `claim_status_build`, read
back in `claim_status_parse`; every name is importable from here as before.

The engine polls with a 276 when a claim was accepted (277CA A2) but no 835 has come, and acts
on the 277's STC01 category: wait (P*), await the 835 (F*), resubmit (A4) or search with other
keys (D0). One 2200 loop per claim: the trace goes out as TRN*1 and comes back as TRN*2;
REF*EJ is our claim control number (CLM01), REF*1K the payer's.

The 276 says only whether the patient is the subscriber (a 2000E dependent level or not), not
how they are related, so a dependent reads back as Relationship.OTHER. pyx12 4.0.0 has no 5010
276 map: the reader's checks are its validation. What X212 makes situational is read when
present and never demanded: the service provider level (2000C, NM1*1P), the subscriber's DMG
when the patient is a dependent, REF*EJ, the claim's AMT*T3 (and its DTP*472 when the service
lines carry theirs). A 277 may answer at the information receiver (2200B) or provider (2200C)
level: such a status is attached to every claim below it, and one with no claim below it comes
back on its own, with that level's trace.
"""

from __future__ import annotations

from cob.claim_status import ClaimStatusReport, LevelStatus
from payers.x12.claim_status_build import (
    CATEGORIES,
    FUNCTIONAL_ID,
    LEVEL_NAMES,
    VERSION,
    StatusInquiry,
    build_276,
    build_277,
)
from payers.x12.claim_status_parse import parse_276, parse_277, summarize_276, summarize_277

__all__ = [
    "CATEGORIES",
    "FUNCTIONAL_ID",
    "LEVEL_NAMES",
    "VERSION",
    "ClaimStatusReport",
    "LevelStatus",
    "StatusInquiry",
    "build_276",
    "build_277",
    "parse_276",
    "parse_277",
    "summarize_276",
    "summarize_277",
]
