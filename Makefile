# Jiefen build/test entry points. Everything runs from the project venv (.venv).
SHELL := /bin/bash
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Extra arguments for pytest, e.g.  make test PYTEST_ARGS='-k calendar -x'
PYTEST_ARGS ?=
# The county's config: CONFIG_DIR=examples/xishui make run serves the second county from the same code
# (its SQLite file is then var/xishui.db unless DATABASE_URL says otherwise).
CONFIG_DIR ?= config
export CONFIG_DIR
# Extra arguments for apply, e.g.  make apply APPLY_ARGS='--yes --allow-destructive'
APPLY_ARGS ?=
# Prerequisites of `test`. browser-deps makes sure Debian's chromium and CJK
# fonts are present for the browser tests (it only warns when it can't).
TEST_DEPS ?= venv browser-deps

.PHONY: venv check plan apply test browser-deps run serve bench clean

venv: $(STAMP)

# Re-runs only when a requirements file is newer than the stamp.
$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import pip, sys; sys.exit(int(pip.__version__.split(".")[0]) < 23)' \
		|| $(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@touch $@

check: venv
	$(BIN)/python -m generator check $(CONFIG_DIR)

# What applying the config would change in the live database (nothing is changed).
plan: venv
	$(BIN)/python -m generator plan $(CONFIG_DIR)

# Back up, apply the plan in one transaction, record the version (docs/config-guide.md, 修改运行中的系统).
apply: venv
	$(BIN)/python -m generator apply $(CONFIG_DIR) $(APPLY_ARGS)

test: $(TEST_DEPS)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

browser-deps:
	@bash scripts/install-browser.sh

run: venv
	$(BIN)/python -m generator check $(CONFIG_DIR)
	$(BIN)/flask --app app setup
	$(BIN)/flask --app app run --host 127.0.0.1 --port $${PORT:-5000}

# Production settings (APP_ENV=production, .env), `flask check-deploy` first: any error and
# gunicorn is not started.  scripts/serve.sh says how.
serve: venv
	BIN=$(BIN) bash scripts/serve.sh

bench: venv
	@for b in bench/*_bench.py; do echo "== $$b"; $(BIN)/python "$$b" || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis test-results
	rm -f var/*.db
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
