"""The default embedder without sentence-transformers: the library's vectors, a second sooner.

``core.mean_pool`` runs a sentence-transformers folder of the usual shape (Transformer ->
mean Pooling -> Normalize) without the library (its BERT on torch alone, ``core.bert``:
``tests/test_bert.py``), so a start does not import
sentence-transformers (and scikit-learn under it).  What must hold: the vectors are the
library's, a folder of any other shape still goes through the library, and the app's load
really leaves it unimported.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.mean_pool import MeanPoolEncoder, mean_pool_spec

TEXTS = [
    "um so basically dropout is like randomly switching off units while training",
    "ok",
    "The receptive field grows with every conv layer. " * 60,  # past 256 tokens: truncated alike
    "[bold]markup[/bold] and caf\u00e9 \u2014 unicode",
]


def _shipped() -> Path:
    from core.models import default_embedder_path

    return default_embedder_path()


def _copy_with_pooling(tmp_path: Path, **modes: bool) -> Path:
    """The shipped folder with another pooling config (weights linked, not copied)."""
    src, dst = _shipped(), tmp_path / "embedder"
    dst.mkdir()
    for item in src.iterdir():
        if item.name != "1_Pooling":
            (dst / item.name).symlink_to(item)
    (dst / "1_Pooling").mkdir()
    config = json.loads((src / "1_Pooling" / "config.json").read_text())
    config.update(modes)
    (dst / "1_Pooling" / "config.json").write_text(json.dumps(config))
    return dst


def test_the_shipped_folder_is_the_supported_shape() -> None:
    spec = mean_pool_spec(_shipped())
    assert spec is not None and spec.dimension == 384 and spec.max_seq_length == 256


@pytest.mark.parametrize("modes", [{"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True},
                                   {"pooling_mode_max_tokens": True}])
def test_another_pooling_is_not_taken_for_mean(tmp_path: Path, modes: dict[str, bool]) -> None:
    assert mean_pool_spec(_copy_with_pooling(tmp_path, **modes)) is None


def test_unreadable_config_is_left_to_the_library(tmp_path: Path) -> None:
    (tmp_path / "modules.json").write_text("{not json")
    assert mean_pool_spec(tmp_path) is None


@pytest.mark.slow
def test_vectors_equal_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    from sentence_transformers import SentenceTransformer

    from core.embedding import Embedder

    monkeypatch.setenv("VIVA_BF16", "0")  # the library's own precision, to compare like with like
    ours = Embedder.load()
    assert isinstance(ours.model, MeanPoolEncoder)
    theirs = SentenceTransformer(str(_shipped()), device="cpu", local_files_only=True)
    expected = theirs.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(ours.encode(TEXTS), expected, atol=1e-5)
    assert ours.dimension == theirs.get_embedding_dimension() == 384


@pytest.mark.slow
def test_another_shape_goes_through_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sentence_transformers import SentenceTransformer

    from core.embedding import Embedder

    monkeypatch.setenv("VIVA_BF16", "0")
    folder = _copy_with_pooling(tmp_path, pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    loaded = Embedder.load(folder)
    assert isinstance(loaded.model, SentenceTransformer)
    cls = SentenceTransformer(str(folder), device="cpu").encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(loaded.encode(TEXTS), cls, atol=1e-5)


# That a start really leaves sentence-transformers (and scikit-learn) unimported is checked
# with transformers and peft in tests/test_bert.py::test_a_start_imports_neither_transformers_nor_peft.
