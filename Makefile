# Crossings: `make demo` to try it, `make test` to check it.
#
# `setup` is driven by stamp files in .venv/: each step re-runs only when the file
# it depends on is newer than its stamp, so a second `make test` skips apt, pip and npm.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

SYSTEM_STAMP := $(VENV)/.stamp-system
PIP_STAMP    := $(VENV)/.stamp-pip
NPM_STAMP    := $(VENV)/.stamp-npm

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help setup migrate demo serve test bench clean FORCE

help:
	@echo "make demo     set up, load the demo collection, serve http://127.0.0.1:5000"
	@echo "make test     set up, run the test suite"
	@echo "make setup    Debian packages, .venv and node_modules (only what changed)"
	@echo "make migrate  bring the database schema up to date"
	@echo "make bench    run the benchmarks"
	@echo "make clean    remove .venv and node_modules (media/ is kept)"

setup: $(SYSTEM_STAMP) $(PIP_STAMP) $(NPM_STAMP)

$(SYSTEM_STAMP): scripts/system-packages.sh
	scripts/system-packages.sh
	@mkdir -p $(VENV) && touch $@

$(VENV)/pyvenv.cfg:
	$(PYTHON) -m venv $(VENV)

$(PIP_STAMP): pyproject.toml $(VENV)/pyvenv.cfg
	$(BIN)/pip install --quiet --editable '.[test]'
	@# iiif-prezi3 (the tests validate manifests with its models) pins Pillow<=12.0.0, which
	@# pillow-heif needs newer than; it uses Pillow only to measure images, which the tests never ask
	@# it to, so it is installed without its dependencies (its others: pydantic, a runtime dependency, and requests, in [test]).
	$(BIN)/pip install --quiet --no-deps 'iiif-prezi3>=3.1,<4'
	@touch $@

# npm needs node from the system step; the lock file is the source of truth when present.
$(NPM_STAMP): package.json $(wildcard package-lock.json) | $(SYSTEM_STAMP)
	@if [ -f package-lock.json ]; then \
	    echo "npm ci"; npm ci --no-audit --no-fund --loglevel=error; \
	else \
	    echo "npm install"; npm install --no-audit --no-fund --loglevel=error; \
	fi
	@touch $@

# node_modules removed by hand while the stamp stayed: install again.
ifeq ($(wildcard node_modules/.package-lock.json),)
$(NPM_STAMP): FORCE
endif
FORCE:

migrate: setup
	$(BIN)/crossings db upgrade

demo: migrate
	$(BIN)/crossings demo
	scripts/serve.sh 127.0.0.1 5000

# Serve what is already loaded, without reloading the demo collection.
serve: migrate
	scripts/serve.sh 127.0.0.1 5000

test: setup
	$(BIN)/python -m pytest -n 2

bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/search.py

clean:
	rm -rf $(VENV) node_modules
