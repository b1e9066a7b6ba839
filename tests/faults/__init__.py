"""The fault suite (`make chaos`): a proxy that damages the payers' answers on the wire
(proxy.py, by a seeded plan in plan.py), encounters made from examples/ (encounters.py),
what an encounter's outcome is and the ledger's invariants (outcomes.py), and the runner
that runs the same encounters without and with the proxy and compares them (run.py)."""
