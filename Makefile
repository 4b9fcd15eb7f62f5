# make demo · make test · make bench — each sets up what it needs first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: venv install deps check test demo bench clean

# The venv is (re)installed only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	@if ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	    echo "make: tracehound needs Python >= 3.11; '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo 'not found') (set PYTHON=...)" >&2; \
	    exit 1; }; \
	  echo "creating $(VENV) with $$($(PYTHON) --version 2>&1)"; \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	fi
	$(PIP) install -q -e '.[test]'
	@touch $(STAMP)

venv install: $(STAMP)

deps:
	@bash scripts/install-debian-deps.sh

# Lint (ruff) and types (mypy, strict on src/tracehound): what CI runs before the suite.
check: venv
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy

# Two workers (CI has two cores; the suite mostly waits on the servers its fixtures start). Each test
# file runs whole on one worker, the slowest first (tests/conftest.py). Serially: make test PYTEST_ARGS=-n0
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder
test: deps venv
	$(BIN)/python -m pytest -q --durations=30 $(PYTEST_ARGS)

demo: venv
	$(BIN)/tracehound demo --investigate

bench: deps venv
	$(BIN)/python benchmarks/loadgen.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
	find src tests benchmarks -name __pycache__ -type d -prune -exec rm -rf {} +
