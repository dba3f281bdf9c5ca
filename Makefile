# Two commands on a fresh clone: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

PLATFORM_ADMIN_EMAIL ?= admin@localhost
PLATFORM_ADMIN_PASSWORD ?= platform-pass-2024
export PLATFORM_ADMIN_EMAIL PLATFORM_ADMIN_PASSWORD

.PHONY: setup browser migrate run serve test lint format

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

# Debian's Chromium, which the tests under tests/browser/ drive through Playwright.
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium package for the browser tests"; \
	  sudo=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null; }

# Shared apps, then every tenant schema that misses a migration, the template
# and the spare pool (manage.py migrate_tenants; docs/deployment.md).
migrate: setup
	$(PY) manage.py migrate_schemas --shared
	$(PY) manage.py migrate_tenants

run: migrate
	$(PY) manage.py bootstrap --no-input
	$(PY) manage.py seed_demo
	@echo
	@echo "  Demo organisation: http://acme.localhost:8000   (see the logins above)"
	@echo "  Platform admin:    http://localhost:8000/admin/ ($(PLATFORM_ADMIN_EMAIL) / $(PLATFORM_ADMIN_PASSWORD))"
	@echo
	$(VENV)/bin/honcho start --procfile Procfile

# The production server on the same database as `make run`: gunicorn
# (gunicorn.conf.py) with DEBUG off and static files collected for WhiteNoise.
# Plain http on loopback, so no redirect to https. Web only: start a worker
# and beat beside it as in docs/deployment.md if background work is needed.
SERVE_ENV = DEBUG=False SECURE_SSL_REDIRECT=False SECRET_KEY="$$(cat .data/serve-secret-key)"
serve: migrate
	@mkdir -p .data
	@test -s .data/serve-secret-key || $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > .data/serve-secret-key
	$(SERVE_ENV) $(PY) manage.py collectstatic --no-input --verbosity 0
	$(SERVE_ENV) $(VENV)/bin/gunicorn --config gunicorn.conf.py

# One test process per core (pytest-xdist), each on a test database of its own;
# a test file stays in one process, so its module fixtures are built once.
TEST_PROCESSES ?= auto
test: setup browser
	$(PY) -m pytest --numprocesses $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# Format, lint, and the import contracts of docs/architecture.md (pyproject.toml).
lint: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
