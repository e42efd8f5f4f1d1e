# The one place the set-up steps live.  `make demo` and `make test` are all a user needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

# One BLAS thread per process: the tests run two workers on two cores.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: demo test install install-test lint clean help system-deps

help:
	@echo "make demo   - set up $(VENV) and run the monthly cycle on the demo store (var/imon.sqlite)"
	@echo "make test   - set up $(VENV) with the test extras and run the whole test suite"
	@echo "make lint   - ruff over the packages and tests, mypy over the packages"
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

# Publications need a CJK font (charts, PDF) and Pango (WeasyPrint); HarfBuzz's subsetter makes the PDFs' CJK
# fonts fast to embed (without it a slower fontTools path is used); the tests read PDFs with poppler's tools.
# The portal's browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
# Installed from Debian packages when missing (needs root and apt-get; otherwise a note and on).
SYSTEM_PACKAGES := fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils chromium
system-deps:
	@if fc-list 2>/dev/null | grep -q "Noto Sans CJK SC" && ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 \
	    && ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset && command -v pdftoppm >/dev/null 2>&1 \
	    && command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing $(SYSTEM_PACKAGES) from Debian packages"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else echo "note: install $(SYSTEM_PACKAGES) for publications with Chinese charts and PDFs, and the browser tests"; fi

demo: $(VENV)/.installed system-deps
	$(BIN)/imon demo

test: $(VENV)/.installed-test system-deps
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# ruff over the code and the tests; mypy over the packages (configuration in setup.cfg: strict on forecasting/
# and collectors/, typed definitions everywhere).
lint: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet 'ruff>=0.4'
	$(BIN)/ruff check monitor forecasting collectors tests benchmarks
	$(BIN)/python -m mypy monitor forecasting collectors

clean:
	rm -rf $(VENV) var build dist *.egg-info
