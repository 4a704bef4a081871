# One command per job; see README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 0.0.0.0
PORT ?= 7860
# The pinned model files are read from this folder when it exists, else downloaded.
PROCTOR_MODEL_MIRROR ?= $(wildcard ../shared/models)
export PROCTOR_MODEL_MIRROR

.PHONY: setup venv models run test lint eval bench clean

setup: venv models

venv:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt

models:
	$(PY) -m tools.models fetch

run:
	$(VENV)/bin/uvicorn app:app --host $(HOST) --port $(PORT)

test:
	$(PY) -m ruff check .
	$(PY) -m pytest -q

eval:
	$(PY) -m proctor.eval all

bench:
	$(PY) -m tools.bench

clean:
	rm -rf $(VENV) .build-venv .build-venv.lock models .pytest_cache .ruff_cache
