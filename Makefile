# Sportello Digitale: `make run` starts the assistant, `make test` proves it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python 3.10; everything else runs on Python >= 3.11. Each is looked up
# on PATH first, then among pyenv's versions; override with PYTHON_RASA= / PYTHON_APP=.
PYTHON_RASA ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
PYTHON_APP ?= $(shell for p in python3.11 $$HOME/.pyenv/versions/3.11*/bin/python3.11 python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3.13 python3; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' >/dev/null 2>&1 && { echo "$$p"; break; }; done)

VENV := .venv
VENV_RASA := .venv-rasa
MODEL := models/current.tar.gz
NLU_DATA := $(shell find nlu -name '*.yml') config.yml

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
# endpoints.yml reads these; only `rasa test` below needs them from here: the running stack's
# Rasa gets them from the settings (sportello/run_rasa.py), and production refuses this token.
RASA_TEST_ENV := ACTION_SERVER_URL=http://127.0.0.1:5055/webhook ACTION_SERVER_TOKEN=dev-action-server-token \
	RASA_TRACKER_DB=results/rasa-test-tracker.db
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install system model run run-production chaos test lint nlu-eval taps bench link-code clean

help:
	@echo "make run       start back office, action server, Rasa and the bot (local chat without a token)"
	@echo "make run-production   REPLICAS (2) of each process behind HAProxy, under supervisord (settings in .env)"
	@echo "make chaos     kill replicas, drop connections, make Telegram fail: lost 0 or it fails"
	@echo "make test      install what is missing and run the whole suite"
	@echo "make nlu-eval FILE=tests/nlu/holdout.yml   intent accuracy and entity P/R/F1"
	@echo "make taps      walk the main tasks by button presses only and print how many taps each takes"
	@echo "make bench     turns vs bare Rasa and Rasa's Telegram connector, 10,000 notices, memory: results/bench.json"

install: $(VENV)/.installed $(VENV_RASA)/.installed

# From Debian, when missing (apt-get as root): the balancer of the production topology and
# the browser of the staff console's tests.
SYSTEM_PACKAGES := haproxy chromium
system:
	@command -v haproxy >/dev/null && command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
		else echo "Serve: sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; fi; }

$(VENV)/.installed: pyproject.toml requirements/app-constraints.txt
	@test -n "$(PYTHON_APP)" || { echo "Serve Python >= 3.11 (python3.11, python3.12 o python3.13)"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON_APP) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c requirements/app-constraints.txt -e '.[dev]'
	touch $@

$(VENV_RASA)/.installed: requirements/rasa-constraints.txt
	@test -n "$(PYTHON_RASA)" || { echo "Serve Python 3.10 per Rasa 3.6 (python3.10 o pyenv 3.10.x)"; exit 1; }
	test -x $(VENV_RASA)/bin/python || $(PYTHON_RASA) -m venv $(VENV_RASA)
	$(VENV_RASA)/bin/pip install -q --upgrade pip setuptools wheel
	$(VENV_RASA)/bin/pip install -q -c requirements/rasa-constraints.txt rasa==3.6.21
	touch $@

# Rasa trains only when the training data, the domain or the pipeline changed.
$(MODEL): $(NLU_DATA) $(VENV_RASA)/.installed
	$(VENV_RASA)/bin/rasa train --config config.yml --domain nlu/domain --data nlu/data \
		--out models --fixed-model-name current
	touch $@

model: $(MODEL)

run: install $(MODEL)
	@$(VENV)/bin/python -m sportello.security
	$(VENV)/bin/python -m backoffice migrate
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ] || grep -qs '^TELEGRAM_BOT_TOKEN=.' .env; then \
		$(VENV)/bin/python -m sportello.ports && $(VENV)/bin/honcho start -f Procfile; \
	else \
		$(VENV)/bin/python -m bot.localchat; \
	fi

# The production topology on this machine: PostgreSQL and Redis from DATABASE_URL,
# TRACKER_STORE_URL, HANDOFF_DATABASE_URL and REDIS_URL; the bot by webhook (WEBHOOK_URL).
run-production: install system $(MODEL)
	$(VENV)/bin/python -m sportello.production run

# Faults on the production topology (kill -9 of replicas, dropped PostgreSQL connections,
# Telegram's 429 and 500): prints what was lost and fails on any loss. `make test` runs it too.
chaos: install system $(MODEL)
	$(VENV)/bin/python -m tests.chaos

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: install system $(MODEL) lint
	mkdir -p results
	$(VENV_RASA)/bin/rasa data validate --config config.yml --domain nlu/domain --data nlu/data
	$(RASA_TEST_ENV) $(VENV_RASA)/bin/rasa test core --model $(MODEL) --stories tests/stories --out results/stories \
		--fail-on-prediction-errors --endpoints endpoints.yml >results/stories.log 2>&1 \
		|| { tail -40 results/stories.log; cat results/stories/failed_test_stories.yml 2>/dev/null; exit 1; }
	$(VENV)/bin/pytest

nlu-eval: $(MODEL)
	@test -n "$(FILE)" || { echo "uso: make nlu-eval FILE=tests/nlu/holdout.yml"; exit 2; }
	rm -rf results/nlu-eval && mkdir -p results
	$(VENV_RASA)/bin/rasa test nlu --nlu $(FILE) --model $(MODEL) --out results/nlu-eval >results/nlu-eval.log 2>&1 || { cat results/nlu-eval.log; exit 1; }
	$(VENV)/bin/python -m sportello.nlu_report results/nlu-eval

# Modalità semplice: each main task done by taps only, on the real stack; a missing button fails.
taps: install $(MODEL)
	$(VENV)/bin/python -m tests.taps

# Timing lives here, not in the tests: the whole stack beside Rasa itself, in one run (tests/bench).
bench: install system $(MODEL)
	$(VENV)/bin/pip install -q -c requirements/app-constraints.txt -e '.[bench]'
	$(VENV)/bin/python -m tests.bench

# The portal's part for a demo or a test: a one-time code that links a chat to a citizen.
link-code: $(VENV)/.installed
	@test -n "$(CF)" || { echo "uso: make link-code CF=<codice fiscale>"; exit 2; }
	@$(VENV)/bin/python -m backoffice link-code "$(CF)"

clean:
	rm -rf models results var .pytest_cache .mypy_cache .ruff_cache
