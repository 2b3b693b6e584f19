# Shortcuts for the workspace. Every target runs through uv; `make help` lists them.
UV ?= python3 -m uv

.PHONY: help sync lint format typecheck test test-fast test-each bench ci

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

sync:  ## Install every member and the dev tools into .venv
	$(UV) sync --all-packages

lint:  ## ruff check and format check
	$(UV) run ruff check
	$(UV) run ruff format --check

format:  ## ruff fix and format
	$(UV) run ruff check --fix
	$(UV) run ruff format

typecheck:  ## basedpyright, strict over the sources and basic over the tests
	$(UV) run basedpyright
	$(UV) run basedpyright -p pyrightconfig.tests.json

test:  ## Every test, end to end and packaging included, on every core (the README's command)
	$(UV) run --all-packages pytest -n auto --dist loadfile

test-fast:  ## The quick loop: every test not marked slow, on every core
	$(UV) run --all-packages pytest -n auto --dist loadfile -m "not slow"

test-each:  ## Each member's tests in an environment of that member alone
	scripts/test-each

bench:  ## Benchmarks (slow; not part of the test run)
	$(UV) run --all-packages python benchmarks/server_startup.py

ci:  ## What CI runs, from installing uv on
	bash .ci/run
