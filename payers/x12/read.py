"""`cob x12 read`: what the engine understands of any X12 file, before it touches money.

Every interchange and transaction of the file is read by the same reader the engine uses for
it; a transaction the engine does not read (an 837I, a 4010 file, an 834) is listed with the
reason. A file whose envelope or content is wrong raises X12Error naming the segment.
"""

from __future__ import annotations

from collections.abc import Callable

from payers.x12 import (
    acknowledgments,
    claim_837p_parse,
    claim_status,
    eligibility_parse,
    prior_auth_278,
    remittance_835,
)
from payers.x12.segments import Transaction, parse_interchanges

CLAIM_STATUS_ACK = "005010X214"  # the 277CA; a 277 under 005010X212 answers a 276
# 837 guides (GS08) by kind: 5010 professional, institutional, dental; and their 4010 forms
GUIDES_837 = {"X222": "837P", "X223": "837I", "X224": "837D", "X098": "837P", "X096": "837I",
              "X097": "837D"}  # fmt: skip


def transaction_type(txn: Transaction) -> str:
    """835, 837P, 837I-4010, 999, 277CA, 277, ... as a billing team names the transaction."""
    if txn.code == "837":
        kind = next((k for g, k in GUIDES_837.items() if g in txn.version), "837")
        return kind + ("-4010" if txn.version.startswith("004010") else "")
    if txn.code == "277" and txn.version.startswith(CLAIM_STATUS_ACK):
        return "277CA"
    return txn.code


def _readers() -> dict[str, Callable[[Transaction], dict]]:
    return {
        "835": remittance_835.summarize_835,
        "837P": claim_837p_parse.summarize_837p,
        "999": acknowledgments.summarize_999,
        "277CA": acknowledgments.summarize_277ca,
        "277": claim_status.summarize_277,
        "276": claim_status.summarize_276,
        "270": eligibility_parse.summarize_270,
        "271": eligibility_parse.summarize_271,
        "278": prior_auth_278.summarize_278,
    }


def summarize(txn: Transaction) -> dict:
    kind = transaction_type(txn)
    out: dict = {"control": txn.st[2], "type": kind, "guide": txn.version}
    if txn.version.startswith("004010"):  # HIPAA moved to 5010 in 2012 (45 CFR 162.1102)
        return {
            **out,
            "refused": f"ST {txn.st[2]}: a 4010 transaction ({txn.version}); the engine reads 5010 only",
        }
    if kind == "837P":
        refusal = claim_837p_parse.refusal_of_837(txn)
        if refusal:
            return {**out, "refused": refusal}
    reader = _readers().get(kind)
    if reader is None:
        return {
            **out,
            "refused": f"ST {txn.st[2]}: the engine does not read {kind} ({txn.version or 'no guide'}) transactions",
        }
    return {**out, **reader(txn)}


def read_x12(text: str) -> dict:
    """The summary of every transaction in a file; X12Error when the file is refused."""
    interchanges = parse_interchanges(text)
    return {
        "interchanges": len(interchanges),
        "transactions": [summarize(t) for i in interchanges for t in i.transactions],
    }
