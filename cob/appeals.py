"""An appeal's inputs and outcome (DOMAIN.md §4.2, §4.4): what is appealed, what the team
files, what the reviewer decided, and how it ended. The levels and their windows are the
payer's `DeadlineRules.appeal_levels`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cob.deadlines import DeadlineRules
from cob.denials import DenialDecision
from cob.model import ClaimSubmission, Model, Remittance


class AppealRun(Model):
    claim_workflow_id: str  # whose ERA pick-ups carry the payer's answer
    submission: ClaimSubmission  # the claim as adjudicated
    denied: Remittance  # the initial determination being appealed (its 835)
    denial: DenialDecision
    rules: DeadlineRules
    era_poll_days: int = Field(default=1, gt=0)


class AppealFiling(Model):
    """The team filed the appeal at `level` (1 = the first), as `note` describes."""

    level: int = Field(gt=0)
    note: str = ""


class AppealDecision(Model):
    """The reviewer's decision on the filed level, as the team received it."""

    level: int = Field(gt=0)
    outcome: Literal["overturned", "upheld"]
    note: str = ""


# overturned: the payer paid on reprocessing (after its own or the reviewer's decision);
# upheld: every level upheld the denial; expired: a level's filing window closed unfiled
AppealResult = Literal["overturned", "upheld", "expired"]


class AppealOutcome(Model):
    result: AppealResult
    level: int
    reason: str
    remittance: Remittance | None = None
    steps: list[str] = []  # dated, as the engine took them
