PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install run test chaos bench fuzz worker beat clean

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
	@$(BIN)/python -m credits_platform.service_check postgres redis
	$(BIN)/pytest

chaos: install
	@$(BIN)/python -m credits_platform.service_check postgres redis
	$(BIN)/pytest -m chaos -s credits_platform/tests/test_chaos.py

fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} FUZZ_PHASES=$${FUZZ_PHASES:-examples,coverage,fuzzing,stateful} $(BIN)/pytest credits_platform/tests/test_fuzz.py

bench: install
	@$(BIN)/python -m credits_platform.service_check postgres
	$(BIN)/python -m bench.reset_monthly --wallets 100000
	$(BIN)/python -m bench.http_load
	$(BIN)/python -m bench.queries_per_request
	$(BIN)/python -m bench.profile_gate

worker: install
	$(BIN)/celery -A credits_platform worker --loglevel=INFO

beat: install
	$(BIN)/celery -A credits_platform beat --loglevel=INFO

clean:
	rm -rf $(VENV) .data .pytest_cache
