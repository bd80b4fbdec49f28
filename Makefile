# One entry point. `make run` runs the service; `make test` runs the tests.
# Both create .venv and install what they need on first use (scripts/bootstrap).

VENV    ?= .venv
PY      := $(VENV)/bin/python
SHARED  ?= $(abspath ../shared)
# Translation packages: ../shared/models when it exists, unless NEWSINGEST_MODELS_DIR is set.
export NEWSINGEST_MODELS_DIR ?= $(if $(wildcard $(SHARED)/models),$(SHARED)/models,)

.PHONY: install run test lint typecheck check check-imports clean reliability fuzz soak smoke hadolint compose-check

install:
	@scripts/bootstrap

# `models check` says which required packages are missing and how to get them
# (`newsingest models download zh ko`); the service runs without them (missing_model).
run: install
	@$(VENV)/bin/newsingest models check || true
	$(VENV)/bin/newsingest run

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check service workers tests benchmarks devtools scripts/check-imports
	$(VENV)/bin/ruff format --check service workers tests benchmarks devtools scripts/check-imports

# The house: no import cycles, service/ never imports workers/, no module over 500 lines.
check-imports:
	python3 scripts/check-imports

typecheck: install
	$(VENV)/bin/mypy

check: lint typecheck check-imports test

# Fault injection with real processes (tests/reliability): prints the report table.
reliability: install
	$(PY) -m pytest tests/reliability

fuzz: install
	$(PY) scripts/fuzz-atheris --seconds 60

soak: install
	$(PY) benchmarks/soak.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info

# The image and the compose stack (docs/operations.md). `smoke` builds the image with podman,
# runs the stack and checks two documents end to end (1-2 min; about 3 min from nothing).
smoke:
	SHARED=$(SHARED) scripts/smoke-test

hadolint: install
	$(VENV)/bin/hadolint Dockerfile

COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
compose-check:
	REDIS_PASSWORD=compose-check $(COMPOSE) -f compose.yaml config -q
	REDIS_PASSWORD=compose-check $(COMPOSE) -f compose.yaml -f compose.ci.yaml config -q
