# quittance — the two commands: `make demo` and `make test`. Both set up on first run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test local lint typecheck unit template cli integration e2e build bench previews screenshots clean setup lock

setup: $(STAMP)

# System packages (weasyprint's native libraries, Chromium) and the locked Python environment.
$(STAMP): pyproject.toml requirements.lock infra/system-deps.sh
	./infra/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/quittance demo

local: $(STAMP)
	$(BIN)/quittance local up

test: lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Fast: the domain and the pure helpers, no AWS, no subprocess (seconds).
unit: $(STAMP)
	$(BIN)/pytest tests/unit

# template.yaml: SAM translation, cfn-lint, the IAM and alarm rules read from it.
template: $(STAMP)
	$(BIN)/pytest tests/template

# The `quittance` command's staff and operator commands, against moto or a stub API.
cli: $(STAMP)
	$(BIN)/pytest tests/cli

integration: $(STAMP)
	$(BIN)/pytest tests/integration

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

# What of `sam build --use-container` runs without Docker (every function and the quittance
# layer with the SAM CLI, the weasyprint layer's Python packages), then the receipts function
# with both layers against Lambda's 250 MiB. The SAM CLI gets its own virtualenv (pinned).
SAM_VENV := .sam-venv
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)

build: $(STAMP) $(SAM)
	$(BIN)/python -m quittance_ops.build --out build --sam $(SAM)

# PNG previews of the sample receipts in docs/receipts (pdftoppm).
previews: $(STAMP)
	$(BIN)/quittance previews --out docs/receipts

# PNG screenshots of the receipt page in French and English (fresh local stack, headless Chromium).
screenshots: $(STAMP)
	$(BIN)/python -m quittance_ops.screenshots --out docs/receipt-page

# Every benchmark, at its defaults except two that alone take a quarter of an hour or more on
# 2 shared cores (docs/performance.md, "make bench"): the archive with 5,000 receipts instead
# of 20,000 (19 minutes at 20,000, moto walking every item for each index query) and the chaos
# run with 100 payments instead of 1,000 (about 19 minutes); `python bench/archive.py` and
# `python bench/chaos.py` for the full runs.
BENCHES := intake ledger render archive bank_import cold counter cost e2e chaos
BENCH_ARGS_archive := --receipts 5000 --small 1000
BENCH_ARGS_chaos := --payments 100

bench: $(STAMP)
	@$(foreach b,$(BENCHES),echo "== bench/$(b).py $(BENCH_ARGS_$(b))" && \
		$(BIN)/python bench/$(b).py $(BENCH_ARGS_$(b)) &&) true

# Regenerate requirements.lock from a fresh resolve of pyproject.toml.
lock:
	rm -rf /tmp/quittance-lock && $(PYTHON) -m venv /tmp/quittance-lock
	/tmp/quittance-lock/bin/pip install --quiet '.[dev]'
	/tmp/quittance-lock/bin/pip freeze --exclude quittance | sort > requirements.lock

clean:
	rm -rf $(VENV) $(SAM_VENV) out build .pytest_cache .mypy_cache .ruff_cache
