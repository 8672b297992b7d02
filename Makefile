# Client-orientation CRM. `make run` and `make test` are all a new machine needs (Python 3.11).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export DEBUG ?= 1
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_SIZE ?= small

.PHONY: run install migrate demo test e2e lint format fuzz bench bench-million bench-segmentation bench-embedded bench-surveys bench-sales bench-dashboard bench-seed clean messages

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --no-input

demo: migrate
	$(PY) manage.py create_demo_users
	$(PY) manage.py seed_calendar --country RU
	$(PY) manage.py seed_demo --size $(DEMO_SIZE) --if-empty
	$(PY) manage.py seed_complaints
	$(PY) manage.py seed_deals

# Web + Celery worker + beat together (Procfile.dev, run by honcho); Ctrl-C stops all three.
run: demo
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C stops web, worker and beat)"
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho start -f Procfile.dev

test: install
	DEBUG= $(VENV)/bin/pytest

e2e: install
	DEBUG= $(VENV)/bin/pytest -m e2e

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DEBUG=1 $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# Schemathesis against the API schema on a live server, as an account manager and a manager
# (docs/fuzzing.md; FUZZ_MAX_EXAMPLES / FUZZ_MAX_TIME make the run longer).
fuzz: install
	.ci/fuzz

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: install
	DEBUG=1 $(PY) manage.py makemessages -l ru --no-obsolete -i ".venv/*" -i "staticfiles/*"
	DEBUG=1 $(PY) manage.py compilemessages -l ru -i ".venv/*"

bench: install
	DEBUG= $(PY) -m devtools.benchmarks.run

# the pages at 1 000 000 clients / 20 000 000 settlements (seeded once, ~10 min; reused after)
bench-million: install
	DEBUG= BENCH_SIZE=million $(PY) -m devtools.benchmarks.run

bench-segmentation: install
	DEBUG= $(PY) -m devtools.benchmarks.segmentation

# survey analytics over 1 000 000 answers (seeded once by binary COPY, reused after)
bench-surveys: install
	DEBUG= $(PY) -m devtools.benchmarks.surveys

bench-embedded: install
	DEBUG= $(PY) -m devtools.benchmarks.embedded

# sending 10 000 invitations through a real worker vs a bare smtplib loop; the answer page under
# 20 concurrent respondents (needs DATABASE_URL=postgres://… and REDIS_URL=redis://…)
bench-surveys-delivery: install
	DEBUG= $(PY) -m devtools.benchmarks.surveys_delivery

# the wall time of the small demo data (make run's first load), target < 20 s
bench-seed: install
	DEBUG= $(PY) -m devtools.benchmarks.seed

# the sales pipeline at 200 000 deals (20 000 open): board, moves, funnel (needs DATABASE_URL=postgres://…)
bench-sales: install
	DEBUG= $(PY) -m devtools.benchmarks.sales

# the manager dashboard (warm and cold), the account manager's home and every beacon over 100 000
# clients, 2 000 000 settlements, 200 000 complaints, 1 000 000 answers and 200 000 deals in one
# database (needs DATABASE_URL=postgres://…; the data are generated once, reused after)
bench-dashboard: install
	DEBUG= $(PY) -m devtools.benchmarks.dashboard

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
