"""X12 5010 at the segment level: separators, segments, and the ISA/GS/ST envelopes.

The segment and its elements (separators, X12Error, element readers and writers) live in
`payers.x12.segments_elements`; the interchange envelope (ISA/IEA, GS/GE, ST/SE: reading it
with its counts and control numbers checked, and building it) in `payers.x12.segments_envelope`.
Every name is importable from here as before. Transaction content (837P, 835, ...) lives in its
own module.
"""

from __future__ import annotations

from payers.x12.segments_elements import (
    CENT,
    DECIMAL,
    DEFAULT_SEPARATORS,
    Segment,
    Separators,
    X12Error,
    amount_element,
    amount_text,
    d8_text,
    date_element,
    decimal_element,
    free_text,
    seg,
)
from payers.x12.segments_envelope import (
    ISA_LENGTH,
    FunctionalGroup,
    Interchange,
    Transaction,
    build_interchange,
    decode_x12,
    detect_separators,
    parse_interchange,
    parse_interchanges,
    split_segments,
    transactions_of,
)

__all__ = [
    "CENT",
    "DECIMAL",
    "DEFAULT_SEPARATORS",
    "ISA_LENGTH",
    "FunctionalGroup",
    "Interchange",
    "Segment",
    "Separators",
    "Transaction",
    "X12Error",
    "amount_element",
    "amount_text",
    "build_interchange",
    "d8_text",
    "date_element",
    "decimal_element",
    "decode_x12",
    "detect_separators",
    "free_text",
    "parse_interchange",
    "parse_interchanges",
    "seg",
    "split_segments",
    "transactions_of",
]
