"""How the grader's map and belief threshold are fitted (pure arithmetic, no encoder)."""

from __future__ import annotations

import numpy as np

from evaluation.calibrate import BELIEF_FOLDS, _best_threshold, _fold, fit_isotonic, fit_quantile


def _noisy_grades(n: int = 600, noise: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 6, n).astype(float)
    raw = np.clip(labels / 5 + rng.normal(0, noise, n), 0, 1)
    return raw, labels


def test_the_quantile_map_gives_scores_the_labels_spread_where_the_isotonic_fit_shrinks_them() -> None:
    raw, labels = _noisy_grades()
    qx, qy = fit_quantile(raw, labels)
    ix, iy = fit_isotonic(raw, labels)
    assert qx[0] == 0.0 and qx[-1] == 1.0 and all(b > a for a, b in zip(qx, qx[1:]))
    assert all(b >= a for a, b in zip(qy, qy[1:])) and qy[0] == 0.0 and qy[-1] == 5.0
    quantile = np.interp(raw, qx, qy)
    isotonic = np.interp(raw, ix, iy)
    top = labels == 5
    # The best answers: the isotonic mean of their noisy neighbours is well under 5 ...
    assert isotonic[top].mean() < quantile[top].mean()
    # ... and the spread of the scores is the labels' (within noise), the isotonic one narrower.
    assert abs(quantile.std() - labels.std()) < abs(isotonic.std() - labels.std())
    assert abs(quantile.mean() - labels.mean()) < 0.15
    # Monotone, so it ranks exactly as raw does.
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(quantile[order]) >= -1e-9)


def test_the_quantile_map_places_each_label_at_its_share_of_the_answers() -> None:
    raw = np.linspace(0, 1, 101)
    labels = np.repeat([0.0, 5.0], [51, 50])  # the lower half graded 0, the upper 5
    x, y = fit_quantile(raw, labels)
    # Each label at the middle of its answers (raw 0.25 and 0.75), straight lines between.
    assert np.interp(0.2, x, y) == 0.0 and np.interp(0.8, x, y) == 5.0
    assert abs(np.interp(0.5, x, y) - 2.5) < 0.1


def test_folds_are_fixed_by_the_rung_and_cover_every_fold() -> None:
    refs = [f"topic-{i}:rung-{i % 7}" for i in range(200)]
    assert [_fold(r) for r in refs] == [_fold(r) for r in refs]  # sha256, not the per-process hash()
    assert {_fold(r) for r in refs} == set(range(BELIEF_FOLDS))


def test_the_threshold_favours_precision_when_beta_is_below_one() -> None:
    # Positives at 0.6-0.9, negatives spread over 0.3-0.7: beta 0.5 must sit above the overlap.
    scores = [(s, True) for s in np.linspace(0.6, 0.9, 20)] + [(s, False) for s in np.linspace(0.3, 0.7, 20)]
    assert _best_threshold(scores, 0.5) > _best_threshold(scores, 2.0)
    assert _best_threshold(scores, 0.5) >= 0.7 - 1e-9


def test_balanced_weights_make_every_grade_count_equally() -> None:
    from evaluation.calibrate import balanced_weights

    labels = [5.0] * 30 + [1.5] * 70
    w = balanced_weights(labels)
    assert abs(w[:30].sum() - w[30:].sum()) < 1e-9
    assert abs(w.sum() - len(labels)) < 1e-9  # same total weight as unweighted


def test_the_balanced_reference_map_does_not_echo_the_fitting_sets_base_rate() -> None:
    """Two sets with the same evidence per answer but 20% and 60% right answers: fitted as they
    are, the same raw value maps to very different scores; balanced, to about the same."""
    from evaluation.calibrate import balanced_weights

    rng = np.random.default_rng(3)

    def sample(share_right: float, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
        right = rng.random(n) < share_right
        raw = np.clip(np.where(right, 0.6, 0.4) + rng.normal(0, 0.12, n), 0, 1)
        return raw, np.where(right, 5.0, 1.5)

    plain, balanced = [], []
    for share in (0.2, 0.6):
        raw, labels = sample(share)
        plain.append(np.interp(0.5, *fit_isotonic(raw, labels)))
        balanced.append(np.interp(0.5, *fit_isotonic(raw, labels, balanced_weights(labels))))
    assert abs(plain[1] - plain[0]) > 1.0
    assert abs(balanced[1] - balanced[0]) < 0.4
    assert 2.6 < balanced[0] < 3.9  # halfway evidence: about halfway between 1.5 and 5


def test_the_fit_keeps_answers_whose_score_rounded_down() -> None:
    """A grade's score is rounded to 2 decimals; an uncapped answer must not look capped."""
    from evaluation.calibrate import ROUNDING

    raw = 0.4567
    linear = 5 * raw  # 2.2835
    assert round(linear, 2) < linear - 1e-6  # the old test called this answer capped
    assert round(linear, 2) >= linear - ROUNDING


class _Constant:
    """A judge that answers one number and notes what it was asked."""

    def __init__(self, value: float) -> None:
        self.value, self.asked = value, []

    def entails(self, pairs):
        self.asked.extend(pairs)
        return np.full(len(pairs), self.value, dtype=np.float32)


def test_cross_fitting_asks_about_a_training_rung_a_judge_that_never_saw_it() -> None:
    from evaluation.calibrate import JUDGE_FOLDS, CrossFitJudge, is_held_out, judge_fold
    from rubrics.bank import load_bank

    bank = load_bank()
    shipped, left_out = _Constant(0.5), [_Constant(float(k)) for k in range(JUDGE_FOLDS)]
    judge = CrossFitJudge.build(shipped, left_out, bank)
    rungs = [(f"{t.topic}:{r.id}", r) for t, r in bank.all_rungs()]
    train = [(ref, r) for ref, r in rungs if not is_held_out(ref)]
    held = next(r for ref, r in rungs if is_held_out(ref))
    # A key point of a training rung in each fold, a held-out rung's, and a public reference.
    asked = [("w", next(r for ref, r in train if judge_fold(ref) == k).key_points[0].text) for k in range(JUDGE_FOLDS)]
    asked += [("w", held.key_points[0].text), ("w", "A reference answer no rubric has.")]
    got = judge.entails(asked)
    assert list(got) == [*map(float, range(JUDGE_FOLDS)), 0.5, 0.5]
    assert shipped.asked == asked[JUDGE_FOLDS:]
    assert all(len(j.asked) == 1 for j in left_out)
    # Both folds are used: a fold's judge is trained on the other fold's rungs.
    assert {judge_fold(ref) for ref, _ in train} == set(range(JUDGE_FOLDS))
