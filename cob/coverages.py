"""Which coverages are billed, and in what order: the order of benefits less the coverages the
payers' eligibility answers take out, and the new order after a payer's COB denial.

Pure rules: the encounter workflow asks them and records their answers.
"""

from __future__ import annotations

from cob.denials import DenialDecision, Route
from cob.model import Benefits, Coverage, Encounter, Model, OrderDecision, PayerOrder
from cob.order import determine_payer_order


def rejected_inquiry(coverage: Coverage, rejection: str) -> Benefits:
    """The payer rejected the eligibility inquiry itself (271 AAA, ASC X12 005010X279A1 loop
    2100C): with no coverage confirmed it cannot be billed, as if inactive."""
    return Benefits(
        payer_id=coverage.payer_id,
        member_id=coverage.member_id,
        plan_type=coverage.plan_type,
        active=False,
        reason=f"payer rejected the eligibility inquiry: {rejection}",
    )


def ineligible_coverages(
    coverages: list[Coverage], benefits: dict[str, Benefits]
) -> dict[str, str]:
    """The coverages a 271 answered as not active on the date of service (EB01 6-8, inactive;
    ASC X12 005010X279A1 loop 2110C), by Coverage.key, each with the payer's reason."""
    return {
        coverage.key: f"not eligible (271): {benefits[coverage.key].reason}"
        for coverage in coverages
        if not benefits[coverage.key].active
    }


def billing_order(encounter: Encounter, benefits: dict[str, Benefits]) -> PayerOrder:
    """The payers to bill, in order: the coverages the 271s confirmed active, ordered by the
    order-of-benefit rules (cob.order); the others are in `excluded` with the 271's reason.
    `benefits` holds every coverage's 271 answer by Coverage.key."""
    active = [c for c in encounter.coverages if benefits[c.key].active]
    order = determine_payer_order(
        encounter.patient, active, encounter.service_date, encounter.related_cause
    )
    order.excluded.update(ineligible_coverages(encounter.coverages, benefits))
    return order


def cob_review_due(
    denial: DenialDecision | None, at: int, payers: list[Coverage], reviewed: set[str]
) -> bool:
    """Whether the denial of the claim billed to `payers[at]` reorders the payers: the payer
    says another payer is primary (X12 CARC 22, 109, 19-21: cob.denials routes them to a COB
    review), a later payer is in the order to bill first, and this coverage was not reviewed
    already (once per coverage, so two payers that each name the other cannot loop)."""
    return (
        denial is not None
        and denial.route == Route.COB_REVIEW
        and at + 1 < len(payers)
        and payers[at].key not in reviewed
    )


class CobReorder(Model):
    """The payers' order after a COB denial, the claims it sets aside, and why."""

    coverages: list[Coverage]
    decision: OrderDecision  # kept with the order's decisions for the audit trail
    set_aside: list[str]  # the denied claim's control numbers: kept, no longer part of the money

    @property
    def reason(self) -> str:
        return self.decision.rule


def reorder_after_cob_denial(
    payers: list[Coverage], at: int, denial: DenialDecision, denied_claims: list[str]
) -> CobReorder:
    """`payers[at]` denied its claim because another payer is primary (X12 CARC 22: "This
    care may be covered by another payer per coordination of benefits"). The next payer in the
    order is billed first, then this one again with the next payer's adjudication, as any
    secondary is; the denied claim is set aside: kept for the record, no longer part of the
    money. Swapping with the next payer only is industry practice: the rest of the order of
    benefits is kept."""
    denier, following = payers[at], payers[at + 1]
    why = (
        f"COB review: {denier.payer_id} denied {denial.explanation} as payer "
        f"{at + 1}; {following.payer_id} is billed first, then {denier.payer_id} again"
    )
    return CobReorder(
        coverages=[*payers[:at], following, denier, *payers[at + 2 :]],
        decision=OrderDecision(
            higher=following.key,
            lower=denier.key,
            rule=why,
            citation=f"X12 CARC {denial.reason_code}; rebilling order: industry practice",
        ),
        set_aside=list(denied_claims),
    )
