# One entry point. `make run` runs the service; `make test` runs the tests.
# Both create .venv and install what they need on first use (scripts/bootstrap).

VENV    ?= .venv
PY      := $(VENV)/bin/python
SHARED  ?= $(abspath ../shared)
# Translation packages: ../shared/models when it exists, unless NEWSINGEST_MODELS_DIR is set.
export NEWSINGEST_MODELS_DIR ?= $(if $(wildcard $(SHARED)/models),$(SHARED)/models,)

.PHONY: install run test lint typecheck check clean

install:
	@scripts/bootstrap

run: install
	$(VENV)/bin/newsingest run

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check service workers tests benchmarks
	$(VENV)/bin/ruff format --check service workers tests benchmarks

typecheck: install
	$(VENV)/bin/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
