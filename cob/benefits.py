"""What a plan pays on one line (see docs/secondary-payment.md): as primary (`plan_benefit`, its normal benefit) and when it is
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
    CobMethod.STANDARD: standard,  # NAIC MDL-120 §7
    CobMethod.STANDARD_WITH_CREDIT_RESERVE: standard_with_credit_reserve,  # WAC 284-51-230(1)
    CobMethod.NON_DUPLICATION: non_duplication,  # plan document
    CobMethod.CARVE_OUT: carve_out,  # plan document
    CobMethod.MAINTENANCE_OF_BENEFITS: maintenance_of_benefits,  # plan document
    CobMethod.EXCLUSION: exclusion,  # plan document
    CobMethod.MEDICARE_SECONDARY: medicare_secondary,  # 42 CFR 411.32, 411.33
    CobMethod.SUPPLEMENT: supplement,  # Medigap Plan G
    CobMethod.MEDICAID_LESSER_OF: medicaid_lesser_of,  # 42 USC 1396a(a)(25)
}


def secondary_payment(case: SecondaryPaymentCase) -> SecondaryPayment:
    """Split what the earlier payers left open on one line into this payer's payment, its
    write-off and what the patient still owes, by the plan's COB method, with the working.
    For payer N the earlier payers' payments add up and the highest allowed counts
    (industry practice; no rule found for a third payer)."""
    method = METHODS.get(case.method)
    if method is None:
        raise ValueError(f"no secondary payment rule for COB method {case.method!r}")
    return method(case)
