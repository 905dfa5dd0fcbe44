# Monitoring of school methodological services — one Makefile for set-up, runs and tests.
# `make help` lists the targets.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# axe-core (MPL-2.0, from npm; not committed): the accessibility checker tests/test_accessibility.py
# runs in Chromium. Pinned so that a new rule cannot turn the suite red by itself.
AXE_VERSION := 4.11.4
AXE    := $(VENV)/axe/node_modules/axe-core/axe.min.js
PARAMS ?= params/2026.yaml

.DEFAULT_GOAL := help
.PHONY: help setup system report examples year template sample test test-fast bench bench-quick publish strip clean-processed

help: ## list the targets with what they do
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

$(AXE):
	@if command -v npm >/dev/null; then \
	  npm install --prefix $(VENV)/axe --no-save --silent axe-core@$(AXE_VERSION) \
	  || echo "Не удалось установить axe-core $(AXE_VERSION): проверка доступности будет пропущена с причиной"; \
	else echo "Нет npm: axe-core не установлен, проверка доступности будет пропущена (apt-get install npm)"; fi

setup: $(STAMP) $(AXE) ## create .venv and install the project with its test tools (and axe-core when npm exists)

# Debian programs the documents and the real-client tests use: LibreOffice (DOCX → PDF, forms
# re-saved as .ods/.xls), Chromium (accessibility and print tests), poppler (PDF → PNG), fonts
# with Cyrillic. Installed when missing and the user may (root with apt-get); otherwise a note
# says what is missing — those tests then skip with the reason, and the site lists DOCX only.
DEBIAN_PACKAGES := libreoffice-writer libreoffice-calc chromium chromium-driver poppler-utils fonts-dejavu fonts-liberation2
system: ## install the Debian programs above when missing (needs root and apt-get; otherwise says what is missing)
	@if command -v soffice >/dev/null && command -v chromium >/dev/null && command -v pdftoppm >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Устанавливаю LibreOffice, Chromium, poppler и шрифты (apt-get)…"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null \
	  || echo "Не удалось установить $(DEBIAN_PACKAGES): тесты с ними будут пропущены с причиной"; \
	else echo "Нет LibreOffice/Chromium/poppler и нет прав на установку: sudo apt-get install $(DEBIAN_PACKAGES)"; fi

report: $(STAMP) system ## set up, then run every year in params/ on the embedded sample and build the site
	$(PY) -m pipeline run --all

examples: $(STAMP) ## run the example municipality of every other shipped methodology (params/examples/) into reports/examples/
	@for d in params/examples/*/; do $(PY) -m pipeline run --all --params-dir $$d || exit 1; done

year: $(STAMP) ## run one year: make year PARAMS=params/2025.yaml
	$(PY) -m pipeline run --params $(PARAMS)

template: $(STAMP) ## write the blank school form of PARAMS into build/forms/
	$(PY) -m pipeline template --params $(PARAMS) --out build/forms

sample: $(STAMP) ## regenerate the embedded sample data in data/raw/ (deterministic)
	$(PY) -m pipeline sample --out data/raw

# The suite runs on TEST_JOBS workers (pytest-xdist; auto: one per core). A module's tests stay
# on one worker, so its module fixtures are built once (--dist loadscope); modules start in the
# order tests/conftest.py gives (the longest first), not by their number of tests. The runs of
# the sample the tests share are made once for all workers (tests/conftest.py: shared_folder).
TEST_JOBS ?= auto
PYTEST := $(PY) -m pytest -q -n $(TEST_JOBS) --dist loadscope --no-loadscope-reorder

test: $(STAMP) $(AXE) system ## set up, then run the whole test suite on every core (what CI runs)
	$(PYTEST)

test-fast: $(STAMP) ## the test suite without the slow end-to-end tests
	$(PYTEST) -m "not slow"

bench: $(STAMP) ## run the benchmarks (36, 1,000, 10,000 and 40,000 schools; ~30 min on 2 cores) and print the figures against the goals
	$(PY) benchmarks/run.py

bench-quick: $(STAMP) ## smoke benchmark: 36 and 1,000 schools
	$(PY) benchmarks/run.py --quick

publish: $(STAMP) ## copy the publishable site (pages, the years' documents as PDF; never letters or tables) to OUT: make publish OUT=/path/to/site
	$(PY) -m pipeline publish --out $(OUT)

strip: $(STAMP) ## strip outputs from the notebooks in notebooks/ (keep git clean)
	$(PY) -m pipeline strip-notebooks notebooks

clean-processed: ## delete generated data/processed and reports (raw data is never touched)
	rm -rf data/processed/* reports/*
	@touch data/processed/.gitkeep reports/.gitkeep
