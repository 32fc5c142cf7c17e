"""The grader against a careful interviewer's labels, on rungs it was never fitted on.

Floor: Pearson >= 0.80 on the held-out split (calibration fitted on the rest).  The
other figures (Spearman, RMSE, QWK, key-point and misconception precision/recall) are
printed, and README quotes them from ``python -m rubrics.calibrate``.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from rubrics.calibrate import grade_prepared, held_out_report, is_held_out, load_labelled, prepare

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prepared(encoder):
    """Every labelled answer's windows, embedded once for all the tests here."""
    from rubrics.bank import load_bank
    from rubrics.grader import Grader

    bank = load_bank()
    return prepare(load_labelled(bank=bank), bank, Grader(encoder))


def test_the_labelled_set_is_big_and_varied() -> None:
    items = load_labelled()
    assert len(items) >= 300
    assert len({i.rung_ref for i in items}) >= 30
    kinds = {i.kind for i in items}
    assert {"strong", "partial", "rambling", "misconception", "off-topic", "empty"} <= kinds
    held = [i for i in items if is_held_out(i.rung_ref)]
    assert 0.15 * len(items) <= len(held) <= 0.45 * len(items)


def test_held_out_agreement_with_people(encoder, prepared) -> None:
    train, test, calibration = held_out_report(encoder, prepared=prepared)
    print("\n".join(["train:", *train.lines(), "held-out:", *test.lines()]))
    assert test.pearson >= 0.80, "\n".join(test.lines())
    # The fitted map is monotone: more coverage never lowers the score.
    assert all(b >= a for a, b in zip(calibration.y, calibration.y[1:]))
    # Nothing-answers are not rewarded.
    for kind in ("empty", "off-topic", "restates"):
        if kind in test.by_kind:
            assert test.by_kind[kind][2] <= 1.5, (kind, test.by_kind[kind])


def test_a_misconception_never_raises_a_score(encoder, prepared) -> None:
    from rubrics.grader import Calibration, Grader

    grader = Grader(encoder)  # the shipped calibration
    blind = Grader(encoder, Calibration(x=grader.calibration.x, y=grader.calibration.y, params=replace(grader.params, mis_abs=2.0)))
    wrong = [p for p in prepared if p.item.misconceptions]
    assert len(wrong) >= 20
    seen, unseen = grade_prepared(grader, wrong), grade_prepared(blind, wrong)
    assert any(g.misconceptions for g in seen)
    for p, a, b in zip(wrong, seen, unseen):
        assert a.score <= b.score + 1e-9, p.item.source
