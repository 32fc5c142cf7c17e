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
