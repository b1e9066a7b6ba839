"""What a plan pays on one line: as primary (`plan_benefit`, its normal benefit) and when it is
not primary (`secondary_payment`, by the COB method the plan declares).

Pure rules, no I/O: the payer simulator adjudicates with them, workflows may estimate with them,
and `cob explain payment` prints their working. The methods live in `cob.commercial_cob`,
`cob.medicare_secondary` and `cob.supplemental`; the shapes in `cob.payment_case`.
"""

from __future__ import annotations

from collections.abc import Callable

from cob.commercial_cob import (
    carve_out,
    exclusion,
    maintenance_of_benefits,
    non_duplication,
    standard,
    standard_with_credit_reserve,
)
from cob.medicare_secondary import medicare_secondary
from cob.model import CobMethod
from cob.normal_benefit import PlanBenefit, plan_benefit
from cob.payment_case import PaymentStep, PriorPayment, SecondaryPayment, SecondaryPaymentCase
from cob.supplemental import SUPPLEMENT_PAYS, medicaid_lesser_of, supplement

__all__ = [
    "SUPPLEMENT_PAYS",
    "PaymentStep",
    "PlanBenefit",
    "PriorPayment",
    "SecondaryPayment",
    "SecondaryPaymentCase",
    "plan_benefit",
    "secondary_payment",
]

METHODS: dict[CobMethod, Callable[[SecondaryPaymentCase], SecondaryPayment]] = {
    CobMethod.STANDARD: standard,  # DOMAIN.md §2.2
    CobMethod.STANDARD_WITH_CREDIT_RESERVE: standard_with_credit_reserve,  # §2.2
    CobMethod.NON_DUPLICATION: non_duplication,  # §2.3
    CobMethod.CARVE_OUT: carve_out,  # §2.4
    CobMethod.MAINTENANCE_OF_BENEFITS: maintenance_of_benefits,  # §2.4
    CobMethod.EXCLUSION: exclusion,  # §2.4
    CobMethod.MEDICARE_SECONDARY: medicare_secondary,  # §2.5
    CobMethod.SUPPLEMENT: supplement,  # §2.5
    CobMethod.MEDICAID_LESSER_OF: medicaid_lesser_of,  # §1.4
}


def secondary_payment(case: SecondaryPaymentCase) -> SecondaryPayment:
    """Split what the earlier payers left open on one line into this payer's payment, its
    write-off and what the patient still owes, by the plan's COB method, with the working.
    For payer N the earlier payers' payments add up and the highest allowed counts
    (DOMAIN.md §2.6)."""
    method = METHODS.get(case.method)
    if method is None:
        raise ValueError(f"no secondary payment rule for COB method {case.method!r}")
    return method(case)
