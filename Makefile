# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
DEMO_DIR ?= out/demo
DEMO_PORT ?= 8000

.PHONY: demo test lint bench clean pg-server chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(TSTAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP) $@

# the night-swarm scenario live: prints the page's URL and a token to log in with; Ctrl-C stops
demo: $(STAMP)
	$(VENV)/bin/skyfence demo --out $(DEMO_DIR) --port $(DEMO_PORT)

test: $(TSTAMP) pg-server chromium
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy
	SKYFENCE_REQUIRE_PG=1 SKYFENCE_REQUIRE_BROWSER=1 $(PY) -m pytest -q

# The store tests start a real PostgreSQL server on loopback (initdb + pg_ctl,
# as user nobody when root). Install Debian's server package when it is missing.
pg-server:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing the PostgreSQL server (Debian package postgresql) for the store tests"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql; \
	  else \
	    echo "PostgreSQL server binaries (initdb) missing: install Debian's postgresql package" >&2; exit 1; \
	  fi; \
	fi

# The operator page's browser tests (tests/test_web_ui.py) drive Debian's
# Chromium through Playwright; no tool ever downloads a browser.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Chromium (Debian package chromium) for the operator page tests"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; \
	  else \
	    echo "/usr/bin/chromium missing: install Debian's chromium package" >&2; exit 1; \
	  fi; \
	fi

bench: $(TSTAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
