"""Retrieval quality on the labelled question set: Recall@k and MRR.

``python -m evaluation.retrieval`` prints the figures and each miss;
``tests/test_retrieval_eval.py`` holds the floor (Recall@3 >= 0.9).
The questions are phrased as an interviewer would say them, not copied from passages.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from core.errors import DataError

if TYPE_CHECKING:  # the type only: main imports the retriever (and numpy) when it runs
    from knowledge.retriever import Retriever

QUESTIONS = Path(__file__).resolve().parents[1] / "tests" / "data" / "retrieval_questions.yaml"


@dataclass
class Report:
    n: int
    recall: dict[int, float]
    mrr: float
    misses: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # question, wanted, got top-3

    def lines(self) -> list[str]:
        out = [
            f"{self.n} questions: " + ", ".join(f"Recall@{k} {v:.3f}" for k, v in self.recall.items()) + f", MRR {self.mrr:.3f}"
        ]
        for q, want, got in self.misses:
            out.append(f"  miss@3: {q}\n     want {want}\n     got  {got}")
        return out


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not item.get("question") or not item.get("relevant"):
            raise DataError(f"{path.name}[{i}]: needs 'question' and a non-empty 'relevant' list")
    return data


def evaluate(retriever: Retriever, questions: Sequence[dict], ks: Sequence[int] = (1, 3, 5), depth: int = 10) -> Report:
    known = {p.id for p in retriever.corpus.passages}
    hits = {k: 0 for k in ks}
    rr = 0.0
    misses = []
    for item in questions:
        want = set(item["relevant"])
        unknown = want - known
        if unknown:
            raise DataError(f"retrieval question {item['question']!r} names unknown passages {sorted(unknown)}")
        got = [h.passage.id for h in retriever.search(item["question"], k=depth)]
        rank = next((i + 1 for i, pid in enumerate(got) if pid in want), None)
        for k in ks:
            hits[k] += rank is not None and rank <= k
        rr += 1.0 / rank if rank else 0.0
        if rank is None or rank > 3:
            misses.append((item["question"], sorted(want), got[:3]))
    n = len(questions)
    return Report(n, {k: hits[k] / n for k in ks}, rr / n, misses)


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m evaluation.retrieval", description=__doc__).parse_args(argv)
    from core.embedding import Embedder
    from knowledge.retriever import Retriever

    report = evaluate(Retriever.load(Embedder.load(), include_notes=False), load_questions())
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
