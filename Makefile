# Queijaria PCP. `make demo` and `make test` work on a fresh clone with Python 3.11 and make.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# Every dbt call sees the same server as the Python tools: DATABASE_URL becomes PG* variables here (every
# value shell-quoted). The assignment stops the recipe when `db env` fails, which a bare eval "$(...)" hides.
DBT := exports="$$($(BIN)/queijaria db env)" && eval "$$exports" && $(BIN)/dbt
GENERATE_ARGS ?=
LOAD_ARGS ?=
BENCH_OUT ?= target/bench.json
DOCS_PORT ?= 8080
DAYS ?= 1

.PHONY: help install demo test test-deep test-durations generate load build docs docs-generate report bench lint clean db-up db-down db-reset db-status \
	preview dashboards exposures daily serve-daily spark-install test-spark

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(INSTALLED): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version.split()[0] + " at " + sys.executable + "; run make PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# requirements.txt pins every package: nothing is left to resolve, and `pip check` proves the set complete
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m pip check --disable-pip-version-check
	@touch $@

install: $(INSTALLED) ## create .venv and install the pinned dependencies (only when they changed)

db-up: $(INSTALLED) ## start the embedded PostgreSQL (safe to call twice)
	@$(BIN)/queijaria db up

db-down: $(INSTALLED) ## stop the embedded PostgreSQL
	@$(BIN)/queijaria db down

db-reset: $(INSTALLED) ## delete the embedded database and start it empty
	@$(BIN)/queijaria db reset

db-status: $(INSTALLED) ## say whether the embedded PostgreSQL runs
	@$(BIN)/queijaria db status

generate: db-up ## simulate the plant (GENERATE_ARGS="--days 365 ...") and COPY it into the raw schema
	$(BIN)/queijaria generate $(GENERATE_ARGS)
	$(BIN)/queijaria load $(LOAD_ARGS)

load: db-up ## COPY the generated CSVs into the raw schema again
	$(BIN)/queijaria load $(LOAD_ARGS)

build: db-up ## dbt build: seeds, models and every data test
	$(DBT) build

demo: generate build ## the whole demo: install, database, generate, load, build, KPI summary, dashboards preview
	@$(BIN)/queijaria summary
	@$(BIN)/queijaria preview

daily: db-up ## the daily flow, now (Prefect, no server needed): next day simulated, loaded, built, reported; DAYS=30 backfills
	$(BIN)/queijaria daily --days $(DAYS)

serve-daily: db-up ## serve the daily flow on its schedule (06:30 America/Sao_Paulo) until stopped; see README
	$(BIN)/queijaria daily --serve

preview: db-up ## render dashboards/*.yml from the marts to one offline HTML page (target/preview/dashboards.html)
	@$(BIN)/queijaria preview

report: db-up ## export the shortage report to reports/faltas_reserva_report.csv
	$(BIN)/queijaria report

dashboards: db-up ## the read-only role and the dashboards in Metabase (MB_URL, MB_USER, MB_PASSWORD; see README)
	@$(BIN)/queijaria dashboards reader
	@$(BIN)/queijaria dashboards provision

exposures: $(INSTALLED) ## regenerate the dbt exposures (models/exposures/) from dashboards/*.yml
	@$(BIN)/queijaria dashboards exposures

docs-generate: db-up
	$(DBT) docs generate

docs: docs-generate ## dbt docs: generate and serve (lineage, ending in the dashboards' exposures) on DOCS_PORT
	@echo "dbt docs on http://localhost:$(DOCS_PORT) (Ctrl-C to stop)"
	$(DBT) docs serve --port $(DOCS_PORT) --no-browser

lint: $(INSTALLED) ## ruff and sqlfluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint --processes 2 models tests analyses

test: db-up ## every test: lint, pytest (with dbt builds) on fresh databases, in parallel; the 15 slowest listed
	$(BIN)/pytest

test-durations: db-up ## run the tests and record how long each took (tests/python/durations.json: the order they run in)
	QUEIJARIA_RECORD_DURATIONS=1 $(BIN)/pytest

test-deep: db-up ## the same with 10x the property tests' examples (hypothesis profile "deep"); takes longer
	QUEIJARIA_HYPOTHESIS_PROFILE=deep $(BIN)/pytest

bench: db-up ## benchmarks; figures printed and written to BENCH_OUT (default target/bench.json)
	BENCH_OUT=$(BENCH_OUT) $(BIN)/python -m benchmarks

SPARK_INSTALLED := $(VENV)/.spark-installed
$(SPARK_INSTALLED): $(INSTALLED) requirements-spark.txt
	@command -v java >/dev/null || { echo "Spark needs Java 17 or newer (e.g. apt-get install openjdk-17-jre-headless)"; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-spark.txt
	$(BIN)/python -m pip check --disable-pip-version-check
	@touch $@

spark-install: $(SPARK_INSTALLED) ## add the optional Spark engine (dbt-spark, a local PySpark) to .venv

test-spark: spark-install db-up ## the Spark tests (tests/spark): the Spark loader and engine parity
	$(BIN)/pytest tests/spark --numprocesses=0

clean: ## stop the database, remove generated data, dbt artefacts and the virtual environment
	-@test -x $(BIN)/queijaria && $(BIN)/queijaria db down
	rm -rf $(VENV) .pgdata .spark data reports target target_* logs .pytest_cache .ruff_cache .hypothesis
