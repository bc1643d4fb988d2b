# Cailloux — the README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test install migrate demo lint typecheck vendor messages translations clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

## Compiles the translation catalogues (.mo files are build output, not committed).
translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d app/locales -D messages --statistics 2>/dev/null || $(BIN)/pybabel compile -d app/locales -D messages

migrate: install
	$(BIN)/cailloux migrate

demo: migrate
	$(BIN)/cailloux demo

## Creates the venv, installs, migrates, loads the demo data and serves (with the job worker).
run: demo
	$(BIN)/cailloux serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check app tests migrations
	$(BIN)/ruff format --check app tests migrations

typecheck: install
	$(BIN)/mypy app

## Creates the venv, installs, then lint, types and the whole test suite.
test: install lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Re-extracts the French source strings and updates the English catalogue.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 --no-location --sort-output -o app/locales/messages.pot .
	$(BIN)/pybabel update -i app/locales/messages.pot -d app/locales -D messages --no-fuzzy-matching --ignore-obsolete -w 100

## Copies the pinned npm front-end files into static/vendor (the copies are committed).
vendor:
	npm ci --no-audit --no-fund
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/htmx.org/LICENSE static/vendor/htmx.LICENSE
	cp node_modules/@picocss/pico/css/pico.min.css static/vendor/pico.min.css
	cp node_modules/@picocss/pico/LICENSE.md static/vendor/pico.LICENSE.md
	mkdir -p static/vendor/leaflet/images
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css static/vendor/leaflet/
	cp node_modules/leaflet/dist/images/*.png static/vendor/leaflet/images/
	cp node_modules/leaflet/LICENSE static/vendor/leaflet/LICENSE
	mkdir -p tests/e2e/vendor
	cp node_modules/axe-core/axe.min.js tests/e2e/vendor/axe.min.js
	cp node_modules/axe-core/LICENSE tests/e2e/vendor/axe.LICENSE

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
