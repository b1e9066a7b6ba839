"""The patient account's collection cycle: which notice goes out on which day, how a pause
moves the steps still to come, payment plans, the 501(r) limits on a nonprofit hospital's
collection actions, and the No Surprises Act's patient-provider dispute window.

Pure functions of dates and amounts (no clock, no I/O), so the patient-account workflow can
set durable timers on what they return. Days are calendar days. The cycle's defaults are
industry practice, set per practice in `PracticePolicy`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator

from cob.model import Model


class DunningStep(StrEnum):
    """A step of the cycle, in order; the cycle ends with one of the last two."""

    STATEMENT = "statement"
    PAST_DUE = "past_due"
    SECOND_NOTICE = "second_notice"  # offers a payment plan
    FINAL_NOTICE = "final_notice"  # names the date of referral to collections
    COLLECTIONS = "collections"
    BAD_DEBT = "bad_debt"


class PracticePolicy(Model):
    """One practice's collection terms. The defaults are industry practice: a statement due in
    30 days, a notice every 30 days, collections 30 days after the final notice."""

    statement_due_days: int = Field(default=30, gt=0)
    # days from the first statement: statement 1, past due, second notice, final notice
    cycle_days: list[int] = Field(default_factory=lambda: [0, 30, 60, 90])
    collections_after_final_days: int = Field(default=30, gt=0)
    final_action: Literal["collections", "bad_debt"] = "collections"
    nonprofit_hospital: bool = False  # 26 CFR 1.501(r)-6 applies to its collection actions
    credit_reporting_allowed: bool = False
    small_balance_write_off: Decimal = Field(default=Decimal("5.00"), ge=0)  # at or under
    prompt_pay_discount_percent: Decimal = Field(default=Decimal("0"), ge=0, le=100)
    plan_grace_days: int = Field(default=15, ge=0)
    plan_min_installment: Decimal = Field(default=Decimal("25.00"), gt=0)
    financial_assistance_phone: str = ""
    financial_assistance_url: str = ""
    payment_phone: str = ""
    payment_url: str = ""
    payment_mail_address: str = ""

    @field_validator("cycle_days")
    @classmethod
    def _four_steps_in_order(cls, days: list[int]) -> list[int]:
        if len(days) != 4 or days[0] != 0 or days != sorted(set(days)):
            raise ValueError(
                f"cycle_days {days}: four increasing days from the first statement, starting "
                "at 0 (statement, past due, second notice, final notice)"
            )
        return days
