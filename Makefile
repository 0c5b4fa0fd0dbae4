# make demo · make test · make lint · make bench
# Each target creates (or reuses) .venv with `python3 -m venv` and installs what it needs,
# so a fresh machine with Python 3.10+ and make needs nothing else.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check

.PHONY: demo test lint bench emulator clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] < (3, 14) else "kimi-integrations needs Python 3.10 to 3.13; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=25.1"

# pip >= 25.1 installs PEP 735 dependency groups (--group).
$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[all]'
	@touch $@

$(VENV)/.stamp-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[all]' --group test
	@touch $@ $(VENV)/.stamp-run

$(VENV)/.stamp-lint: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[all]' --group lint
	@touch $@ $(VENV)/.stamp-test $(VENV)/.stamp-run

$(VENV)/.stamp-bench: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[all]' --group bench
	@touch $@ $(VENV)/.stamp-run

demo: $(VENV)/.stamp-run
	$(BIN)/python examples/demo.py

test: $(VENV)/.stamp-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.stamp-lint
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy

bench: $(VENV)/.stamp-bench
	$(BIN)/python benchmarks/run_all.py

emulator: $(VENV)/.stamp-run
	$(BIN)/kimi-emulator --port 8000

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .hypothesis
