"""A simulated plan states its allowable basis in its 271, as it states its COB method, so the
engine's expected payment uses the basis the plan pays by."""

from datetime import date

from cob.model import AllowableBasis
from payers.simulator.claim_store import ClaimStore
from payers.simulator.claims_desk import benefits_for
from payers.simulator.plans import load_profiles


def test_a_plan_paying_on_its_own_allowed_says_so_in_its_benefits(tmp_path):
    plan = load_profiles()["ACME01"].model_copy(update={"allowable_basis": AllowableBasis.OWN})
    benefits = benefits_for(ClaimStore(tmp_path / "payers.db"), plan, "ACM100200300", date(2026, 3, 2))
    assert benefits.active and benefits.allowable_basis == AllowableBasis.OWN


def test_the_example_plans_pay_on_the_higher_of_the_allowed_amounts(tmp_path):
    store = ClaimStore(tmp_path / "payers.db")
    plan = load_profiles()["ACME01"]
    assert benefits_for(store, plan, "ACM100200300", date(2026, 3, 2)).allowable_basis == (
        AllowableBasis.HIGHER_OF
    )
