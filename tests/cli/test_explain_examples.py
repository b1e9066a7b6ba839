"""The explain examples a biller can run (examples/explain/), through the real command: a plan
that takes its own allowed amount as the allowable expense, and an out-of-network primary
before Medicare (no OTAF binds the provider)."""

import json

from tests.cli.test_cli import cob


def explained(name: str) -> dict:
    shown = cob("explain", "payment", f"examples/explain/{name}.json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_a_plan_on_its_own_allowable_pays_800_less_720_not_900_less_720():
    # charge 1,000; primary allowed 900, paid 720; the secondary allows 800 (NAIC MDL-120 §7)
    answer = explained("payment-own-allowable")
    assert answer["allowable_basis"] == "own" and answer["paid"] == "80.00"
    assert answer["patient_responsibility"] == "100.00"  # 180 left open - 80


def test_medicare_after_an_out_of_network_primary_pays_on_the_full_remaining_charge():
    # charge 200; primary (out of network) allowed 100, paid 80, PR 120; Medicare fee 150:
    # (1) 200 - 80 = 120 (no OTAF), (2) 150 x 80% = 120, (3) max(150, 100) - 80 = 70
    answer = explained("payment-out-of-network-before-medicare")
    assert answer["paid"] == "70.00" and answer["open_balance"] == "120.00"
    assert answer["decided_by"].startswith("test 3")
    steps = {step["name"]: step for step in answer["steps"]}
    test_1 = next(step for name, step in steps.items() if name.startswith("test 1"))
    assert "no OTAF" in test_1["formula"] and test_1["amount"] == "120.00"
