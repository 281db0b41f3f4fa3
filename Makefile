# mailrouter: two commands do all the set-up on a fresh machine.
#   make run   start the gateway on the embedded defaults (127.0.0.1:2525, ./var/)
#   make test  install what the tests need, then run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SHARED ?= ../shared

.PHONY: run test lint corpus bench-decide bench-smtp peers clean

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

test: $(STAMP) peers
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

corpus: $(STAMP)
	$(PYTHON) $(SHARED)/tools/eval_corpus.py $(SHARED)/corpus

bench-decide: $(STAMP)
	$(BIN)/python bench/decide.py $(SHARED)/corpus

bench-smtp: $(STAMP)
	$(BIN)/python bench/smtp_load.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .hypothesis
