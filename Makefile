# kloss: `make demo` runs the main job, `make test` the full backend matrix.
# Both create (or reuse, when up to date) the virtualenv .venv with the pinned CPU stacks.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kloss-installed
BACKENDS := tensorflow jax torch numpy
CASES := build/cases
CHECK_JSON := build/check.json

.PHONY: all venv demo test lint format test-backends compare check docs test-examples bench clean

all: test

$(STAMP): requirements/ci.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/ci.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) demo/run_demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# One pytest process per backend (Keras fixes its backend at first import). numpy is a
# forward-only leg: tests that need autodiff or training skip there with that reason.
# pytest's exit code 5 (no tests ran) fails the target like any other non-zero code.
test-backends: $(STAMP)
	rm -rf $(CASES)
	set -e; for b in $(BACKENDS); do \
	  echo "=== KERAS_BACKEND=$$b"; \
	  KERAS_BACKEND=$$b KLOSS_CASES_DIR=$(CASES) $(PY) -m pytest -q; \
	done

compare: $(STAMP)
	$(PY) -m kloss.testing.compare $(CASES) --require $(shell echo $(BACKENDS) | tr ' ' ',')

# Every notebook in examples/ on each training backend (make test also runs them, inside each
# backend's pytest process).
test-examples: $(STAMP)
	set -e; for b in tensorflow jax torch; do \
	  echo "=== examples, KERAS_BACKEND=$$b"; \
	  KERAS_BACKEND=$$b $(PY) -m pytest -q tests/test_examples.py; \
	done

# kloss check, as a user runs it after installing: every loss on every installed backend
# (one subprocess each), compared pairwise; fails on disagreement, NaN/Inf or error.
check: $(STAMP)
	$(PY) -m kloss check --json $(CHECK_JSON)

# The documentation site: generated pages (gallery, migration tables, benchmark and
# agreement tables) into docs/generated, then a strict build into build/site. The agreement
# table comes from kloss check's report (run first when there is none).
docs: $(STAMP)
	test -s $(CHECK_JSON) || $(MAKE) check
	$(PY) -m docgen --out docs/generated --check-json $(CHECK_JSON)
	TF_CPP_MIN_LOG_LEVEL=3 $(VENV)/bin/mkdocs build --strict

test: lint test-backends
	$(MAKE) compare
	$(MAKE) check
	$(MAKE) docs

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf build demo_out docs/generated .pytest_cache .ruff_cache
