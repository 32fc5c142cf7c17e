"""Shared fixtures.

Real models are loaded once per test session (session-scoped fixtures): the suite uses
the real embedder and the real default LLM wherever behaviour depends on them, and
fakes only where a test is about the engine's own logic.

Every test runs with its own ``VIVA_DATA_DIR`` so nothing touches the user's real
transcripts or notes.  The model cache (``VIVA_CACHE_DIR``) is shared with the user's
unless already set, so `make test` after `make run` does not dequantize the GGUF again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "viva-data"
    monkeypatch.setenv("VIVA_DATA_DIR", str(data))
    yield data


@pytest.fixture(scope="session")
def embedder():
    from core.models import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def encoder():
    """The real default embedder behind the app's Encoder protocol."""
    from core.embedding import Embedder

    return Embedder.load()


@pytest.fixture(scope="module")
def components():
    """The app's components with the real embedder and judge and a fake LLM (fast replies)."""
    from fakes import EchoInterviewer

    from agent.session import load_components

    return load_components(llm="none", chat_model=EchoInterviewer())


@pytest.fixture(scope="session")
def chat_model():
    from agent.llm import TransformersChatModel

    return TransformersChatModel.load()


def venv_bin(name: str) -> str:
    """Path of a console script installed next to the running interpreter."""
    import sys

    return str(Path(sys.executable).parent / name)


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one pytest worker per core (pytest-xdist); each keeps torch to one
    # thread, or two workers' OpenMP pools spin against each other on 2 cores.  Read by
    # torch when it first loads, here and in the `viva` processes the tests start.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")

# Files that take minutes (the grading evaluation, whole simulated interviews, the real
# model's scripted interviews) start first, so with a worker per core (``--dist
# loadfile``) the short files fill in around them instead of one long file running alone
# at the end.
LONG_FIRST = (
    "test_public_eval.py", "test_grading_eval.py", "test_personas.py", "test_ask.py", "test_cli_reliability.py",
    "test_fault_kill.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONG_FIRST.index(name) if name in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: the order within a file, and of the other files, is kept


@pytest.fixture(scope="session")
def judge():
    """The grader's cross-encoder (rubrics/judge), loaded once."""
    from rubrics.judge import Judge

    return Judge.load()


@pytest.fixture(scope="session")
def grader(encoder, judge):
    """The grader as the app builds it: real embedder, real judge, shipped calibration."""
    from rubrics.grader import Grader

    return Grader(encoder, judge=judge)
