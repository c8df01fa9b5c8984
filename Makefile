# Stockpilot: `make run` sets up and serves the embedded default; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: pipeline run install install-dev install-browser test lint typecheck check-services bench migrate demo nlp-model clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

# The language model for text signals: NLP_MODEL when set, else a small GPT-2 built once from the demo
# shop's own texts (model hubs are often unreachable; see nlp_build_model).
NLP_MODEL_DIR := var/nlp-model

nlp-model: demo
	@if [ -z "$$NLP_MODEL" ] && [ ! -f $(NLP_MODEL_DIR)/config.json ]; then \
		$(PY) manage.py nlp_build_model --merchant demo --output $(NLP_MODEL_DIR); fi

# The first run: texts scored into signals, forecasts, policies and suggestions (skipped when today's is there).
pipeline: nlp-model
	$(PY) manage.py run_pipeline --merchant demo --if-stale

run: pipeline
	@echo ""
	@echo "  Stockpilot is starting on http://$(HOST):$(PORT)/  — log in as demo / demo"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

check-services:
	@$(PY) scripts/check_services.py "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# The end-to-end tests drive Debian's Chromium with Playwright (never a browser download); CJK fonts for the
# Chinese pages' screenshots. Screenshots are written to artifacts/screenshots/.
CHROMIUM ?= /usr/bin/chromium

install-browser:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }

test: install-dev install-browser check-services lint
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/pytest

bench: install-dev
	@for script in $(filter-out bench/datasets.py,$(wildcard bench/*.py)); do echo "== $$script"; PYTHONPATH=. $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) var/*.sqlite3 staticfiles
