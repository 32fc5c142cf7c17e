"""Sentence embeddings, shared by retrieval (``knowledge``) and grading (``rubrics``).

Both layers need the same thing: unit-length float32 vectors, so that an inner product
is a cosine similarity (what FAISS ``IndexFlatIP`` and the grader compute).  This thin
wrapper guarantees that, gives the model a stable identity for cache keys, and counts
how many texts it has encoded so tests can prove a cache hit did no embedding.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Encoder(Protocol):
    """What retrieval and grading need from an embedding model."""

    identity: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array of unit-length rows."""
        ...


@dataclass
class Embedder:
    """A sentence-transformers model that returns normalised float32 vectors."""

    model: Any
    identity: str
    batch_size: int = 64
    texts_encoded: int = field(default=0, init=False)

    @classmethod
    def load(cls, source: str | os.PathLike[str] | None = None) -> Embedder:
        from viva.models import load_embedder, resolve_embedder_path

        path = resolve_embedder_path(source)
        model = load_embedder(path)
        return cls(model=model, identity=embedder_identity(path))

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        self.texts_encoded += len(texts)
        return np.ascontiguousarray(vecs, dtype=np.float32)


def embedder_identity(path: Path) -> str:
    """A stable name for a model folder: its name plus a hash of its config files.

    Two different models never share a cache entry, and the same model installed in
    another venv (another path) still does.
    """
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json"):
        file = path / name
        if file.is_file():
            digest.update(file.read_bytes())
    weights = path / "model.safetensors"
    if weights.is_file():
        digest.update(str(weights.stat().st_size).encode())
    return f"{path.name}-{digest.hexdigest()[:12]}"
