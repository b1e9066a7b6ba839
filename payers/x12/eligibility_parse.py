"""Read a 270 or 271 (005010X279A1) back into data (building them: `payers.x12.eligibility`).

The 270 reader is `eligibility_parse_270`, the 271 reader `eligibility_parse_271`; every name
is importable from here as before. pyx12 4.0.0 has no 5010 270/271 map, so their structural
checks are the validation, each error naming the segment and, where it exists, its position.
What the guide makes situational is read when present and never demanded.
"""

from __future__ import annotations

from payers.x12.eligibility_parse_270 import GUIDES, parse_270, summarize_270
from payers.x12.eligibility_parse_271 import (
    COVERAGE,
    DEDUCTIBLE_PERIOD,
    OUT_OF_NETWORK,
    PAYER_LEVELS,
    READ,
    Answer271,
    InquiryRejected,
    PatientAnswer,
    parse_271,
    read_271,
    summarize_271,
)

__all__ = [
    "COVERAGE",
    "DEDUCTIBLE_PERIOD",
    "GUIDES",
    "OUT_OF_NETWORK",
    "PAYER_LEVELS",
    "READ",
    "Answer271",
    "InquiryRejected",
    "PatientAnswer",
    "parse_270",
    "parse_271",
    "read_271",
    "summarize_270",
    "summarize_271",
]
