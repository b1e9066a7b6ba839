"""Medicare Secondary Payer: on which side of Medicare a commercial plan pays (42 USC 1395y(b)).

The MSP statute overrides the NAIC rules wherever Medicare is involved (see docs/order-of-benefits.md). It
also carries out NAIC's Medicare reversal (rule 1a): a spouse's active plan lands ahead of
Medicare and the person's own retiree plan behind it, whatever NAIC rule 1 would say.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from cob.model import Coverage, Employment, MedicareBasis, Person, Relationship
from cob.naic import Rule

MSP_WORKING_AGED = Rule("msp_working_aged", "42 USC 1395y(b)(1)(A)")
MSP_DISABILITY = Rule("msp_disability_large_group", "42 USC 1395y(b)(1)(B)")
MSP_ESRD_COORDINATION = Rule(
    "msp_esrd_coordination_period", "42 USC 1395y(b)(1)(C) (30-month coordination period)"
)
MSP_ESRD_AFTER = Rule(
    "msp_esrd_after_coordination_period", "42 USC 1395y(b)(1)(C) (30-month coordination period)"
)
MSP_ESRD_UNKNOWN = Rule("msp_esrd_manual_review", "42 USC 1395y(b)(1)(C)")
MSP_BASIS_UNKNOWN = Rule("msp_basis_unknown_manual_review", "42 USC 1395y(b)(1)")
MSP_SIZE_UNKNOWN = Rule("msp_employer_size_unknown_manual_review", "42 USC 1395y(b)(1)(A)(ii)")
MSP_RETIREE = Rule("msp_retiree", "42 USC 1395y(b)(1)(E)(ii)")
MSP_COBRA = Rule("msp_cobra", "COBRA is not current employment, 42 USC 1395y(b)(1)(E)(ii)")
MSP_SMALL_EMPLOYER = Rule("msp_small_employer", "42 USC 1395y(b)(1)(A)(ii), (B)")
MSP_MEDICARE_PRIMARY = Rule("msp_medicare_primary", "42 USC 1395y(b)(1)(E)(ii)")
MSP_NOT_GROUP_PLAN = Rule(
    "msp_not_group_health_plan", "42 USC 1395y(b)(1)(A)-(C) bind group plans only"
)

ESRD_COORDINATION_MONTHS = 30  # items and services on or after 1997-08-05; 1395y(b)(1)(C)
WORKING_AGED_MIN_EMPLOYEES = 20  # 1395y(b)(1)(A)(ii)
LARGE_GROUP_MIN_EMPLOYEES = 100  # 1395y(b)(1)(B)(iii); 26 USC 5000(b)(2)


class MspPlacement(NamedTuple):
    rule: Rule
    group_primary: bool  # the commercial plan pays before Medicare
    manual_review: bool = False


def age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def esrd_coordination_period_end(entitlement: date) -> date:
    """The first day after the 30-month coordination period, which begins with the month of
    entitlement (42 USC 1395y(b)(1)(C); entitled Dec 2011 → Medicare primary from 2014-06-01)."""
    months = entitlement.year * 12 + entitlement.month - 1 + ESRD_COORDINATION_MONTHS
    return date(months // 12, months % 12 + 1, 1)


def medicare_basis(patient: Person, medicare: Coverage, dos: date) -> MedicareBasis | None:
    """Why the person has Medicare, for MSP: ESRD rules win; at 65 disability becomes age."""
    basis = medicare.medicare_basis
    if basis is MedicareBasis.ESRD:
        return basis
    if basis is MedicareBasis.AGE or age_on(patient.birth_date, dos) >= 65:
        return MedicareBasis.AGE
    return basis


def msp_placement(patient: Person, medicare: Coverage, plan: Coverage, dos: date) -> MspPlacement:
    """Where a commercial plan sits relative to Medicare on the date of service."""
    basis = medicare_basis(patient, medicare, dos)
    if plan.subscriber_employment is Employment.NONE:
        # Not employer-sponsored: MSP makes only group health plans primary.
        return MspPlacement(MSP_NOT_GROUP_PLAN, group_primary=False)
    if basis is MedicareBasis.ESRD:
        return _esrd_placement(medicare, dos)
    if basis is None:
        # Under 65 with no basis: disability or ESRD. Place it as disability, and ask.
        guess = _employment_placement(MedicareBasis.DISABILITY, plan)
        return MspPlacement(MSP_BASIS_UNKNOWN, guess.group_primary, manual_review=True)
    return _employment_placement(basis, plan)


def _esrd_placement(medicare: Coverage, dos: date) -> MspPlacement:
    # Any group plan (active, retiree, COBRA) is primary during the coordination period.
    entitlement = medicare.medicare_entitlement_date
    if entitlement is None:
        # The period cannot be counted; billing the group plan first is the MSP-safe guess.
        return MspPlacement(MSP_ESRD_UNKNOWN, group_primary=True, manual_review=True)
    if dos < esrd_coordination_period_end(entitlement):
        return MspPlacement(MSP_ESRD_COORDINATION, group_primary=True)
    return MspPlacement(MSP_ESRD_AFTER, group_primary=False)


def _employment_placement(basis: MedicareBasis, plan: Coverage) -> MspPlacement:
    employment = plan.subscriber_employment
    if employment is Employment.RETIRED:
        return MspPlacement(MSP_RETIREE, group_primary=False)
    if employment is Employment.COBRA:
        return MspPlacement(MSP_COBRA, group_primary=False)
    # Working aged: own or spouse's employment; disability: own or a family member's.
    family = {Relationship.SELF, Relationship.SPOUSE}  # 42 USC 1395y(b)(1)(A)(i)
    if basis is MedicareBasis.DISABILITY:
        family.add(Relationship.CHILD)  # 42 USC 1395y(b)(1)(B)(i)
    if employment is not Employment.ACTIVE or plan.relationship not in family:
        return MspPlacement(MSP_MEDICARE_PRIMARY, group_primary=False)  # laid off, or not family
    if plan.employer_size is None:
        # Billing the group plan first is the MSP-safe guess; a person confirms the size.
        return MspPlacement(MSP_SIZE_UNKNOWN, group_primary=True, manual_review=True)
    if basis is MedicareBasis.AGE:
        threshold, rule = WORKING_AGED_MIN_EMPLOYEES, MSP_WORKING_AGED
    else:
        threshold, rule = LARGE_GROUP_MIN_EMPLOYEES, MSP_DISABILITY
    if plan.employer_size < threshold:
        return MspPlacement(MSP_SMALL_EMPLOYER, group_primary=False)
    return MspPlacement(rule, group_primary=True)
