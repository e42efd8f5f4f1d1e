# The one place the set-up steps live.  `make demo` and `make test` are all a user needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

# One BLAS thread per process: the tests run two workers on two cores.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: demo test install install-test lint clean help

help:
	@echo "make demo   - set up $(VENV) and run the monthly cycle on the demo store (var/imon.sqlite)"
	@echo "make test   - set up $(VENV) with the test extras and run the whole test suite"
	@echo "make lint   - ruff over the packages and tests"
	@echo "make clean  - remove $(VENV), var/ and build leftovers"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(BIN)/imon demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet 'ruff>=0.4'
	$(BIN)/ruff check monitor forecasting collectors tests benchmarks

clean:
	rm -rf $(VENV) var build dist *.egg-info
