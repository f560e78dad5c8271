# The two README commands: `make run` and `make test`. Both create .venv on first use.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Offline by default: no DVC analytics, no MLflow/Prefect telemetry.
export DVC_NO_ANALYTICS := 1
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: run test test-fast benchmark repro-timing ui promote serve help flow sweep prefect-server flow-serve prefect-overhead

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# aeon only carries the bundled UCR .ts files (pipeline/series/ts_format.py reads them); its own
	# dependencies (numba, pandas<3.1) would downgrade this environment, so it comes without them.
	$(BIN)/python -m pip install --quiet --no-deps 'aeon==1.6.0'
	touch $@

run: $(BIN)/.installed  ## install if needed, then run the pipeline (dvc repro inside one parent MLflow run) on the default data
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pipeline.repro

test: $(BIN)/.installed  ## install if needed, then the whole test suite, one worker per core
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n auto --dist loadgroup

test-fast: $(BIN)/.installed  ## the suite without the slow end-to-end tests
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n auto --dist loadgroup -m "not slow"

benchmark: $(BIN)/.installed  ## the k-shot transfer benchmark (reports/benchmark/transfer.{md,json,png}); QUICK=1 for a tiny run
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/transfer.py $(if $(QUICK),--quick)

repro-timing: $(BIN)/.installed  ## measure a default dvc repro and a no-op repro (benchmarks/repro_timing.py)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/repro_timing.py

ui: $(BIN)/.installed  ## MLflow UI on the embedded store, http://127.0.0.1:5000
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port 5000

promote: $(BIN)/.installed  ## move alias champion to the challenger if it is better (params.yaml registry)
	$(BIN)/python -m pipeline.promote

MODEL ?= headstart-digits
PORT ?= 5001
serve: $(BIN)/.installed  ## serve models:/$(MODEL)@champion (ONNX) on http://127.0.0.1:$(PORT)/invocations
	PATH="$(CURDIR)/$(BIN):$$PATH" MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db} \
	  $(BIN)/mlflow models serve -m "models:/$(MODEL)@champion" --env-manager local -h 127.0.0.1 -p $(PORT)

flow: $(BIN)/.installed  ## the pipeline as a Prefect flow on an ephemeral server (flows/train.py); ARGS="key=value ..."
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m flows.train $(ARGS)

sweep: $(BIN)/.installed  ## fine-tuning sweep, strategies x shots, each a DVC experiment; table in reports/sweep.md
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m flows.sweep $(ARGS)

prefect-server:  ## a persistent Prefect server with its UI, http://127.0.0.1:4200 (schedules need it)
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

flow-serve: $(BIN)/.installed  ## serve the training flow nightly from this machine (needs PREFECT_API_URL)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m flows.serve

prefect-overhead: $(BIN)/.installed  ## time flows.train against plain dvc repro (benchmarks/prefect_overhead.py); ARGS=--tiny
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/prefect_overhead.py $(ARGS)
