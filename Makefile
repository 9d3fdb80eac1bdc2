# Dexin: the README's two commands are `make demo` and `make test`.
# `make install` is idempotent: it does nothing when the lock files have not changed.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.installed
SCALE ?= 0.01
# `make demo PORT=8100` serves there (default: DEXIN_DEMO_PORT, else 8000); a port in use is
# refused before anything is built.
PORT ?=
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install demo cluster test test-all lint typecheck bench clean

help:
	@echo "make demo      build a synthetic Yuyao, ingest it into the encrypted vault, serve it (SCALE=$(SCALE), PORT=8000)"
	@echo "make cluster   the consortium on one machine, needs PostgreSQL: 3 answer workers (PORT=8100), the vault's owner (PORT+1), anvil, a witness, the IdP"
	@echo "make test      lint, type-check and run the default test suite"
	@echo "make test-all  the default suite plus the slow tests"
	@echo "make bench     the benchmarks under bench/ (scale 1.0: several minutes)"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# Bytecode is compiled at install, the dependencies' and the project's own: where the
# environment sets PYTHONDONTWRITEBYTECODE (this machine and its CI do), nothing else writes
# it, and every `dexin` call would compile its imports again (a group's --help: 0.6 s instead
# of 0.3 s; bench/cli.py). compileall rewrites only what changed since.
SOURCES := dexin vault ledger audit credit_model governance synthetic dexin_client \
	query-gateway/query_gateway

$(STAMP): Makefile pyproject.toml uv.lock $(wildcard package-lock.json) | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	@if [ -f package-lock.json ]; then npm ci --silent --no-audit --no-fund; fi
	@touch $@

install: $(STAMP)
	@$(VENV)/bin/python -m compileall -q -j 0 $(SOURCES) >/dev/null

demo: install
	$(VENV)/bin/dexin demo --scale $(SCALE) $(if $(PORT),--port $(PORT))

# `make cluster PORT=8200`: the answer workers there, the vault's owner on PORT+1, anvil on
# PORT+445 (defaults 8100, 8101, 8545), over ./.dexin-cluster (or DEXIN_HOME) and schema
# dexin_cluster of DEXIN_CLUSTER_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
cluster: install
	$(VENV)/bin/dexin cluster up --scale $(SCALE) $(if $(PORT),--port $(PORT) --owner-port $(shell echo $$(($(PORT)+1))) --ledger-port $(shell echo $$(($(PORT)+445))))

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

# The gateway's tests run a second time with the control plane on PostgreSQL (each run in a
# fresh schema of database `test`, dropped afterwards).
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test

test: lint typecheck
	$(VENV)/bin/pytest -m "not slow" -q
	DEXIN_TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/pytest -m "not slow" -q tests/gateway

test-all: lint typecheck
	$(VENV)/bin/pytest -q

bench: install
	$(VENV)/bin/python bench/ingest.py --scale 1.0

clean:
	rm -rf .dexin .pytest_cache .mypy_cache .ruff_cache
