"""The payers we pretend to be: a clearinghouse over HTTP speaking X12 5010 for every payer
in the engine's directory, with each plan's private terms (`plan_terms/`) and its own SQLite
state. Started by `cob payers serve`, the demo and the tests; the engine never imports it
(tests/test_layout.py), and reaches it only over HTTP, as it would a real clearinghouse."""
