# Spaceport: `make run` starts the portal locally, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bench-vend bench-commit bench-commit-scale bench-commit-memory bench-copy bench-policy bench-gateway bench-soak venv test-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install --quiet -e .

test-deps: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	scripts/install-test-tools

## run: set everything up and start web, worker and beat on SQLite with an embedded broker
run: venv
	$(BIN)/python manage.py runportal

## test: install what the tests need, then run lint, type checks, migration check and the suite:
## all of it on PostgreSQL, then the tests listed in tests/databases.py again on SQLite,
## each pass spread over one pytest process per core
test: test-deps
	scripts/ensure-services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n auto --dist loadfile
	SPACEPORT_TEST_DB=sqlite $(BIN)/pytest -n auto --dist loadfile -m both_databases

## bench: run every benchmark and write the figures to docs/benchmarks.md
bench: bench-vend bench-commit bench-commit-scale bench-commit-memory bench-copy bench-policy bench-gateway bench-soak

bench-vend: test-deps
	scripts/ensure-services
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cd bench && ../$(BIN)/python vend.py --profile 10

bench-commit: test-deps
	scripts/ensure-services
	cd bench && ../$(BIN)/python commit.py

bench-commit-scale: test-deps
	scripts/ensure-services
	command -v ip >/dev/null && command -v tc >/dev/null || (apt-get update -qq && apt-get install -y -qq iproute2)
	cd bench && ../$(BIN)/python commit_scale.py

bench-commit-memory: test-deps
	scripts/ensure-services
	cd bench && ../$(BIN)/python commit_scale.py --memory

bench-copy: test-deps
	cd bench && ../$(BIN)/python copy_request.py

bench-policy: test-deps
	cd bench && ../$(BIN)/python policy.py

bench-gateway: test-deps
	scripts/ensure-services
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cd bench && ../$(BIN)/python s3_gateway.py

bench-soak: test-deps
	scripts/ensure-services
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cd bench && ../$(BIN)/python soak.py

lint:
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var node_modules
