"""Retrieval quality on labelled interviewer questions: Recall@3 >= 0.9, MRR reported."""

from __future__ import annotations

import pytest

from evaluation.retrieval import evaluate, load_questions


@pytest.mark.slow
def test_recall_at_3_on_interviewer_questions(encoder) -> None:
    from knowledge.retriever import Retriever

    questions = load_questions()
    assert len(questions) >= 50
    report = evaluate(Retriever.load(encoder, include_notes=False), questions)
    print("\n".join(report.lines()))  # shown with -s or on failure: the figures and every miss
    assert report.recall[3] >= 0.9, "\n".join(report.lines())
    assert report.mrr >= 0.75
