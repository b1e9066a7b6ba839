"""The stages a workflow reports (its status query, the CobStage search attribute, the
ClaimProgress signal a claim sends its encounter), one list for all three workflows."""

from __future__ import annotations

from enum import StrEnum

from cob.payer_faults import FAULT_KINDS, UNKNOWN_FAULT


class Stage(StrEnum):
    NEW = ""  # before the workflow's first step
    STARTING = "starting"  # asked before the workflow has run
    ELIGIBILITY = "eligibility"
    # The encounter's n-th claim is starting (its own stages follow, by ClaimProgress).
    CLAIM_1 = "claim_1"
    CLAIM_2 = "claim_2"
    CLAIM_3 = "claim_3"
    CLAIM_4 = "claim_4"
    CLAIM_5 = "claim_5"
    CLAIM_6 = "claim_6"
    CLAIM_7 = "claim_7"
    CLAIM_8 = "claim_8"
    CLAIM_9 = "claim_9"
    CLAIM_10 = "claim_10"
    PRIOR_AUTH = "prior_auth"
    SUBMITTED = "submitted"
    AWAITING_ACKNOWLEDGMENT = "awaiting_acknowledgment"
    AWAITING_REMITTANCE = "awaiting_remittance"
    AWAITING_CORRECTION = "awaiting_correction"
    APPEAL = "appeal"  # the window to file is open
    APPEAL_FILED = "appeal_filed"
    APPEAL_WON = "appeal_won"
    APPEAL_EXPIRED = "appeal_expired"
    ADJUDICATED = "adjudicated"
    DENIED = "denied"
    REJECTED = "rejected"
    HELD = "held"
    LOST = "lost"
    STATEMENT = "statement"
    CLOSED = "closed"
    # A payer call held on a fault (workflows/payer_calls.py): "held_<fault kind>".
    HELD_PAYER_UNAVAILABLE = "held_payer_unavailable"
    HELD_PAYER_ANSWER_UNREADABLE = "held_payer_answer_unreadable"
    HELD_PAYER_REFUSED_REQUEST = "held_payer_refused_request"
    HELD_REQUEST_NOT_WRITABLE = "held_request_not_writable"
    HELD_PAYER_CALL_FAILED = "held_payer_call_failed"
    # No order-of-benefits rule decides the payers' order: no claim goes out until a person
    # sets it (the encounter's set_order update). Not final: the encounter waits.
    HELD_ORDER_REVIEW = "held_order_review"

    @classmethod
    def billing_claim(cls, number: int) -> Stage:
        return cls(f"claim_{number}")

    @classmethod
    def held_on(cls, fault_kind: str) -> Stage:
        return cls(f"held_{fault_kind}")

    @property
    def is_appeal(self) -> bool:
        return self.value.startswith("appeal")


MAX_CLAIMS = 10  # a bound on claims per encounter, so COB reviews can never loop

# Where a claim workflow ends (its ClaimOutcome.result), and where an encounter ends.
CLAIM_FINAL = frozenset(
    {Stage.ADJUDICATED, Stage.DENIED, Stage.REJECTED, Stage.HELD, Stage.LOST}
)
ENCOUNTER_FINAL = frozenset({Stage.CLOSED, Stage.HELD, Stage.LOST})

assert {Stage.billing_claim(n) for n in range(1, MAX_CLAIMS + 1)} <= set(Stage)
assert {Stage.held_on(k.kind) for k in [*FAULT_KINDS.values(), UNKNOWN_FAULT]} <= set(Stage)
