# Senim — `make run` to try it, `make test` to check it. Targets say what they do.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := SENIM_CONFIG=development FLASK_APP=wsgi $(VENV)/bin/flask
PYBABEL := $(VENV)/bin/pybabel
PYTEST_WORKERS ?= auto

.PHONY: run run-kundelik kundelik-local setup venv translations db demo test test-sqlite test-postgres lint check extract-messages clean bench

## setup: virtual environment, pinned dependencies, compiled translations
setup: $(VENV)/.deps-installed translations

$(VENV)/.deps-installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## translations: compile the kk/ru/en catalogues (.po -> .mo)
translations: $(VENV)/.deps-installed
	@if [ -d app/translations ]; then $(PYBABEL) compile -d app/translations >/dev/null; fi

## db: create or upgrade the development SQLite database
db: setup
	mkdir -p instance
	$(FLASK) db upgrade

## demo: demo school, pupils and one user per role (prints the sign-ins)
demo: db
	$(FLASK) demo create

## run: set everything up, create the demo database and serve on http://127.0.0.1:5000
run: demo
	@echo "Senim is at http://127.0.0.1:5000 — sign in with an account above. Ctrl+C stops it."
	$(FLASK) run --host 127.0.0.1 --port 5000

## kundelik-local: the local Kundelik (OAuth2 consent page and API with the demo's people) on 127.0.0.1:5001
KUNDELIK_LOCAL := http://127.0.0.1:5001
kundelik-local: setup
	$(PY) -m kundelik_local --port 5001

## run-kundelik: `make run` with "Sign in with Kundelik" pointed at `make kundelik-local` (run both)
run-kundelik:
	SENIM_KUNDELIK_OAUTH_URL=$(KUNDELIK_LOCAL)/oauth2 SENIM_KUNDELIK_TOKEN_URL=$(KUNDELIK_LOCAL)/v2.0/authorizations \
	SENIM_KUNDELIK_API_URL=$(KUNDELIK_LOCAL)/v2/ SENIM_KUNDELIK_CLIENT_ID=senim-local \
	SENIM_KUNDELIK_CLIENT_SECRET=insecure-kundelik-local-secret $(MAKE) run

## test: set up, lint (ruff, mypy), then run the whole suite (SQLite; PostgreSQL too when SENIM_TEST_POSTGRES_URL is set)
test: setup lint
	$(MAKE) test-sqlite
	@if [ -n "$$SENIM_TEST_POSTGRES_URL" ]; then $(MAKE) test-postgres; else echo "SENIM_TEST_POSTGRES_URL not set: PostgreSQL run skipped (.ci/run sets it)"; fi

test-sqlite:
	SENIM_TEST_DATABASE_URL= $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-postgres:
	SENIM_TEST_DATABASE_URL=$$SENIM_TEST_POSTGRES_URL $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider -m "not sqlite_only"

## bench: load benchmark of saving pupils' answers vs a bare Flask+SQLAlchemy ceiling (PostgreSQL 15, gunicorn, wrk; ~3 min; not part of test)
bench: setup
	$(PY) -m bench.run_submit

## lint: ruff, then mypy (types of app/, config.py, wsgi.py)
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## extract-messages: refresh the message catalogues from the code and templates (then translate the new kk/ru entries)
# Flask-Babel's lazy helpers on top of pybabel's defaults (_, gettext, ngettext, pgettext...);
# tests/i18n reads this line, so the test's extraction and this one cannot drift apart.
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2
# --ignore-dirs: skip only dot-directories; pybabel's default also skips "_macros/".
extract-messages: $(VENV)/.deps-installed
	$(PYBABEL) extract -F babel.cfg $(BABEL_KEYWORDS) --ignore-dirs=".*" --add-comments=TRANSLATORS: \
		--project=Senim --version=0.1 --copyright-holder="the Senim authors" \
		-o app/translations/messages.pot --no-location --sort-output .
	$(PYBABEL) update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) instance
