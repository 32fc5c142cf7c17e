"""The grader against people: our own labels on held-out rungs.

(The public human grades it never saw, SemEval-2013, are ``test_public_eval.py``: a
file of its own, so the two longest checks of the suite run on two workers at once.)

* **The project's labelled set** (``tests/data/graded_answers`` and ``graded_traps``):
  the learned models and the map fitted on the training rungs alone
  (``evaluation/data/calibration_train.json``, written with the shipped calibration)
  grade the held-out rungs: Pearson with the labels, misconception precision and
  recall, and the trap floors (confident wrong answers low, correct answers phrased
  with negation not punished).

``python -m evaluation.calibrate`` prints the same figures on the full sets.
"""

from __future__ import annotations

import pytest

from evaluation.calibrate import (
    evaluate,
    grade_prepared,
    is_held_out,
    load_labelled,
    load_train_fit,
    prepare,
    training_fingerprint,
    trap_rates,
)

pytestmark = pytest.mark.slow

# Floors at what grader v2 reaches, with a small margin (the CI machine may run the encoders
# in fp32, which moves these by about 0.01).  Misconception precision meets the 0.9
# since the judge is cross-fitted; recall sits at its 0.8 (measured 0.800); the trap targets
# (confident wrong <= 1.5 in 90%, negation-correct >= 3 in 90%) are not met yet - README
# "Known weak spots" says by how much.
PEARSON_FLOOR = 0.80  # measured 0.838-0.839 (misconceptions 0.926 / 0.800, confident wrong 66%, negation-correct 72-74%)
MIS_PRECISION_FLOOR = 0.9
MIS_RECALL_FLOOR = 0.78
TRAP_FLOORS = {
    "confident-wrong <= 1.5": 0.6,
    "negation-correct >= 3.0": 0.65,
    "dont-know <= 0.5": 0.9,
    "long-ramble >= 2.5": 0.75,
}


@pytest.fixture(scope="module")
def held_out(encoder, judge):
    """Grade the held-out rungs' answers with the fit on the training rungs alone.

    That fit (``evaluation/data/calibration_train.json``) is written with the shipped
    calibration by ``python -m evaluation.calibrate --write`` from the same thresholds;
    its fingerprint says which training answers and rubrics it was fitted on, so an edit
    to either without a refit fails here instead of being measured with a stale model.
    """
    from rubrics.bank import load_bank
    from rubrics.grader import Calibration, Grader

    bank = load_bank()
    items = load_labelled(bank=bank)
    fit, fitted_for = load_train_fit()
    assert fitted_for == training_fingerprint(items, bank), (
        "the labelled training answers or their rubrics changed since the training-rung fit: "
        "run python -m evaluation.calibrate --write (or --write-train)"
    )
    assert fit.params == Calibration.load().params, "the training-rung fit uses other thresholds than the shipped ones"
    assert fit.beliefs.fitted and fit.rubric.points.fitted and fit.rubric.fitted_on > 0
    grader = Grader(encoder, fit, judge=judge)
    held = [i for i in items if is_held_out(i.rung_ref)]
    prepared = prepare(held, bank, grader)
    grades = grade_prepared(grader, prepared)
    return evaluate(grades, held), grades, prepared


def test_the_labelled_set_is_big_varied_and_covers_every_topic() -> None:
    from rubrics.bank import load_bank

    items = load_labelled()
    assert len(items) >= 900
    kinds = {i.kind for i in items}
    assert {"strong", "partial", "rambling", "misconception", "off-topic", "empty", "negation-correct", "confident-wrong",
            "right-number", "wrong-number", "long-ramble", "dont-know"} <= kinds
    assert {i.rung_ref.split(":")[0] for i in items} == set(load_bank().topics)
    held = [i for i in items if is_held_out(i.rung_ref)]
    assert 0.15 * len(items) <= len(held) <= 0.5 * len(items)


def test_held_out_agreement_with_people(held_out) -> None:
    report, _, _ = held_out
    print("\n".join(["held-out:", *report.lines()]))
    assert report.pearson >= PEARSON_FLOOR, "\n".join(report.lines())
    assert report.mis_precision >= MIS_PRECISION_FLOOR and report.mis_recall >= MIS_RECALL_FLOOR, "\n".join(report.lines())
    for kind in ("empty", "off-topic", "restates"):
        assert report.by_kind[kind][2] <= 1.0, (kind, report.by_kind[kind])


def test_traps_on_held_out_rungs(held_out) -> None:
    _, grades, prepared = held_out
    rates = trap_rates(grades, [p.item for p in prepared])
    print(rates)
    for name, floor in TRAP_FLOORS.items():
        n, rate = rates[name]
        assert rate >= floor, (name, n, rate)


def test_a_misconception_never_raises_a_score(held_out, encoder, judge) -> None:
    from dataclasses import replace

    from rubrics.grader import Calibration, Grader
    from rubrics.learned import Logistic

    _, _, prepared = held_out
    shipped = Calibration.load()
    blind = replace(shipped, beliefs=replace(shipped.beliefs, threshold=2.0))  # never says "misconception"
    seeing, not_seeing = Grader(encoder, shipped, judge=judge), Grader(encoder, blind, judge=judge)
    wrong = [p for p in prepared if p.item.misconceptions][:40]
    assert len(wrong) >= 20
    flagged = 0
    for p in wrong:
        a, b = seeing.grade_embedded(p.rung, p.embedded), not_seeing.grade_embedded(p.rung, p.embedded)
        flagged += bool(a.misconceptions)
        assert a.score <= b.score + 1e-9, p.item.source
    assert flagged >= len(wrong) // 2
    assert isinstance(shipped.beliefs, Logistic) and shipped.beliefs.fitted
