PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test deps venv bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

deps:
	./scripts/install-debian-deps.sh

demo: venv
	$(BIN)/tracehound demo

test: deps venv
	$(BIN)/python -m pytest -q

bench: deps venv
	$(BIN)/python benchmarks/loadgen.py

clean:
	rm -rf $(VENV) .tracehound .pytest_cache build dist src/*.egg-info
