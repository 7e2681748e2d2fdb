# The two commands of the README, and the tools around them. `make help` lists them.
.DEFAULT_GOAL := help
PY := .venv/bin/python

.PHONY: help run test lint format bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: ## Install what is missing and run the product on the embedded default (Ctrl-C stops)
	@bash scripts/run.sh

test: ## Install what tests need and run the whole suite on PostgreSQL, Redis and real IPP peers
	@bash scripts/test.sh $(ARGS)

lint: ## ruff (lint and format check) and mypy
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy .

format: ## Format the code with ruff
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

bench: ## Run the benchmarks in bench/ (figures go to bench/RESULTS.md by hand)
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done
