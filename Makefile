# make demo · make test · make lint · make bench     (the locked set, uv.lock, in .venv)
# make test-lowest · make test-latest                 (the lowest and the newest versions our
#                                                      ranges allow, in .venv-lowest / .venv-latest)
# make lock                                           (refresh uv.lock to the newest releases)
# make test-clients                                   (popular clients against the emulator, in
#                                                      .venv-clients from their own lock)
#
# A fresh machine needs only Python 3.10-3.13 and make: uv (pinned below) is installed with
# pip into .uv/, a virtualenv of its own, and installs everything else from PyPI.
# PYTHON=python3.10 (or a path) picks the interpreter of every target; an environment made
# with another version is made anew.

PYTHON     ?= python3
VENV       ?= .venv
UV_VERSION := 0.13.9
UV_DIR     := .uv
UV         := $(UV_DIR)/bin/uv
BIN        := $(VENV)/bin

# uv reads no pip configuration: PyPI is the index, as on a user's machine and in CI.
# It never downloads an interpreter: it uses $(PYTHON).
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS      := 1
# Copies, not hard links into uv's cache: nltk (under llama-index-core) refuses to read a
# file with more than one link.
export UV_LINK_MODE        := copy
# Bytecode compiled at install time, as pip does: the suite starts many interpreters (the
# examples, the docs), and where PYTHONDONTWRITEBYTECODE is set each would compile anew.
export UV_COMPILE_BYTECODE := 1

# The interpreter $(PYTHON) names (its path and version), or the reason it cannot be used.
PY_EXE = $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
PY_VERSION = $(shell $(PYTHON) -c 'import sys; print(".".join(map(str, sys.version_info[:3])))')
PY_CHECK = @$(PYTHON) -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] < (3, 14) else "kimi-integrations needs Python 3.10 to 3.13; set PYTHON=python3.x")'

# $(call fresh,DIR): remove the environment DIR when its Python is not $(PYTHON)'s version.
define fresh
	@if [ -x $(1)/bin/python ] && [ "$$($(1)/bin/python -c 'import sys; print(".".join(map(str, sys.version_info[:3])))')" != "$(PY_VERSION)" ]; then \
		echo "$(1) has another Python than $(PYTHON) ($(PY_VERSION)): making it anew"; rm -rf $(1); fi
endef

# $(call sync,GROUP OPTIONS): the locked set (extras all, plus the groups named) in $(VENV).
# Every package the target needs is put at its locked version (up or down); nothing is
# removed (--inexact): the other targets' groups and what you installed yourself stay, so
# the targets run in any order and none undoes another (each needs only what it syncs; a
# package of yours that pulls a locked one to another version is put back at the lock's).
# pip is given to $(VENV) once, from the standard library (ensurepip, no download), so
# `.venv/bin/python -m pip install X` is the way to add a package of your own.
# --locked: a uv.lock that no longer matches pyproject.toml is an error (run make lock),
# never a silent re-resolution.
define sync
	$(PY_CHECK)
	$(call fresh,$(VENV))
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --locked --inexact --all-extras --no-default-groups --python $(PY_EXE) $(1)
	@[ -x $(BIN)/pip ] || $(BIN)/python -m ensurepip --default-pip >/dev/null
endef

# $(call resolve,DIR,RESOLUTION,WHAT): WHAT (pip-style arguments) in DIR, resolved from PyPI
# now with uv's RESOLUTION, ignoring uv.lock: "lowest-direct" puts every direct dependency at
# the lowest version its range allows, "highest" takes the newest releases. Exactly: what
# WHAT does not need is removed. The versions that matter are printed.
define resolve
	$(PY_CHECK)
	$(call fresh,$(1))
	@[ -x $(1)/bin/python ] || $(UV) venv --quiet --python $(PY_EXE) $(1)
	$(UV) pip install --quiet --exact --upgrade --resolution $(2) --python $(1)/bin/python $(3)
	@$(UV) pip list --python $(1)/bin/python | awk 'NR>2 && $$1 ~ /^(httpx|pydantic|pydantic-core|langchain-core|llama-index-core|langchain|langgraph|langchain-tests|openai|pytest|pytest-asyncio|vcrpy|hypothesis)$$/ {printf "%s %s  ", $$1, $$2} END {print ""}'
endef

.PHONY: demo test lint bench emulator test-lowest test-latest lock clean test-clients lock-clients

$(UV):
	$(PY_CHECK)
	$(PYTHON) -m venv $(UV_DIR)
	$(UV_DIR)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

demo: | $(UV)
	$(call sync,)
	$(BIN)/python examples/demo.py

test: | $(UV)
	$(call sync,--group test)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: | $(UV)
	$(call sync,--group lint)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy

bench: | $(UV)
	$(call sync,--group bench)
	$(BIN)/python benchmarks/run_all.py

emulator: | $(UV)
	$(call sync,)
	$(BIN)/kimi-emulator --port 8000

# The lowest versions, twice: kimi_core alone with its own tests (the adapters' packages
# need newer httpx and pydantic than kimi_core's floors), then the whole suite.
test-lowest: | $(UV)
	$(call resolve,.venv-lowest-core,lowest-direct,-e . --group test-core)
	.venv-lowest-core/bin/python -m pytest tests/core tests/fixtures $(PYTEST_ARGS)
	$(call resolve,.venv-lowest,lowest-direct,-e '.[all]' --group test)
	.venv-lowest/bin/python -m pytest $(PYTEST_ARGS)

test-latest: | $(UV)
	$(call resolve,.venv-latest,highest,-e '.[all]' --group test)
	.venv-latest/bin/python -m pytest $(PYTEST_ARGS)

lock: | $(UV)
	$(UV) lock --upgrade

# Third-party clients as witnesses (tests_clients/): the openai SDK, litellm, pydantic-ai,
# instructor and openai-agents against the emulator, in .venv-clients, installed exactly from
# their own lock (tests_clients/requirements.txt; make lock-clients refreshes it): uv.lock,
# .venv and make test are left alone. pytest runs from tests_clients/ with its own pytest.ini.
CLIENTS_VENV := .venv-clients
test-clients: | $(UV)
	$(PY_CHECK)
	$(call fresh,$(CLIENTS_VENV))
	@[ -x $(CLIENTS_VENV)/bin/python ] || $(UV) venv --quiet --python $(PY_EXE) $(CLIENTS_VENV)
	$(UV) pip sync --quiet --python $(CLIENTS_VENV)/bin/python tests_clients/requirements.txt
	@$(UV) pip list --python $(CLIENTS_VENV)/bin/python | awk 'NR>2 && $$1 ~ /^(openai|litellm|pydantic-ai-slim|instructor|openai-agents|pytest)$$/ {printf "%s %s  ", $$1, $$2} END {print ""}'
	cd tests_clients && $(abspath $(CLIENTS_VENV))/bin/python -m pytest $(PYTEST_ARGS)

lock-clients: | $(UV)
	$(UV) pip compile --quiet --universal --python-version 3.10 --upgrade tests_clients/requirements.in -o tests_clients/requirements.txt

clean:
	rm -rf $(VENV) .venv-lowest-core .venv-lowest .venv-latest $(CLIENTS_VENV) $(UV_DIR) build dist .mypy_cache .ruff_cache .hypothesis
