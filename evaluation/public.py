"""Human-graded answers the project did not write: SemEval-2013 Task 7 (SciEntsBank, Beetle).

The grader is fitted and checked on answers written for viva; a score tuned only on
answers written the way the rubrics were written measures itself.  SemEval-2013's
student answers, each graded correct or incorrect by people against a reference
answer, are the development set that keeps it honest: the grader sees each as an ad-hoc
rung (question + reference, as ``viva grade --reference`` does), and its AUC and
accuracy on the unseen-answers, unseen-questions and unseen-domains test splits are
reported beside plain cosine similarity between answer and reference measured in the
same run.  Data, source and licence: ``evaluation/data/semeval2013/README.md``.

Thresholds for accuracy are chosen on the training split, for both methods alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.embedding import Encoder
from rubrics.grader import Grader
from rubrics.schema import Rung, adhoc_rung

DATA = Path(__file__).resolve().parent / "data" / "semeval2013"
SPLITS = {
    "scientsbank": ("test-unseen-answers", "test-unseen-questions", "test-unseen-domains"),
    "beetle": ("test-unseen-answers", "test-unseen-questions"),
}
# SemEval's 2-way "incorrect" merges partially correct (about 3/5 from a human grader),
# contradictory (about 1/5) and irrelevant or off-domain (0/5) answers; in the 5-way
# training data those are 25%, 12% and 22% of answers, so an "incorrect" answer is worth
# about 1.5 on a 0-5 scale and a "correct" one 5.  The reference scale is fitted to that.
CORRECT_SCORE = 5.0
INCORRECT_SCORE = 1.5


@dataclass(frozen=True)
class Graded:
    """A student answer graded by people against a reference answer."""

    dataset: str
    split: str
    id: str
    question: str
    reference: str
    answer: str
    label: int  # 1 correct, 0 not


def load(dataset: str, split: str, limit: int = 0) -> list[Graded]:
    """One split; ``limit`` keeps a deterministic sample (every k-th answer in file order)."""
    path = DATA / dataset / f"{split}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit and len(rows) > limit:
        step = len(rows) / limit
        rows = [rows[int(i * step)] for i in range(limit)]
    return [Graded(dataset, split, r["id"], r["question"], r["reference"], r["answer"], int(r["label"])) for r in rows]


def rungs(items: Sequence[Graded]) -> list[Rung]:
    """The ad-hoc rung of each item (one per distinct question and reference)."""
    cache: dict[tuple[str, str], Rung] = {}
    out = []
    for it in items:
        key = (it.reference, it.question)
        if key not in cache:
            cache[key] = adhoc_rung(it.reference, it.question)
        out.append(cache[key])
    return out


def cosine(encoder: Encoder, items: Sequence[Graded]) -> np.ndarray:
    """The baseline: cosine between the whole answer and the whole reference."""
    answers = encoder.encode([it.answer for it in items])
    refs = encoder.encode([it.reference for it in items])
    return (answers * refs).sum(axis=1)


def ours(grader: Grader, items: Sequence[Graded]) -> np.ndarray:
    """viva's 0-5 score for each answer, graded against its reference as an ad-hoc rung."""
    rs = rungs(items)
    embedded = grader.embed([(r, it.answer, None) for r, it in zip(rs, items)])
    return np.array([grader.grade_embedded(r, e).score for r, e in zip(rs, embedded)])


def auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def best_threshold(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The cut that maximises accuracy (chosen on the training split)."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels)
    cuts = np.unique(s)
    accs = [((s >= c) == (y == 1)).mean() for c in cuts]
    return float(cuts[int(np.argmax(accs))])


def accuracy(scores: Sequence[float], labels: Sequence[int], threshold: float) -> float:
    return float(((np.asarray(scores) >= threshold) == (np.asarray(labels) == 1)).mean())


@dataclass
class SplitResult:
    dataset: str
    split: str
    n: int
    auc: float
    accuracy: float
    cosine_auc: float
    cosine_accuracy: float
    mean_score: float  # ours, 0-5
    mean_correct: float
    mean_incorrect: float

    def line(self) -> str:
        return (
            f"{self.dataset:<12} {self.split:<22} n={self.n:<5} AUC {self.auc:.3f} (cosine {self.cosine_auc:.3f})  "
            f"acc {self.accuracy:.3f} (cosine {self.cosine_accuracy:.3f})  mean score {self.mean_score:.2f} "
            f"[correct {self.mean_correct:.2f}, incorrect {self.mean_incorrect:.2f}]"
        )


def evaluate(grader: Grader, encoder: Encoder, limit: int = 0, train_limit: int = 0) -> list[SplitResult]:
    """Every unseen split of both datasets, ours beside cosine, thresholds from each training split."""
    results = []
    for dataset, splits in SPLITS.items():
        train = load(dataset, "train", train_limit)
        ty = [t.label for t in train]
        t_ours, t_cos = best_threshold(ours(grader, train), ty), best_threshold(cosine(encoder, train), ty)
        for split in splits:
            items = load(dataset, split, limit)
            y = [it.label for it in items]
            s, c = ours(grader, items), cosine(encoder, items)
            yy = np.array(y)
            results.append(SplitResult(
                dataset, split, len(items), auc(s, y), accuracy(s, y, t_ours), auc(c, y), accuracy(c, y, t_cos),
                float(s.mean()), float(s[yy == 1].mean()), float(s[yy == 0].mean()),
            ))
    return results
