"""The 005010X221A1 balancing rules, which pyx12 does not check."""

from __future__ import annotations

from decimal import Decimal

from payers.x12.remittance_835_build import ZERO
from payers.x12.remittance_835_read import (
    adjustments_of,
    amount_of,
    claim_loops_of,
    first_segment,
    provider_adjustments_of,
)
from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
)


def _cas_total(segments: list[Segment]) -> Decimal:
    return sum((a.amount for s in segments if s.id == "CAS" for a in adjustments_of(s)), ZERO)


def check_balance(txn: Transaction) -> None:
    """The 005010X221A1 balancing rules; X12Error names the first SVC, CLP or BPR at fault:
    a line SVC02 − line CAS = SVC03; a claim CLP03 − claim CAS − Σ line CAS = CLP04 (lines
    or not); the transaction BPR02 = Σ CLP04 − Σ PLB amounts."""
    header, claims, plbs = claim_loops_of(txn)
    bpr = first_segment(header, "BPR")
    if bpr is None:
        raise X12Error("the 835 has no BPR (financial information)", "ST", txn.st.position)
    claims_paid = ZERO
    for loop in claims:
        adjusted = _cas_total(loop.segments)
        for svc, segments in loop.lines:
            charge, paid, line_cas = amount_of(svc, 2), amount_of(svc, 3), _cas_total(segments)
            if charge - line_cas != paid:
                raise X12Error(f"SVC02 {charge} - CAS {line_cas} = {charge - line_cas}, "
                               f"but SVC03 is {paid}", "SVC", svc.position)  # fmt: skip
            adjusted += line_cas
        charge, paid = amount_of(loop.clp, 3), amount_of(loop.clp, 4)
        if charge - adjusted != paid:
            raise X12Error(f"CLP03 {charge} - CAS {adjusted} = {charge - adjusted}, "
                           f"but CLP04 is {paid}", "CLP", loop.clp.position)  # fmt: skip
        claims_paid += paid
    plb = sum((a.amount for s in plbs for a in provider_adjustments_of(s)), ZERO)
    if amount_of(bpr, 2) != claims_paid - plb:
        raise X12Error(f"BPR02 {amount_of(bpr, 2)} differs from CLP04 total {claims_paid} - PLB "
                       f"{plb} = {claims_paid - plb}", "BPR", bpr.position)  # fmt: skip
