"""The retrieval API the agent (and ``viva knowledge search``) uses.

``Retriever.search(query, k, topic=..., track=...)`` returns passages with their cosine
score and source.  Unfiltered queries go through the FAISS index; a topic or track
filter narrows the candidates first and ranks them exactly (the subsets are small, and
post-filtering an approximate top-k could return fewer than k hits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from knowledge.corpus import Corpus, load_corpus
from knowledge.index import VectorIndex, build_or_load
from knowledge.passages import Passage
from viva.embedding import Encoder


@dataclass(frozen=True)
class Hit:
    """A retrieved passage and its cosine similarity to the query."""

    passage: Passage
    score: float

    def to_dict(self) -> dict:
        p = self.passage
        return {
            "id": p.id,
            "score": round(self.score, 4),
            "source": p.source,
            "topic": p.topic,
            "heading": p.heading,
            "tracks": list(p.tracks),
            "depth": p.depth,
            "text": p.text,
        }


class Retriever:
    """Semantic search over a :class:`Corpus` with a cached FAISS index."""

    def __init__(self, corpus: Corpus, encoder: Encoder) -> None:
        self.corpus = corpus
        self.encoder = encoder
        self.index: VectorIndex = build_or_load(
            ids=[p.id for p in corpus.passages],
            texts=[p.embedding_text() for p in corpus.passages],
            fingerprint=corpus.fingerprint(),
            encoder=encoder,
        )
        self._topics = np.array([p.topic for p in corpus.passages], dtype=object)

    @classmethod
    def load(cls, encoder: Encoder, include_notes: bool = True) -> Retriever:
        return cls(load_corpus(include_notes=include_notes), encoder)

    def search(
        self,
        query: str,
        k: int = 3,
        *,
        topic: str | Sequence[str] | None = None,
        track: str | None = None,
        max_depth: int | None = None,
    ) -> list[Hit]:
        """The ``k`` passages most similar to ``query``, optionally filtered."""
        if not query.strip() or k <= 0 or not len(self.corpus):
            return []
        vec = self.encoder.encode([query])[0]
        topics = {topic} if isinstance(topic, str) else set(topic or ())
        if topics or track or max_depth:
            rows = np.array(
                [
                    i
                    for i, p in enumerate(self.corpus.passages)
                    if (not topics or p.topic in topics)
                    and (not track or track in p.tracks or p.user)
                    and (not max_depth or p.depth <= max_depth)
                ],
                dtype=np.int64,
            )
            ranked = self.index.search_subset(vec, rows, k)
        else:
            ranked = self.index.search(vec, k)
        return [Hit(self.corpus.passages[row], score) for row, score in ranked]

    def passage(self, passage_id: str) -> Passage | None:
        return self.corpus.get(passage_id)


__all__ = ["Hit", "Retriever", "asdict"]
