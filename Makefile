# The two commands a newcomer needs are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench messages clean

run: $(VENV)/.installed-runtime
	@bash scripts/run.sh

# The machine's test tools (Chromium, promtool: installed once when missing), the layer
# contracts of docs/architecture.md (a second or two), then the suite.
test: $(VENV)/.installed-dev
	@bash scripts/test_tools.sh
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every benchmark runs, even after one misses its targets (the settings modules under bench/
# are not benchmarks); the run fails at the end, naming those that missed.
BENCHES := $(filter-out %_settings.py,$(wildcard bench/*.py))

bench: $(VENV)/.installed-dev
	@missed=""; for script in $(BENCHES); do echo "== $$script"; \
		$(BIN)/python $$script || missed="$$missed $$script"; done; \
	if [ -n "$$missed" ]; then echo "== targets missed (or the run failed):$$missed"; exit 1; fi

# The end customer's strings into every catalogue under locale/ (new msgids arrive empty, for a
# translator), then every catalogue compiled to its committed .mo in pure Python. Extraction
# needs GNU gettext's xgettext (apt install gettext); compiling does not (docs/i18n.md).
messages: $(VENV)/.installed-dev
	DEBUG=1 ENV_FILE= $(BIN)/python manage.py makemessages --all --add-location=file --no-obsolete \
		--ignore=tests --ignore=sandbox --ignore=bench --ignore=var --ignore=test-output \
		--ignore=staticfiles --ignore=$(VENV)
	$(BIN)/python scripts/compile_messages.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-runtime: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed-runtime $@
