# mailrouter: two commands do all the set-up on a fresh machine.
#   make run   start the gateway on the embedded defaults (127.0.0.1:2525, ./var/)
#   make test  install what the tests need, then run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SHARED ?= ../shared
SECONDS ?= 600

.PHONY: run test lint corpus bench-decide bench-smtp bench-memory bench-scale fuzz peers clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "mailrouter needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mailrouter serve

# Real peers (Postfix, Dovecot) come from Debian's packages when we may install them.
peers:
	@sh deploy/install-peers.sh

# The whole suite on the embedded SQLite journal, then the tests marked `storage` again on a
# real PostgreSQL (started by the tests on a free port, data in a temporary directory).
test: $(STAMP) peers
	$(BIN)/ruff check src tests bench fuzz
	$(BIN)/python -m pytest
	MAILROUTER_TEST_BACKEND=postgresql $(BIN)/python -m pytest -m storage

lint: $(STAMP)
	$(BIN)/ruff check src tests bench fuzz
	$(BIN)/ruff format --check src tests bench fuzz

corpus: $(STAMP)
	$(PYTHON) $(SHARED)/tools/eval_corpus.py $(SHARED)/corpus

bench-decide: $(STAMP)
	$(BIN)/python bench/decide.py $(SHARED)/corpus

bench-smtp: $(STAMP)
	$(BIN)/python bench/smtp_load.py

bench-memory: $(STAMP)
	$(BIN)/python bench/memory_load.py

# The gateway (1 and 2 workers, SQLite and PostgreSQL) against a durable Postfix and the bare
# spool, driven by smtp-source; LONG=100000 adds a memory run of that many messages.
LONG ?= 0
bench-scale: $(STAMP) peers
	$(BIN)/python bench/scale.py --long $(LONG)

# Coverage-guided fuzzing of decide and the DATA path for SECONDS seconds (atheris).
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet 'atheris>=2.3'
	$(BIN)/python fuzz/run.py --seconds $(SECONDS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .hypothesis
