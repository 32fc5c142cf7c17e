"""The grader against people it never saw: SemEval-2013 Task 7's human grades.

SciEntsBank and Beetle, graded by people (``evaluation/public.py``): on every unseen
split, viva's score must beat plain cosine similarity between answer and reference,
measured in the same run, in AUC and in accuracy (thresholds for both chosen on the
training split).  The project's own labelled set is ``test_grading_eval.py``.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

PUBLIC_LIMIT = 800  # answers per unseen split: all of four, a deterministic sample of unseen domains (4,562)
PUBLIC_TRAIN_LIMIT = 1000  # training answers per dataset for choosing the accuracy thresholds


def test_public_human_grades_ours_beats_cosine_on_every_unseen_split(encoder, judge) -> None:
    from evaluation import public
    from rubrics.grader import Grader

    results = public.evaluate(Grader(encoder, judge=judge), encoder, limit=PUBLIC_LIMIT, train_limit=PUBLIC_TRAIN_LIMIT)
    print("\n".join(r.line() for r in results))
    assert {(r.dataset, r.split) for r in results} == {(d, s) for d, splits in public.SPLITS.items() for s in splits}
    for r in results:
        assert r.auc > r.cosine_auc, r.line()
        assert r.accuracy > r.cosine_accuracy, r.line()
        # The scale runs the way a human grader's does: correct answers above incorrect ones.
        assert r.mean_correct > r.mean_incorrect + 0.3, r.line()
    assert sum(r.auc for r in results) > sum(r.cosine_auc for r in results), "\n".join(r.line() for r in results)
