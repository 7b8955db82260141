# Set-up is idempotent: the venv is created once and re-synced only when
# requirements.lock changes (the stamp file records the installed lock).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.lock-installed
# pyenv selects CPython 3.10 through .python-version; TFX 1.16 needs < 3.11.
PYTHON ?= python
# Debian's Chromium for the report's browser test (tests/browser.py): the
# browser downloads of test tools do not work offline, the package does.
BROWSER := /usr/bin/chromium

export TF_USE_LEGACY_KERAS := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test venv lock clean bench bench-alone bench-growth bench-serve demo

run: $(STAMP)
	$(PY) local_runner.py

# Scheduled retraining, watched: the sample cut into spans, one run per span.
demo: $(STAMP)
	$(PY) -m local.retraining_demo

# pytest-xdist workers; tests sharing a costly session fixture share one
# (tests/conftest.py).
TEST_WORKERS ?= 2
test: $(STAMP) $(BROWSER)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

$(BROWSER):
	apt-get install -y --no-install-recommends chromium || \
	  (apt-get update && apt-get install -y --no-install-recommends chromium)

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 10) else f"Python 3.10 is required (TFX 1.16); {sys.executable} is {v[0]}.{v[1]}. Install it with pyenv or pass PYTHON=/path/to/python3.10")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	# The project itself, editable, for the taxi-tips command on the venv's PATH.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $(STAMP)

# Re-resolves requirements.in into the full pin set (needs network; review the diff).
lock: $(STAMP)
	$(PY) -m pip install --quiet uv==0.13.9
	$(VENV)/bin/uv pip compile --quiet --python-version 3.10 --python-platform x86_64-manylinux_2_36 \
	  --no-header requirements.in -o requirements.lock

clean:
	rm -rf outputs

# The template and this pipeline in alternating pairs at each scale (times
# the bundled sample); writes docs/performance.md, which says how long it takes.
SCALES ?= 1 10 100
bench: $(STAMP)
	$(PY) -m bench.run --scales $(SCALES)

# Ours alone at large scales: how each component grows (about 30 min).
ALONE_SCALES ?= 100 1000
bench-alone: $(STAMP)
	$(PY) -m bench.run --alone --scales $(ALONE_SCALES)

# Each data-sized step of the last bench-alone runs re-run alone, the two
# largest scales alternating: how its own time grows (about an hour).
ROUNDS ?= 1
bench-growth: $(STAMP)
	$(PY) -m bench.step_growth --rounds $(ROUNDS)

# `taxi-tips serve` under locust on 127.0.0.1, about 80 s: needs a pushed
# model (`make run`); writes its block of docs/performance.md.
bench-serve: $(STAMP)
	$(PY) -m bench.serve_load
