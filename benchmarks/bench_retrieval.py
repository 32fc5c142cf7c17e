"""Retrieval: index build time, query latency (p50/p95) and approximate-index recall.

Sizes: the shipped corpus, and 10k / 100k synthetic passages.  Embedding 100k real
texts would take ~7 minutes on 2 cores, so synthetic vectors are made from the real
passage embeddings (a random mix of two passages plus noise, renormalised): they keep
the clustered shape of real text embeddings, which is what makes HNSW's recall
meaningful (uniform random vectors are its worst case and unlike real data).

For each size: flat (exact) vs HNSW build time, single-query search latency (k=5), and
HNSW recall@5 against exact search.  Also the end-to-end ``Retriever.search`` latency
(encode the query + search) on the shipped corpus.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import Result, latency_rows, time_calls


def _synthetic(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    i = rng.integers(0, len(base), size=n)
    j = rng.integers(0, len(base), size=n)
    w = rng.uniform(0.5, 1.0, size=(n, 1)).astype(np.float32)
    vecs = w * base[i] + (1 - w) * base[j] + rng.normal(scale=0.04, size=(n, base.shape[1])).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs.astype(np.float32)


def run(quick: bool = False) -> list[Result]:
    from core.embedding import Embedder
    from knowledge.index import make_index
    from knowledge.retriever import Retriever

    rows: list[Result] = []
    embedder = Embedder.load()
    start = time.perf_counter()
    retriever = Retriever.load(embedder, include_notes=False)
    rows.append(Result("retrieval", f"shipped ({len(retriever.corpus)})", "index ready", time.perf_counter() - start, "s"))
    queries = [
        "why divide by the square root of the key dimension",
        "when would you not use deep learning",
        "what does dropout do at inference",
        "how does AdamW differ from Adam",
        "why use warmup for transformers",
        "batch norm with a batch of four",
    ]
    e2e = time_calls(lambda i: retriever.search(queries[i % len(queries)], k=5), 60)
    rows += latency_rows("retrieval", "shipped, encode+search", e2e)

    base = retriever.index.vectors
    rng = np.random.default_rng(0)
    query_vecs = embedder.encode(queries * 20)
    sizes = [("shipped", base)] + [
        (f"{n // 1000}k", _synthetic(base, n, rng)) for n in ((10_000, 30_000) if quick else (10_000, 100_000))
    ]
    for label, vecs in sizes:
        exact = make_index(vecs, "flat")
        _, truth = exact.search(query_vecs, 5)
        for kind in ("flat", "hnsw"):
            start = time.perf_counter()
            index = make_index(vecs, kind)
            build = time.perf_counter() - start
            rows.append(Result("retrieval", f"{label} {kind}", "build", build, "s"))
            lat = time_calls(lambda i, index=index: index.search(query_vecs[i % len(query_vecs)][None, :], 5), 200)
            rows += latency_rows("retrieval", f"{label} {kind}", lat)
            if kind == "hnsw":
                _, got = index.search(query_vecs, 5)
                recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(truth, got)])
                rows.append(Result("retrieval", f"{label} {kind}", "recall@5 vs exact", float(recall), "", ">= 0.95"))
    return rows
