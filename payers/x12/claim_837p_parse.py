"""Read an 837P (005010X222A1) back into data, following the guide's loops.

The transaction is first cut along its hierarchy (HL 20 billing provider 2000A, 22 subscriber
2000B, 23 patient 2000C, each naming its parent in HL02) and its claims (2300, each under the
HL above it); then each claim is read on its own, so one bad claim is reported with the
segment at fault and the others are still read. Situational segments may be absent.
Composites split on the component separator the file's ISA16 declares.
"""

from __future__ import annotations

from decimal import Decimal

from payers.x12.claim_837p_claim import read_claim
from payers.x12.claim_837p_hierarchy import hierarchy_of, nm1_loops
from payers.x12.claim_837p_parsed import (
    FILING_INDICATOR,
    MEDICARE_BASIS,
    RELATIONSHIP,
    ParsedClaim,
    ParsedLine,
    ParsedLineAdjudication,
    ParsedOtherPayer,
    UnreadClaim,
    encounter_id_of,
    plan_type,
)
from payers.x12.segments import (
    Transaction,
    X12Error,
    decimal_element,
    transactions_of,
)

__all__ = [
    "FILING_INDICATOR",
    "GUIDES_READ",
    "MEDICARE_BASIS",
    "RELATIONSHIP",
    "ParsedClaim",
    "ParsedLine",
    "ParsedLineAdjudication",
    "ParsedOtherPayer",
    "UnreadClaim",
    "encounter_id_of",
    "parse_837p",
    "plan_type",
    "read_837p",
    "refusal_of_837",
    "summarize_837p",
]

# The 837P guides read. HIPAA adopted 005010X222A1 (45 CFR 162.1102); 005010X222A2 is how
# X12's later errata/addenda edition is spelled (the LinuxForHealth samples carry it), and
# every loop and segment read here is the same in both.
GUIDES_READ = ("005010X222A1", "005010X222A2")
# Other 837 guides, by the prefix of ST03/GS08: what they are, so a refusal can say it.
OTHER_837 = {
    "005010X222": ("an 837P", "professional, before the X222A1 errata"),
    "005010X223": ("an 837I", "institutional"),
    "005010X224": ("an 837D", "dental"),
    "004010X098": ("a 4010 837P", "professional"),
    "004010X096": ("a 4010 837I", "institutional"),
    "004010X097": ("a 4010 837D", "dental"),
}
ONLY = "only the 837P (005010X222A1) is read"


def refusal_of_837(transaction: Transaction) -> str | None:
    """Why this transaction is not read as an 837P, in one line; None for an 837P."""
    st, guide = f"ST {transaction.st[2]}", transaction.version
    if transaction.code != "837":
        return f"{st} is transaction set {transaction.code or '(ST01 empty)'}, not an 837; {ONLY}"
    if guide in GUIDES_READ:
        return None
    if not guide:
        return f"{st} names no implementation guide (ST03 and GS08 are empty); {ONLY}"
    for prefix, (kind, what) in OTHER_837.items():
        if guide.startswith(prefix):
            return f"{st} is {kind} ({guide}, {what}); {ONLY}"
    return f"{st} names guide {guide!r}, not an 837 guide this reader knows; {ONLY}"


# --- what callers use --------------------------------------------------------------------------


def read_837p(transaction: Transaction) -> list[ParsedClaim | UnreadClaim]:
    """Every claim of an 837P transaction, read or with the segment that keeps it from being
    read; the caller has checked refusal_of_837 first. What is read is taken as written: the
    encounter's checks judge its content (ParsedClaim.encounter_data, to_submission)."""
    header, loops = hierarchy_of(transaction)
    out: list[ParsedClaim | UnreadClaim] = []
    for loop in loops:
        try:
            out.append(read_claim(loop, header))
        except X12Error as error:
            out.append(UnreadClaim(loop.segments[0][1], error, loop.segments))
    return out


def parse_837p(text: str) -> list[ParsedClaim]:
    """Every claim (2300) in every 837P of the file; X12Error names the first segment at fault
    (an 837 of another guide is refused whole)."""
    claims: list[ParsedClaim] = []
    for transaction in transactions_of(text):
        if refusal := refusal_of_837(transaction):
            raise X12Error(refusal, "ST", transaction.st.position)
        for claim in read_837p(transaction):
            if isinstance(claim, UnreadClaim):
                raise claim.error
            claims.append(claim)
    return claims


def summarize_837p(transaction: Transaction) -> dict:
    """The claims of an 837P as a billing team checks a batch (`cob x12 read`): control number,
    charge, service lines, payer, member and the other payers (2330B) of each. Read from the
    loops alone, so a claim the engine would skip for its content is still listed."""
    if refusal := refusal_of_837(transaction):
        raise X12Error(refusal, "ST", transaction.st.position)
    _, loops = hierarchy_of(transaction)
    claims = []
    for loop in loops:
        clm = loop.segments[0]
        subscriber = loop.level.up_to("22") if loop.level else None
        nm1 = nm1_loops(subscriber.segments) if subscriber else {}
        claims.append({
            "claim_control_number": clm[1],
            "charge": f"{decimal_element(clm, 2).quantize(Decimal('0.01'))}",
            "lines": sum(1 for s in loop.segments if s.id == "LX"),
            "payer_id": nm1["PR"][0][9] if nm1.get("PR") else "",
            "member_id": nm1["IL"][0][9] if nm1.get("IL") else "",
            "other_payers": [s[9] for s in loop.segments if s.id == "NM1" and s[1] == "PR"],
        })  # fmt: skip
    return {"claims": claims}
