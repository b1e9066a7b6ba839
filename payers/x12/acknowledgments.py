"""Acknowledgments of a submitted 837: the 999 (005010X231A1, `payers.x12.ack_999`) and the
277CA (005010X214, `payers.x12.ack_277ca`). The 999 says whether each transaction passed
syntax checks; the 277CA says, per claim, whether it entered adjudication (STC01-1 A2) or was
rejected (A3/A6/A7/A8). Every name is importable from here as before.
"""

from __future__ import annotations

from payers.x12.ack_277ca import (
    ACCEPTED,
    ACK_277CA,
    LEVEL_NAMES,
    REJECTED,
    Status,
    build_277ca,
    parse_277ca,
    summarize_277ca,
)
from payers.x12.ack_999 import (
    ACK_999,
    ACK_ACCEPTED,
    ACK_REJECTED,
    ACKNOWLEDGED,
    SENT_ST02,
    AckError,
    ElementError,
    GroupAck,
    TransactionAck,
    build_999,
    parse_999,
    read_999,
    summarize_999,
)

__all__ = [
    "ACCEPTED",
    "ACK_277CA",
    "ACK_999",
    "ACK_ACCEPTED",
    "ACK_REJECTED",
    "ACKNOWLEDGED",
    "LEVEL_NAMES",
    "REJECTED",
    "SENT_ST02",
    "AckError",
    "ElementError",
    "GroupAck",
    "Status",
    "TransactionAck",
    "build_277ca",
    "build_999",
    "parse_277ca",
    "parse_999",
    "read_999",
    "summarize_277ca",
    "summarize_999",
]
