# cloudcost: `make demo` runs the AWS pipeline end to end on the embedded default (DuckDB + local
# folders); `make test` runs the whole suite. Both install what they need into .venv first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
AIRFLOW_HOME := $(CURDIR)/.airflow
DEMO_ORG ?= demo
DEMO_FROM ?= 2026-11-01
DEMO_TO ?= 2026-11-03
# The demo data holds one more day, still being exported (partial, refused by every sensor), and a week of
# history before DEMO_FROM, loaded in-process, that the anomaly baseline and the budget forecast need.
DEMO_INCOMPLETE = $(shell date -u -d "$(DEMO_TO) + 1 day" +%F)
DEMO_HISTORY_FROM ?= 2026-10-25
DEMO_HISTORY_TO = $(shell date -u -d "$(DEMO_FROM) - 1 day" +%F)
DEMO_REPORT ?= data/demo-report.html
export AIRFLOW_HOME
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint typecheck install lock airflow-home validator azurite clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

# airflow.cfg keeps its generated JWT secret across rewrites; airflow-config creates airflow.db empty and 0600, and
# `db migrate` fills it (hence test -s); the provider API pools of the billing.yml files are
# (re)imported when they change, so a scheduler started on this home runs the pooled tasks.
airflow-home: install
	@$(BIN)/cloudcost airflow-config --home $(AIRFLOW_HOME) > /dev/null
	@test -s $(AIRFLOW_HOME)/airflow.db || (rm -f $(AIRFLOW_HOME)/pools.json; $(BIN)/airflow db migrate \
		> $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/db-migrate.log; exit 1))
	@$(BIN)/cloudcost airflow-pools --out $(AIRFLOW_HOME)/pools.json.new > /dev/null
	@cmp -s $(AIRFLOW_HOME)/pools.json.new $(AIRFLOW_HOME)/pools.json || ($(BIN)/airflow pools import \
		$(AIRFLOW_HOME)/pools.json.new > $(AIRFLOW_HOME)/pools-import.log 2>&1 \
		|| (cat $(AIRFLOW_HOME)/pools-import.log; exit 1)) && mv $(AIRFLOW_HOME)/pools.json.new $(AIRFLOW_HOME)/pools.json

demo: airflow-home
	$(BIN)/cloudcost demo credentials --org $(DEMO_ORG)
	$(BIN)/cloudcost demo generate --org $(DEMO_ORG) --from $(DEMO_HISTORY_FROM) --to $(DEMO_INCOMPLETE) \
		--incomplete-last-day
	$(BIN)/cloudcost demo history --org $(DEMO_ORG) --from $(DEMO_HISTORY_FROM) --to $(DEMO_HISTORY_TO) \
		> $(AIRFLOW_HOME)/demo-history.log 2>&1 || (tail -n 60 $(AIRFLOW_HOME)/demo-history.log; exit 1)
	@grep -E "^history " $(AIRFLOW_HOME)/demo-history.log
	$(BIN)/cloudcost demo run --org $(DEMO_ORG) --from $(DEMO_FROM) --to $(DEMO_TO) > $(AIRFLOW_HOME)/demo-run.log 2>&1 \
		|| (tail -n 60 $(AIRFLOW_HOME)/demo-run.log; exit 1)
	@grep -E "^(cloud_|cost_rollups)" $(AIRFLOW_HOME)/demo-run.log
	@# the weekly FOCUS referee, once, on each provider's latest 3 days (needs the validator: make validator)
	@if test -x $(VENV)-validator/bin/focus-validator; then \
		$(BIN)/cloudcost demo run --org $(DEMO_ORG) --dag-id focus_conformance --from $(DEMO_TO) --to $(DEMO_TO) \
			> $(AIRFLOW_HOME)/demo-referee.log 2>&1 || (tail -n 60 $(AIRFLOW_HOME)/demo-referee.log; exit 1); \
		grep -E "^focus_conformance" $(AIRFLOW_HOME)/demo-referee.log; \
	else echo "focus_conformance: not run (no $(VENV)-validator; make validator installs the FOCUS referee)"; fi
	$(BIN)/cloudcost summary --org $(DEMO_ORG)
	@echo "Export status of $(DEMO_INCOMPLETE), planted incomplete (the sensors wait for it; not loaded):"
	@$(BIN)/cloudcost status --org $(DEMO_ORG) --from $(DEMO_INCOMPLETE) --to $(DEMO_INCOMPLETE); test $$? -eq 1
	$(BIN)/cloudcost report --org $(DEMO_ORG) --from $(DEMO_FROM) --to $(DEMO_TO) --html $(DEMO_REPORT)

# The FinOps Foundation's focus-validator needs Python >= 3.12 and pyarrow < 22: its own venv, used as a tool.
validator: install
	tools/focus-validator/install.sh .venv-validator

# Azurite (Azure Blob Storage emulator, npm) for the object-store tests; repo-local, git-ignored.
azurite:
	@test -x .cache/azurite/node_modules/.bin/azurite-blob || npm install --silent --prefix .cache/azurite \
		--no-audit --no-fund azurite@3.35.0

# Debian's chromium (headless) and the page's font for the report's browser test; installed only when missing.
.PHONY: chromium
chromium:
	@test -x /usr/bin/chromium -a -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
		|| (apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core)

# Debian's PostgreSQL server for tests/airflow/test_postgres_celery.py, which runs its own private cluster
# (initdb and pg_ctl in a temporary directory, as the postgres user when root); installed only when missing.
.PHONY: postgres
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1 && id postgres > /dev/null 2>&1 \
		|| (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)

# Debian's Redis for the Celery broker of tests/airflow/test_postgres_celery.py (its own private server, no
# persistence); installed only when missing.
.PHONY: redis
redis:
	@test -x /usr/bin/redis-server || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)

lint: install
	$(BIN)/ruff check .

# mypy over plugins/cloudcost ([tool.mypy] in pyproject.toml): about 30 s of CPU from nothing, under 1 s from its cache.
typecheck: install
	$(BIN)/mypy

test: install validator azurite chromium postgres redis
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

# Re-resolve the pinned requirements.txt from requirements.in (uv resolves Airflow's tree in about a minute).
lock: install
	$(BIN)/uv pip compile requirements.in -o requirements.txt --python-version 3.11 --no-header

# Benchmarks (bench/, results in BENCHMARKS.md): `bench` is the full run (about an hour, 10 M rows);
# `bench-quick` runs the same harness once on tiny exports (under two minutes; CI runs it as its own step).
.PHONY: bench bench-quick
bench: install
	$(BIN)/python bench/bench.py full

bench-quick: install
	$(BIN)/python bench/bench.py quick

# A night with many orgs through real Airflow (LocalExecutor, Celery with 2 workers; Postgres, Redis): 1 and 10
# orgs, about 20 minutes here; 50 orgs only when the 10-org night projects under 25 minutes (BENCHMARKS.md).
.PHONY: bench-night
bench-night: install
	$(BIN)/python bench/night.py --orgs 1 10 50 --executor local celery --workers 2

clean:
	rm -rf $(VENV) .venv-validator .cache .airflow data .pytest_cache .ruff_cache .mypy_cache
