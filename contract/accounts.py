"""What the patient account's workflow (workflows/patient_account.py) is started with, told,
asked and answers. Patient data (names, the lines of care) travels only in payloads, which
the payload codec encrypts; the account's id says nothing about the person."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from cob.accounts import AccountLine, Applied, PatientPayment
from cob.dunning import DunningStep, PaymentPlan, PlanStanding, PpdrStatus, PracticePolicy
from cob.model import Encounter, GoodFaithEstimate, Model, Remittance
from cob.money import ZERO, LineAccount
from cob.patient_statement import ProviderContact


def account_workflow_id(account_id: str) -> str:
    return f"account-{account_id}"


class BilledEncounter(Model):
    """An encounter that closed with a balance for the patient: every payer has adjudicated
    it (a statement never goes out while a payer is pending)."""

    encounter_id: str
    patient_name: str
    lines: list[AccountLine]
    self_pay: bool = False  # no payer adjudicated it
    estimate: GoodFaithEstimate | None = None  # a self-pay encounter's (45 CFR 149.610)


class AccountState(Model):
    """Everything the account knows, small enough to carry over a continue-as-new: balances
    and dates, never a document."""

    lines: list[AccountLine] = Field(default_factory=list)
    patients: dict[str, str] = Field(default_factory=dict)  # encounter id -> patient name
    credit: Decimal = ZERO  # patient money beyond every balance, until applied or refunded
    refund_due: Decimal = ZERO  # the part of the credit a refund task asks to pay back
    refunded: Decimal = ZERO
    payments: list[PatientPayment] = Field(default_factory=list)
    first_billed: dict[str, date] = Field(default_factory=dict)  # encounter id -> statement
    cycle_start: date | None = None  # the cycle's first statement; None: no cycle running
    steps_taken: int = 0
    pauses: list[tuple[date, date | None]] = Field(default_factory=list)  # (from, resumed)
    disputes: dict[str, str] = Field(default_factory=dict)  # open: dispute id -> reason
    dispute_ids: list[str] = Field(default_factory=list)  # every dispute id ever opened
    last_statement: date | None = None
    last_amount_due: Decimal = ZERO
    statements: list[tuple[date, DunningStep]] = Field(default_factory=list)
    plan: PaymentPlan | None = None  # an active payment plan
    plan_paid: Decimal = ZERO  # paid since the plan began, toward its installments
    plan_reminded: list[int] = Field(default_factory=list)  # installments reminded of
    plan_ids: list[str] = Field(default_factory=list)  # every plan agreed, by id
    assistance: dict[str, date] = Field(default_factory=dict)  # pending applications
    assistance_ids: list[str] = Field(default_factory=list)  # every application, by id
    estimates: dict[str, GoodFaithEstimate] = Field(default_factory=dict)  # by encounter
    ppdr: dict[str, PpdrStatus] = Field(default_factory=dict)  # eligible encounters
    reposted: list[str] = Field(default_factory=list)  # repost ids taken in


class AccountRun(Model):
    account_id: str
    guarantor_name: str
    provider: ProviderContact
    policy: PracticePolicy = Field(default_factory=PracticePolicy)
    payer_names: dict[str, str] = Field(default_factory=dict)
    state: AccountState = Field(default_factory=AccountState)  # after a continue-as-new
    # events after which the account continues as new, if Temporal has not suggested it
    # before (its suggestion comes near its own limits, far above this)
    history_limit: int = Field(default=5_000, ge=50)
    generation: int = Field(default=1, ge=1)  # code generation (workflows/versions.py)


class JoinAccount(Model):
    """The encounter's close, for the account: built by the encounter workflow."""

    encounter_workflow_id: str
    encounter: Encounter
    lines: list[LineAccount]
    remittances: list[Remittance]


class StatementRequest(Model):
    run: AccountRun  # its state as of the statement
    step: DunningStep
    statement_date: date
    due_date: date
    collections_on: date | None = None
    assistance_deadline: date | None = None


class StatementIssued(Model):
    pdf_path: str
    text_path: str
    amount_due: Decimal


class AccountTask(Model):
    kind: str  # refund_due, dispute, collections_referral
    reason: str
    due: date
    encounter_id: str  # the encounter it is about (the oldest with a balance)


class AccountStep(Model):
    """One dated step of the account, for the audit trail; with `task`, a worklist task."""

    workflow_id: str
    step: str  # unique within the account: the audit event's step
    kind: str
    on: date
    detail: dict[str, str] = Field(default_factory=dict)
    task: AccountTask | None = None
    closes_kind: str | None = None  # the account's open tasks of this kind are done


class PaymentReceipt(Model):
    payment_id: str
    amount: Decimal
    applied: list[Applied]
    credit: Decimal
    balance: Decimal
    duplicate: bool = False  # the payment was posted before: this is its first receipt


class Dispute(Model):
    dispute_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")
    reason: str = Field(min_length=1, max_length=500)
    by: str = ""


class DisputeResolution(Model):
    dispute_id: str
    outcome: Literal["upheld", "adjusted"]
    amount: Decimal = Field(default=ZERO, ge=0)  # written off when adjusted
    encounter_id: str | None = None
    note: str = ""
    by: str = ""


class RefundMade(Model):
    """A person paid back (part of) the account's credit."""

    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    on: date
    reference: str = Field(min_length=1, max_length=80)  # the check number, the card refund id
    by: str = ""


class AssistanceApplication(Model):
    """The guarantor applied for financial assistance: the cycle waits for the decision."""

    application_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")
    received_on: date
    by: str = ""


class AssistanceDecision(Model):
    """The practice's decision under its financial-assistance policy: approved writes off
    `percent` of what the account owes (charity care), denied resumes the cycle."""

    application_id: str
    outcome: Literal["approved", "denied"]
    percent: Decimal = Field(default=Decimal("100"), gt=0, le=100)
    note: str = ""
    by: str = ""


class RepostLine(Model):
    """One line's payer side after a payer's late 835 or reversal, and the patient's share
    its last payer now leaves."""

    line_number: int
    paid_by_payer: dict[str, Decimal]
    payer_adjustments: Decimal
    responsibility: dict[str, Decimal]


class Repost(Model):
    repost_id: str = Field(pattern=r"^[A-Za-z0-9._:/-]{1,120}$")  # once per 835 and claim
    encounter_id: str
    lines: list[RepostLine]
    reason: str
    by: str = ""


class AccountStatus(Model):
    account_id: str
    balance: Decimal
    credit: Decimal
    refund_due: Decimal
    cycle_start: date | None
    steps_taken: int
    next_step: DunningStep | None
    next_step_on: date | None
    paused: bool
    open_disputes: list[str]
    statements: list[tuple[date, DunningStep]]
    encounters: list[str]
    plan: PaymentPlan | None = None
    plan_standing: PlanStanding | None = None
    assistance_pending: list[str] = Field(default_factory=list)
    ppdr: dict[str, PpdrStatus] = Field(default_factory=dict)  # encounters eligible to dispute
    busy: bool = False  # steps still being written to the ledger or a statement
