"""What is left of the member's cost sharing as a claim's lines are priced in order: the
deductible, and the visit's copay. A payer and the engine's own expectation of it walk a
claim's lines the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cob.money import ZERO
from cob.normal_benefit import PlanBenefit


@dataclass
class CostSharingLeft:
    deductible: Decimal  # what is left of the member's deductible
    copay: Decimal  # the visit's copay, until a line has taken it

    def copay_on(self, procedure_code: str, copay_procedures: list[str]) -> Decimal:
        """The copay is per visit: due on the first line whose service it is for (the plan's
        terms name the services, office visits usually)."""
        return self.copay if procedure_code in copay_procedures else ZERO

    def take(self, benefit: PlanBenefit) -> None:
        """A line's normal benefit uses up its deductible and copay; a plan credits its
        deductible as it would have as primary, also when secondary (NAIC Coordination of
        Benefits Model Regulation (MDL-120) section 7)."""
        self.deductible -= benefit.deductible
        self.copay -= benefit.copay
