# Flowscope: the two commands are `make demo` and `make test`; everything else is what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
FE_STAMP := frontend/node_modules/.installed
FE_BUILD := backend/static/index.html
CARD_BUILD := contract/cards/assets/card-renderer.js
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test install frontend chromium haproxy test-python test-frontend lint api-types screenshots clean

demo: install frontend ## start the product on an embedded Postgres and print the URL
	$(PY) -m backend.cli demo

test: install frontend chromium haproxy ## every test: lint and layer rules, Python, frontend unit, browser end-to-end
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-frontend
	$(MAKE) --no-print-directory test-python

install: $(PY_STAMP)

$(PY_STAMP): pyproject.toml
	@echo "==> Python environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev,compat]'
	touch $@

frontend: $(FE_BUILD) $(CARD_BUILD)

$(FE_STAMP): frontend/package.json $(wildcard frontend/package-lock.json)
	@echo "==> frontend dependencies (npm ci)"
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

FE_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts -type f 2>/dev/null)

$(FE_BUILD): $(FE_STAMP) $(FE_SOURCES)
	@echo "==> frontend build (vite)"
	cd frontend && npm run --silent build

# The card pages' scripts (renderer, charts), built with the app; rebuilt alone if they went missing.
$(CARD_BUILD): $(FE_STAMP) $(FE_SOURCES) frontend/card-build.mjs
	@echo "==> card scripts (frontend/card-build.mjs)"
	cd frontend && node card-build.mjs

chromium: ## Debian's Chromium for the browser tests (Playwright never downloads a browser)
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "==> installing Debian's chromium"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

haproxy: ## Debian's HAProxy for the replicas-behind-a-load-balancer test (tests/fault/test_load_balancer.py)
	@if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then \
	  echo "==> installing Debian's haproxy"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq haproxy >/dev/null; \
	fi

test-frontend: $(FE_STAMP)
	cd frontend && npm test --silent

test-python: install
	$(PY) -m pytest tests

lint: install $(FE_STAMP) ## ruff, mypy (strict), the layer rules (import-linter), ESLint + tsc
	@echo "==> lint: ruff, mypy, import-linter, eslint + tsc"
	$(PY) -m ruff check contract core_runtime backend tests bench
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	cd frontend && npm run --silent lint

screenshots: install frontend chromium ## refresh docs/screenshots from the browser tests (make test never writes them)
	FLOWSCOPE_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/e2e -q

api-types: install $(FE_STAMP) ## regenerate the UI's API types from the backend's OpenAPI document
	$(PY) -m backend.openapi > frontend/src/api/openapi.gen.json
	cd frontend && npx --no-install openapi-typescript src/api/openapi.gen.json -o src/api/schema.gen.ts

clean:
	rm -rf $(VENV) frontend/node_modules backend/static
