"""A FAISS index over passage embeddings, cached on disk.

* Vectors are L2-normalised, so inner product is cosine similarity.
* Up to :data:`EXACT_LIMIT` passages we use ``IndexFlatIP`` (exact).  Above it we switch
  to HNSW (``IndexHNSWFlat``, inner product): ``benchmarks/bench_retrieval.py``
  measures flat vs HNSW build time, p50/p95 query latency and HNSW recall against exact
  search at the shipped size, 10k and 100k passages; the limit sits where flat search
  stops being clearly faster than a millisecond-class query (see the README table).
* The cache key is a hash of the corpus (every passage's id, text and metadata) and the
  embedder's identity.  A second start with the same corpus and model loads the vectors
  and the index from disk and embeds nothing; any changed passage or model rebuilds.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.embedding import Encoder
from core.paths import cache_dir

EXACT_LIMIT = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96
_FORMAT = 1


def make_index(vectors: np.ndarray, kind: str | None = None) -> Any:
    """Build a FAISS index over unit vectors: flat (exact) or HNSW (approximate)."""
    import faiss

    n, dim = vectors.shape
    kind = kind or ("flat" if n <= EXACT_LIMIT else "hnsw")
    if kind == "flat":
        index: faiss.Index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        index = hnsw
    else:
        raise ValueError(f"unknown index kind {kind!r}")
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def index_kind(index: Any) -> str:
    import faiss

    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


@dataclass
class VectorIndex:
    """Passage vectors (kept for exact filtered search) and the FAISS index over them."""

    ids: list[str]
    vectors: np.ndarray
    index: Any
    from_cache: bool = False

    @property
    def kind(self) -> str:
        return index_kind(self.index)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top-k (row, score) over the whole index."""
        k = min(k, len(self.ids))
        if k <= 0:
            return []
        scores, rows = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    def search_subset(self, query: np.ndarray, rows: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Exact top-k among the given rows (a topic or track filter)."""
        if rows.size == 0:
            return []
        scores = self.vectors[rows] @ query.reshape(-1).astype(np.float32)
        top = np.argsort(-scores)[:k]
        return [(int(rows[i]), float(scores[i])) for i in top]


def cache_key(corpus_fingerprint: str, encoder_identity: str) -> str:
    return f"{corpus_fingerprint}-{encoder_identity}-v{_FORMAT}"


def build_or_load(ids: list[str], texts: list[str], fingerprint: str, encoder: Encoder) -> VectorIndex:
    """Load the cached index for this corpus and encoder, or embed and cache it."""
    folder = cache_dir("index") / cache_key(fingerprint, encoder.identity)
    cached = _load(folder, ids)
    if cached is not None:
        return cached
    vectors = encoder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    index = make_index(vectors)
    _save(folder, ids, vectors, index)
    return VectorIndex(ids=ids, vectors=vectors, index=index)


def _load(folder: Path, ids: list[str]) -> VectorIndex | None:
    import faiss

    try:
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("ids") != ids:
            return None
        vectors = np.load(folder / "vectors.npy")
        index = faiss.read_index(str(folder / "index.faiss"))
    except (OSError, ValueError, RuntimeError):
        return None  # missing or damaged cache: rebuild
    if index.ntotal != len(ids) or vectors.shape[0] != len(ids):
        return None
    return VectorIndex(ids=ids, vectors=vectors, index=index, from_cache=True)


def _save(folder: Path, ids: list[str], vectors: np.ndarray, index: Any) -> None:
    """Write to a temporary folder and rename, so a crash never leaves a half cache."""
    import faiss

    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
        np.save(tmp / "vectors.npy", vectors)
        faiss.write_index(index, str(tmp / "index.faiss"))
        (tmp / "meta.json").write_text(json.dumps({"ids": ids, "format": _FORMAT}))
        if folder.exists():
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        _prune(folder.parent, keep=folder)
    except OSError:
        pass  # an unwritable cache only costs speed


def _prune(root: Path, keep: Path, most: int = 8) -> None:
    """Keep the cache bounded: the newest ``most`` indexes stay, older ones go."""
    import shutil

    entries = sorted((p for p in root.iterdir() if p.is_dir() and p != keep), key=lambda p: p.stat().st_mtime)
    for old in entries[: max(0, len(entries) - (most - 1))]:
        shutil.rmtree(old, ignore_errors=True)
