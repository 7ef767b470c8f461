PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install run test chaos bench fuzz worker beat clean frontend client

$(BIN)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

install: $(BIN)/.installed

# Embedded PostgreSQL + web + Celery worker with beat (ops/stack.py); Ctrl-C stops all of it.
run: install
	$(BIN)/python -m ops.stack --port $(PORT)

test: install
	$(BIN)/lint-imports
	$(BIN)/mypy
	@$(BIN)/python -m ops.service_check postgres redis
	@# The TypeScript client's tools, for its drift test (which falls back to a hash check without them).
	@if command -v npm >/dev/null 2>&1 && [ ! -x clients/typescript/node_modules/.bin/tsc ]; then \
	  (cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error) || echo "npm ci failed: the TypeScript regeneration test will skip"; fi
	$(BIN)/pytest

chaos: install
	@$(BIN)/python -m ops.service_check postgres redis
	$(BIN)/pytest -m chaos -s credits_platform/tests/test_chaos.py

fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} FUZZ_PHASES=$${FUZZ_PHASES:-examples,coverage,fuzzing,stateful} $(BIN)/pytest credits_platform/tests/test_fuzz.py

bench: install
	@$(BIN)/python -m ops.service_check postgres
	@$(BIN)/python -m bench.results --reset
	$(BIN)/python -m bench.reset_monthly --wallets 1000000
	$(BIN)/python -m bench.http_load
	$(BIN)/python -m bench.ledger_core
	$(BIN)/python -m bench.queries_per_request
	$(BIN)/python -m bench.profile_gate
	$(BIN)/python -m bench.csv_export
	$(BIN)/python -m bench.webhooks
	@uptime
	@$(BIN)/python -m bench.results

# Regenerate clients/typescript/ (schema.json from the served schema, then schema.d.ts) after an API change.
client: install
	DJANGO_SETTINGS_MODULE=credits_platform.settings.test $(BIN)/python manage.py spectacular --format openapi-json --file clients/typescript/schema.json
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run generate

# Rebuild the web components (frontend/ -> webapp/static/webapp/credits-components.js, committed).
frontend:
	cd frontend && npm ci --no-audit --no-fund && npm run build

worker: install
	$(BIN)/celery -A credits_platform worker --loglevel=INFO

beat: install
	$(BIN)/celery -A credits_platform beat --loglevel=INFO

clean:
	rm -rf $(VENV) .data .pytest_cache
