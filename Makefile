# avtaleflyt: set up, run and test on one machine.
#   make run    .venv + the embedded stack with the example revision, its dates moved to begin today
#   make test   .venv + system packages + the test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE ?= examples/sondre-trondelag-2024.yaml
PYTEST_ARGS ?=
# pytest-xdist workers for `make test`; the tests are handed out slowest first, in the order
# tests/conftest.py sorts them (hence --no-loadscope-reorder). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 4

# What the tests need from the system, as command:debian-package pairs. A missing
# command is installed with apt-get when we are root; otherwise `make` stops and
# says what to install. PostgreSQL's server (the tests start their own, on loopback):
# pg_ctlcluster comes with it, not with the client (psql) a machine may already have.
SYSTEM_DEPS := chromium:chromium pg_ctlcluster:postgresql

.PHONY: venv run test system-deps clean

venv: $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml is newer than the last install.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

run: venv
	$(BIN)/avtaleflyt up --example $(EXAMPLE)

# Tests marked `alone` measure time (a page answering within a second during a login flood):
# they run after the others, one at a time, so that the suite's own workers are not what they
# measure. Both steps always run; exit 5 (nothing selected, e.g. PYTEST_ARGS named one file) is fine.
test: venv system-deps
	@rc=0; \
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder -m "not alone" $(PYTEST_ARGS) || { s=$$?; [ $$s = 5 ] || rc=$$s; }; \
	$(BIN)/pytest -q -p no:xdist -m alone $(PYTEST_ARGS) || { s=$$?; [ $$s = 5 ] || rc=$$s; }; \
	exit $$rc

system-deps:
	@missing=""; \
	for dep in $(SYSTEM_DEPS); do \
	  command -v "$${dep%%:*}" >/dev/null 2>&1 || missing="$$missing $${dep#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	  else \
	    echo "Missing system packages:$$missing (run 'make system-deps' as root, or apt-get install them)" >&2; \
	    exit 1; \
	  fi; \
	fi

# Removes the virtualenv and build/test leftovers; keeps .avtaleflyt/ (your data).
clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Every benchmark in bench/, each as a ratio to a baseline measured in the same run, then each
# RESULT line with its goal and met / not met (bench/README.md). `make bench FULL=1`: the full
# sizes; ONLY="start resume": some. Fails if a benchmark failed, not for a goal not met.
.PHONY: bench
bench: venv
	bench/run_all.sh
