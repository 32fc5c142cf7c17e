"""Sentence embeddings, shared by retrieval (``knowledge``) and grading (``rubrics``).

Both layers need the same thing: unit-length float32 vectors, so that an inner product
is a cosine similarity (what FAISS ``IndexFlatIP`` and the grader compute).  This thin
wrapper guarantees that, gives the model a stable identity for cache keys, and counts
how many texts it has encoded so tests can prove a cache hit did no embedding.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
        from core.models import load_embedder, resolve_embedder_path

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
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        with small_batch_threads(len(texts) <= SMALL_BATCH):
            for batch in length_batches([min(len(t), MAX_CHARS) for t in texts], self.batch_size):
                out[batch] = self.model.encode(
                    [texts[i] for i in batch],
                    batch_size=len(batch),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        # Unit length in fp32 whatever model is behind it (a bfloat16 one pools in fp32,
        # core.models, but a user's --embedder may not): an inner product is a cosine.
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        self.texts_encoded += len(texts)
        return out


# Only the free cores up to this many texts: every answer's windows (at most 160, the
# grader's cap, plus its gist) whatever its length.  At 48, a 600-word answer (49 texts)
# took two threads and, beside two busy processes, p95 2.4 s against a p50 of 0.4 s.
SMALL_BATCH = 192
MAX_CHARS = 1400  # past ~256 tokens the encoder truncates: longer texts cost the same
PAD_SLACK = 40  # characters (~8 tokens) of padding per text that a batch may carry before it is cut
PAD_RATIO = 0.8  # ... and past that slack, a text shorter than this share of the batch's longest starts a new one


def length_batches(lengths: Sequence[int], max_batch: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, longest first.

    A transformer batch is padded to its longest text and the CPU pays for every pad
    token: an answer's 8-word windows encoded beside its 220-word gist cost as much as
    49 gists (measured: 5.2 s for a 600-word answer, 10x the real tokens).  Sorting by
    length and cutting where the padding would grow past a few tokens per text costs a
    few extra forward calls and gives the same vectors (padding is masked).  Character
    length stands in for token count.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches:
            batch = batches[-1]
            longest = lengths[batch[0]]
            waste = longest - lengths[i]
            if len(batch) < max_batch and (waste <= PAD_SLACK or lengths[i] >= PAD_RATIO * longest):
                batch.append(i)
                continue
        batches.append([i])
    return batches


@contextmanager
def small_batch_threads(active: bool) -> Iterator[None]:
    """Encode small batches (an answer's windows, a query, the judge's pairs) on the cores
    that are free right now (:func:`core.cpu.spare_threads` says why, and what it costs to
    guess wrong); big batches (building the index) keep torch's own setting.
    """
    if not active:
        yield
        return
    import torch

    from core.cpu import spare_threads

    before = torch.get_num_threads()
    want = spare_threads()
    if want == before:
        yield
        return
    torch.set_num_threads(want)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
