"""The judge: does this stretch of the answer assert that statement?

A MiniLM cross-encoder (the shipped embedder's weights with a LoRA adapter trained by
``evaluation/train_judge.py`` on public NLI, negation-NLI and short-answer grading data)
reads a window of the answer and a rubric statement together and gives the
probability that the window asserts it.  Unlike cosine similarity it can notice that
"stays on at inference" does not assert "is off at inference".  The grader uses it as
one input of its learned point and belief models (:mod:`rubrics.learned`), never alone.

Results are cached per (text, statement): a rung's statements come back on every
answer, and calibration grades the same answers many times.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MAX_TOKENS = 128
MAX_CHARS = 700  # past MAX_TOKENS a pair is truncated: longer pairs cost the same
SMALL_BATCH = 48


class Entailer(Protocol):
    """What the grader needs from a judge (tests pass fakes)."""

    def entails(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """P(text asserts statement) for each (text, statement) pair."""
        ...


@dataclass
class Judge:
    model: Any
    tokenizer: Any
    cache_size: int = 50_000
    pairs_scored: int = field(default=0, init=False)
    _cache: OrderedDict[tuple[str, str], float] = field(default_factory=OrderedDict, init=False, repr=False)

    @classmethod
    def load(cls, adapter: Path | None = None) -> Judge:
        """The shipped judge, or one with another adapter (cross-fitting, experiments)."""
        from core.models import load_judge

        model, tokenizer = load_judge(max_tokens=MAX_TOKENS) if adapter is None else load_judge(adapter, MAX_TOKENS)
        return cls(model, tokenizer)

    def entails(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        out = np.empty(len(pairs), dtype=np.float32)
        todo: dict[tuple[str, str], list[int]] = {}
        for i, pair in enumerate(pairs):
            hit = self._cache.get(pair)
            if hit is None:
                todo.setdefault(pair, []).append(i)
            else:
                self._cache.move_to_end(pair)
                out[i] = hit
        if todo:
            keys = list(todo)
            probs = self._score(keys)
            for key, p in zip(keys, probs):
                for i in todo[key]:
                    out[i] = p
                self._cache[key] = float(p)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out

    def _score(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        import torch

        from core.bert import Tokenizer, as_inputs
        from core.embedding import length_batches, small_batch_threads

        self.pairs_scored += len(pairs)
        device = next(self.model.parameters()).device
        out = np.empty(len(pairs), dtype=np.float32)
        with torch.inference_mode(), small_batch_threads(len(pairs) <= SMALL_BATCH):
            lengths = [min(len(t) + len(s), MAX_CHARS) for t, s in pairs]
            for batch in length_batches(lengths, 64):  # like lengths together: padding costs as much as text
                chunk = [pairs[i] for i in batch]
                texts, statements = [t for t, _ in chunk], [s for _, s in chunk]
                if isinstance(self.tokenizer, Tokenizer):  # core.bert's plain torch BERT (the default)
                    logits = self.model.logits(**as_inputs(self.tokenizer(texts, statements), device))
                else:  # transformers and peft
                    enc = self.tokenizer(
                        texts, statements, truncation=True, max_length=MAX_TOKENS, padding=True, return_tensors="pt",
                    ).to(device)
                    logits = self.model(**enc).logits
                probs = torch.sigmoid(logits.float().squeeze(-1)).cpu().reshape(-1).tolist()
                out[batch] = probs
        return out
