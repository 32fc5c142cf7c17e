"""The retrieval API the agent (and ``viva knowledge search``) uses.

``Retriever.search(query, k, topic=..., track=...)`` returns passages with their cosine
score and source.  Unfiltered queries go through the FAISS index; a topic or track
filter narrows the candidates first and ranks them exactly (the subsets are small, and
post-filtering an approximate top-k could return fewer than k hits).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.embedding import Encoder
from knowledge.corpus import Corpus, load_corpus
from knowledge.index import VectorIndex, build_or_load
from knowledge.passages import Passage


@dataclass(frozen=True)
class Hit:
    """A retrieved passage and its relevance: cosine similarity of its best view, plus
    ``LEXICAL_WEIGHT`` times its TF-IDF match (so it can exceed 1)."""

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
        ids, texts, owner = [], [], []
        for row, p in enumerate(corpus.passages):
            for n, text in enumerate(views(p)):
                ids.append(f"{p.id}#{n}")
                texts.append(text)
                owner.append(row)
        self._owner = np.array(owner, dtype=np.int64)
        self._views_of: list[list[int]] = [[] for _ in corpus.passages]
        for view, row in enumerate(owner):
            self._views_of[row].append(view)
        self.index: VectorIndex = build_or_load(ids=ids, texts=texts, fingerprint=corpus.fingerprint(), encoder=encoder)
        self._lexical = _Lexical([p.embedding_text() for p in corpus.passages]) if len(corpus) else None
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
        # Each passage is indexed as several views (whole, and windows of a few
        # sentences); a passage scores as its best view.  Ask for enough views to fill k.
        want = max(k * 8, 24)
        keep = None
        if topics or track or max_depth:
            keep = np.array(
                [
                    (not topics or p.topic in topics)
                    and (not track or track in p.tracks or p.user)
                    and (not max_depth or p.depth <= max_depth)
                    for p in self.corpus.passages
                ],
                dtype=bool,
            )
            rows = np.flatnonzero(keep[self._owner]).astype(np.int64)
            ranked = self.index.search_subset(vec, rows, min(want, len(rows)))
        else:
            ranked = self.index.search(vec, min(want, len(self._owner)))
        best: dict[int, float] = {}
        for row, score in ranked:
            passage = int(self._owner[row])
            if score > best.get(passage, -2.0):
                best[passage] = score
        if self._lexical is not None and LEXICAL_WEIGHT:
            # Hybrid: add a TF-IDF match, which catches exact terms (GQA, SMOTE, fp16)
            # that a small embedder blurs.  Candidates from either side are scored by both.
            lex = self._lexical.scores(query)
            allowed = keep if (topics or track or max_depth) else None
            for p in np.argsort(-lex)[: max(k * 4, 12)]:
                if lex[p] > 0 and (allowed is None or allowed[p]) and int(p) not in best:
                    views = self._views_of[int(p)]
                    best[int(p)] = float((self.index.vectors[views] @ vec).max())
            fused = {p: d + LEXICAL_WEIGHT * float(lex[p]) for p, d in best.items()}
        else:
            fused = best
        top = sorted(fused, key=lambda p: -fused[p])[:k]
        return [Hit(self.corpus.passages[p], fused[p]) for p in top]


VIEW_WORDS = 45
# Weight of the lexical (TF-IDF cosine) score added to the dense one.  Measured on the
# labelled question set (tests/data/retrieval_questions.yaml): dense only Recall@3
# 0.876; + 0.1: 0.886; + 0.2/0.3: 0.914; + 0.5: 0.924.  0.3 sits mid-plateau.
LEXICAL_WEIGHT = 0.3


class _Lexical:
    """TF-IDF over the passages (scikit-learn); cheap to build, so never cached.

    Built in a background thread: importing scikit-learn is ~0.5 s of a start on 2 cores
    (measured), and nothing searches before the candidate has pressed Start.  A search
    that comes first waits for it; a failed build is raised by that search.
    """

    def __init__(self, texts: list[str]) -> None:
        self._done = threading.Event()
        self._error: BaseException | None = None
        self.vectorizer: Any = None
        self.matrix: Any = None
        threading.Thread(target=self._build, args=(texts,), name="viva-tfidf", daemon=True).start()

    def _build(self, texts: list[str]) -> None:
        try:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", ngram_range=(1, 2))
            self.matrix = vectorizer.fit_transform(texts)
            self.vectorizer = vectorizer
        except BaseException as exc:  # noqa: BLE001 - handed to the search that needs it
            self._error = exc
        finally:
            self._done.set()

    def ready(self) -> _Lexical:
        """This index once built (waits for the thread)."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self

    def scores(self, query: str) -> np.ndarray:
        self.ready()
        return (self.matrix @ self.vectorizer.transform([query]).T).toarray().ravel()


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")


def views(p: Passage) -> list[str]:
    """What gets embedded for a passage: the whole of it, then windows of a few sentences.

    MiniLM reads at most 256 word pieces and a 200-word passage is a blur of several
    ideas; a question usually targets one of them.  Windows of about 45 words (two or
    three sentences, overlapping by one) each carry the passage's title and heading.
    """
    head = f"{p.title}: {p.heading}\n"
    sentences = [s for s in _SENTENCE.split(" ".join(p.text.split())) if s]
    out = [p.embedding_text()]
    if len(sentences) <= 2:
        return out
    i = 0
    while i < len(sentences):
        chunk: list[str] = []
        n = 0
        j = i
        while j < len(sentences) and (not chunk or n + len(sentences[j].split()) <= VIEW_WORDS):
            chunk.append(sentences[j])
            n += len(sentences[j].split())
            j += 1
        out.append(head + " ".join(chunk))
        if j >= len(sentences):
            break
        i = max(i + 1, j - 1)
    return out


__all__ = ["Hit", "Retriever", "asdict", "views"]
