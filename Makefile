# Everything a new machine needs, from Python 3.11 and pip alone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint histories chaos bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cob demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy cob

# Two processes, each test file whole on one of them (its module's servers and fixtures stay
# together): the tests mostly wait on real servers, so two halve the time on two cores.
test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Record the workflow histories that tests/workflows/test_replay.py replays, into
# tests/histories/$(VERSION)/ (after an intended, versioned change to a workflow; the
# folders of earlier versions stay and keep being replayed).
VERSION ?= latest
histories: $(STAMP)
	COB_RECORD_HISTORIES=$(VERSION) $(BIN)/python -m pytest tests/workflows/test_end_to_end.py

# The fault suite (tests/faults/): a few hundred encounters run without faults and again
# through a proxy that damages the payers' answers; exit 1 if any encounter is lost, done
# twice, unbalanced or different; then the input fuzz at size (3,000 mangled encounter files
# and 837s; exit 1 on any traceback). Not part of `make test` (both run there in small).
ENCOUNTERS ?= 300
SEED ?= 7
chaos: $(STAMP)
	$(BIN)/python -m tests.faults.run --encounters $(ENCOUNTERS) --seed $(SEED)
	$(BIN)/python -m tests.cli.test_input_fuzz

# The throughput benchmark (bench/run.py): its own dev server, simulator and workers; the
# reference workload and the pipeline in turn, ROUNDS times each. Not a test: it asserts
# nothing. `make bench N=1000`, `make bench LEDGER=postgresql`, `make bench HOLD=10000`.
N ?= 200
ROUNDS ?= 3
LEDGER ?= sqlite
HOLD ?= 0
bench: $(STAMP)
	$(BIN)/python -m bench --n $(N) --rounds $(ROUNDS) --ledger $(LEDGER) --hold $(HOLD) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .cob
