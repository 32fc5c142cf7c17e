"""Fit and evaluate the grader against labelled answers.

``python -m evaluation.calibrate`` reports, on a held-out split of rungs, how well the
grader agrees with a careful interviewer's 0-5 labels (Pearson, Spearman, RMSE,
quadratic weighted kappa), key-point hit precision/recall and misconception
precision/recall.  ``--write`` then refits on every labelled answer and stores the
result in ``rubrics/calibration.json``, which the grader loads.

The split is by *rung* (a rung's answers are all in or all out), chosen by a hash of
the rung id, so held-out numbers say how the grader does on questions it was never
tuned on.  Fitting has two parts: a small grid search over the grader's thresholds
(maximising Pearson on the training split after calibration), then a monotone map
from raw coverage to the label that gives the scores the labels' spread (``fit_quantile``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from core.errors import DataError
from rubrics.bank import Bank, load_bank
from rubrics.grader import Calibration, Embedded, Grade, Grader, GraderParams, Scale
from rubrics.judge import Entailer
from rubrics.learned import BELIEF_FEATURES, POINT_FEATURES, Logistic
from rubrics.schema import Rung

LABELLED_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "graded_answers"
TRAPS_DIR = LABELLED_DIR.parent / "graded_traps"
HELD_OUT_FRACTION = 0.3
# The fit on the training rungs alone (what the held-out figures are measured with),
# written beside the shipped calibration by ``--write`` so the test grades only the
# held-out answers instead of refitting on the other 70% (ten minutes of a 2-core CI).
TRAIN_FIT_FILE = Path(__file__).resolve().parent / "data" / "calibration_train.json"
KINDS = ("strong", "partial", "rambling", "misconception", "off-topic", "empty", "restates", "short")
TRAP_KINDS = ("negation-correct", "confident-wrong", "right-number", "wrong-number", "long-ramble", "dont-know")


@dataclass
class Labelled:
    """An answer with the score and key points a careful interviewer gave it."""

    rung_ref: str
    score: float
    answer: str
    kind: str = ""
    hits: list[str] = field(default_factory=list)
    misconceptions: list[str] = field(default_factory=list)
    source: str = ""


def load_labelled(directory: Path | Sequence[Path] = (LABELLED_DIR, TRAPS_DIR), bank: Bank | None = None) -> list[Labelled]:
    """Read every labelled file (of one folder or several) and check each item against the bank."""
    bank = bank or load_bank()
    items: list[Labelled] = []
    folders = [directory] if isinstance(directory, Path) else list(directory)
    for path in sorted((p for d in folders for p in d.glob("*.yaml")), key=lambda p: (p.parent.name, p.name)):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for n, raw in enumerate(data):
            where = f"{path.parent.name}/{path.name}[{n}]"
            try:
                item = Labelled(
                    rung_ref=raw["rung"],
                    score=int(raw["score"]),
                    answer=str(raw.get("answer") or ""),
                    kind=str(raw.get("kind", "")),
                    hits=list(raw.get("hits") or []),
                    misconceptions=list(raw.get("misconceptions") or []),
                    source=where,
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise DataError(f"{where}: bad labelled answer: {exc}") from exc
            _, rung = bank.rung(item.rung_ref)
            known = {k.id for k in rung.key_points}
            unknown = set(item.hits) - known
            if unknown:
                raise DataError(f"{where}: hits name unknown key points {sorted(unknown)} of {item.rung_ref}")
            unknown = set(item.misconceptions) - {m.id for m in rung.misconceptions}
            if unknown:
                raise DataError(f"{where}: unknown misconceptions {sorted(unknown)} of {item.rung_ref}")
            if not 0 <= item.score <= 5:
                raise DataError(f"{where}: score must be 0-5")
            items.append(item)
    return items


def is_held_out(rung_ref: str, fraction: float = HELD_OUT_FRACTION) -> bool:
    digest = int(hashlib.sha256(rung_ref.encode()).hexdigest()[:8], 16)
    return (digest % 1000) / 1000 < fraction


@dataclass
class Prepared:
    """A labelled answer with its rung and its embedding, ready to grade with arithmetic only."""

    item: Labelled
    rung: Rung
    embedded: Embedded


def prepare(items: Sequence[Labelled], bank: Bank | None, grader: Grader, rungs: Sequence[Rung] | None = None) -> list[Prepared]:
    """Embed every answer's windows once, in one batch; fitting then only re-runs arithmetic."""
    if rungs is None:
        assert bank is not None
        rungs = [bank.rung(i.rung_ref)[1] for i in items]
    embedded = grader.embed([(r, i.answer, None) for i, r in zip(items, rungs)])
    return [Prepared(i, r, e) for i, r, e in zip(items, rungs, embedded)]


def grade_prepared(grader: Grader, prepared: Sequence[Prepared]) -> list[Grade]:
    """Grade prepared answers (windows of the finer scale dropped when the params say so)."""
    small = grader.params.small_window
    out = []
    for p in prepared:
        e = p.embedded
        if not small and any(w.small for w in e.windows):
            keep = [i for i, w in enumerate(e.windows) if not w.small]
            e = Embedded(e.answer, [e.windows[i] for i in keep], e.vectors[keep], e.gist, e.whole)
        out.append(grader.grade_embedded(p.rung, e))
    return out


def _fit_logistic(X: list[list[float]], y: list[int]) -> list[float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1.0, fit_intercept=False, max_iter=5000, class_weight="balanced")
    clf.fit(np.array(X), np.array(y))
    return [float(c) for c in clf.coef_[0]]


def _best_threshold(scores: Sequence[tuple[float, bool]], beta: float) -> float:
    best_f, best_t = -1.0, 0.5
    for t in np.arange(0.2, 0.96, 0.025):
        tp = sum(1 for s_, pos in scores if s_ >= t and pos)
        fp = sum(1 for s_, pos in scores if s_ >= t and not pos)
        fn = sum(1 for s_, pos in scores if s_ < t and pos)
        f = (1 + beta**2) * tp / ((1 + beta**2) * tp + beta**2 * fn + fp) if tp else 0.0
        if f > best_f:
            best_f, best_t = f, float(t)
    return round(best_t, 3)


BELIEF_FOLDS = 5


def _fold(rung_ref: str, folds: int = BELIEF_FOLDS) -> int:
    return int(hashlib.sha256(f"fold:{rung_ref}".encode()).hexdigest()[:8], 16) % folds


JUDGE_FOLDS = 2


def judge_fold(rung_ref: str) -> int:
    """Which half of the training rungs a rung is in, for cross-fitting the judge."""
    return int(hashlib.sha256(f"judge:{rung_ref}".encode()).hexdigest()[:8], 16) % JUDGE_FOLDS


@dataclass
class CrossFitJudge:
    """The judge a fit reads: for a training rung's statements, a judge that never saw that rung.

    The shipped judge is trained on the training rungs' labelled answer windows
    (``evaluation.train_judge --answer-pairs``).  Fitting the point and belief models on
    its outputs for those same answers would teach them to trust it more than it deserves
    on a rung it has not seen (measured: key-point precision 0.82 -> 0.75 on held-out
    rungs).  So a training rung's pairs go to the judge trained without its fold
    (:func:`judge_fold`), and everything else - held-out rungs, public answers - to the
    shipped judge, exactly as at run time.
    """

    shipped: Entailer
    left_out: Sequence[Entailer]  # left_out[k] was trained without fold k's rungs
    fold_of: dict[str, int]  # a training rung's statement -> its fold

    @classmethod
    def build(cls, shipped: Entailer, left_out: Sequence[Entailer], bank: Bank) -> CrossFitJudge:
        fold_of: dict[str, int] = {}
        held: set[str] = set()
        for topic, rung in bank.all_rungs():
            ref = f"{topic.topic}:{rung.id}"
            texts = [kp.text for kp in rung.key_points] + [t for m in rung.misconceptions for t in (m.text, m.correction)]
            if is_held_out(ref):
                held.update(texts)  # a statement a held-out rung shares goes to the shipped judge
            else:
                for text in texts:
                    fold_of.setdefault(text, judge_fold(ref))
        return cls(shipped, list(left_out), {t: k for t, k in fold_of.items() if t not in held})

    def entails(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        out = np.empty(len(pairs), dtype=np.float32)
        groups: dict[int, list[int]] = {}
        for i, (_, statement) in enumerate(pairs):
            groups.setdefault(self.fold_of.get(statement, -1), []).append(i)
        for k, rows in groups.items():
            judge = self.shipped if k < 0 else self.left_out[k]
            out[rows] = judge.entails([pairs[i] for i in rows])
        return out


def _fit_bags(bags: Sequence[tuple[bool, list[list[float]]]], fitted_on: int) -> Logistic:
    """Multiple-instance logistic fit: every window of a stating answer counts as positive
    at first; then only the window the model likes best in each such answer does."""
    model = Logistic(BELIEF_FEATURES)
    for round_ in range(3):
        X: list[list[float]] = []
        y: list[int] = []
        for pos, xs in bags:
            if pos and round_:
                X.append(max(xs, key=model.probability))
                y.append(1)
            else:
                X.extend(xs)
                y.extend([int(pos)] * len(xs))
        model = Logistic(BELIEF_FEATURES, _fit_logistic(X, y), 0.5, fitted_on)
    return model


def fit_beliefs(grader: Grader, prepared: Sequence[Prepared], beta: float = 0.5) -> Logistic:
    """Fit the belief model (:mod:`rubrics.learned`) on labelled misconceptions.

    An answer names the misconceptions it states, not the window that states them, so
    this is multiple-instance learning (:func:`_fit_bags`).  The threshold maximises
    F-beta (beta < 1 favours precision: a false flag caps a right answer and challenges
    the candidate wrongly) on *out-of-fold* probabilities: each fold of rungs scored by
    a model fitted on the others.  Chosen on the model's own training answers it came
    out too high (0.82: an answer it was fitted on is more confidently right than a new
    one), and recall on new rungs fell to 0.64.
    """
    bags: list[tuple[bool, list[list[float]]]] = []
    folds: list[int] = []
    for p in prepared:
        by_m: dict[str, list[list[float]]] = {}
        for kind, mid, x in grader.examples(p.rung, p.embedded):
            if kind == "belief":
                by_m.setdefault(mid, []).append(x)
        bags.extend((mid in p.item.misconceptions, xs) for mid, xs in by_m.items())
        folds.extend(_fold(p.item.rung_ref) for _ in by_m)
    if not any(pos for pos, _ in bags):
        return Logistic(BELIEF_FEATURES)
    model = _fit_bags(bags, len(prepared))
    scores: list[tuple[float, bool]] = []
    for k in range(BELIEF_FOLDS):
        train = [b for b, f in zip(bags, folds) if f != k]
        test = [b for b, f in zip(bags, folds) if f == k]
        if not test or not any(pos for pos, _ in train) or all(pos for pos, _ in train):
            continue
        fold_model = _fit_bags(train, len(prepared))
        scores += [(max(fold_model.probability(x) for x in xs), pos) for pos, xs in test]
    if not any(pos for _, pos in scores):
        scores = [(max(model.probability(x) for x in xs), pos) for pos, xs in bags]
    return Logistic(BELIEF_FEATURES, model.coef, _best_threshold(scores, beta), len(prepared))


def fit_points(grader: Grader, prepared: Sequence[Prepared], beta: float = 1.0) -> Logistic:
    """Fit a key-point model on the labelled hits (one example per answer and point)."""
    X: list[list[float]] = []
    y: list[int] = []
    for p in prepared:
        for kind, kid, x in grader.examples(p.rung, p.embedded):
            if kind == "point":
                X.append(x)
                y.append(int(kid in p.item.hits))
    if not any(y) or all(y):
        return Logistic(POINT_FEATURES)
    model = Logistic(POINT_FEATURES, _fit_logistic(X, y), 0.5, len(prepared))
    scores = [(model.probability(x), bool(t)) for x, t in zip(X, y)]
    return Logistic(POINT_FEATURES, model.coef, _best_threshold(scores, beta), len(prepared))


def balanced_weights(labels: Sequence[float]) -> np.ndarray:
    """Weights under which every grade people gave counts as often as every other.

    Why: the mean grade at a raw value depends on how common each grade is in the set it
    was fitted on.  SemEval's training answers are 42% correct; a class, a cohort or one
    candidate's practice answers are not SemEval, and a score should say what *this*
    answer's evidence is worth, not echo one data set's base rate (fitted at 42% correct,
    a right answer averaged 3.0-3.6 and every split's mean sat 0.1-0.4 below the people's).
    """
    lab = np.asarray(labels, dtype=float)
    values, counts = np.unique(lab, return_counts=True)
    share = dict(zip(values.tolist(), (counts / counts.sum()).tolist()))
    return np.array([1.0 / (len(values) * share[v]) for v in lab.tolist()])


def fit_isotonic(
    raw: Sequence[float], labels: Sequence[float], weights: Sequence[float] | None = None
) -> tuple[list[float], list[float]]:
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=5.0, increasing=True, out_of_bounds="clip")
    iso.fit(np.asarray(raw), np.asarray(labels, dtype=float), sample_weight=None if weights is None else np.asarray(weights))
    x = [float(v) for v in iso.X_thresholds_]
    y = [float(v) for v in iso.y_thresholds_]
    # Isotonic regression is a staircase: an answer a hair over a step jumps half a
    # point.  Keep one knot per step, at its middle, and interpolate between them: still
    # monotone, but smooth, so small differences in coverage make small differences in score.
    mx, my = [], []
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and y[j + 1] == y[i]:
            j += 1
        mx.append((x[i] + x[j]) / 2)
        my.append(y[i])
        i = j + 1
    x, y = mx, my
    if x[0] > 0.0:
        x, y = [0.0] + x, [y[0]] + y
    if x[-1] < 1.0:
        x, y = x + [1.0], y + [y[-1]]
    return x, y


def fit_quantile(raw: Sequence[float], labels: Sequence[float]) -> tuple[list[float], list[float]]:
    """A monotone map that gives the scores the spread of the labels: label ``v`` sits at the
    raw value with as many answers below it as people graded below ``v``, plus half of those
    they graded ``v``; straight lines in between.

    Why not the isotonic fit: that is the *mean* label at each raw value, and where raw is
    noisy the mean of a strong answer's neighbours is lower than its own grade, so every
    answer is pulled toward the middle: held-out strong answers scored 3.7 where people gave
    4.5, correct answers phrased with negation 3.2 for 3.6.  A score on a grader's scale
    should say "a 4 is an answer better than most", as a grader's 4 does; matching the
    distribution keeps Pearson (the map is monotone either way) and costs a little RMSE.
    """
    r = np.asarray(raw, dtype=float)
    lab = np.asarray(labels, dtype=float)
    xs, ys = [0.0], [0.0]
    for v in sorted(set(lab.tolist())):
        below, upto = float((lab < v).mean()), float((lab <= v).mean())
        x = float(np.quantile(r, (below + upto) / 2))
        if x > xs[-1] + 1e-6:
            xs.append(x)
            ys.append(float(v))
        else:
            ys[-1] = max(ys[-1], float(v))
    if xs[-1] < 1.0:
        xs.append(1.0)
        ys.append(5.0)
    return xs, ys


PARAM_GRID = {
    "lo": [0.30, 0.35, 0.40, 0.45],
    "hi": [0.60, 0.65, 0.70, 0.75],
    "penalty": [0.1, 0.2, 0.3],
    "reject_bonus": [0.0, 0.05, 0.1, 0.15],
    "mis_abs": [0.55, 0.62],  # with a fitted belief model: how close a rejection must be to count
    "gist_weight": [0.0, 0.15, 0.3],
    "gist_lo": [0.1, 0.2, 0.3],
    "gist_hi": [0.6, 0.7, 0.8],
    "contra": [0.5, 0.6, 0.7],
    # At most 1.5: a stated misconception makes the answer a wrong one (the floor for
    # confident wrong answers); a cap of 2 fits Pearson better only by forgiving false flags.
    "mis_cap": [1.0, 1.5],
    "echo": [0.6, 0.75, 0.9],
    "restate": [0.75, 0.85],
    "off_topic": [0.25, 0.3, 0.35, 0.4],
    "short_words": [4, 6, 8],
}


def _with_scale(grader: Grader, params: GraderParams, beliefs: Logistic, rubric: Scale, reference: Scale) -> Calibration:
    grader.calibration = Calibration(params=params, beliefs=beliefs, rubric=rubric, reference=reference)
    return grader.calibration


def _fit_scale(grader: Grader, prepared: Sequence[Prepared], points: Logistic, which: str) -> Scale:
    """The monotone map of one kind of rung, given its point model (the other kind kept as it is)."""
    cal = grader.calibration
    linear = Scale(points=points)
    _with_scale(
        grader,
        cal.params,
        cal.beliefs,
        linear if which == "rubric" else cal.rubric,
        linear if which == "reference" else cal.reference,
    )
    grades = grade_prepared(grader, prepared)
    # Only answers whose score the map decides: a stated misconception, a wrong number,
    # "I don't know", a read-back are held down by their caps whatever the map says, and
    # fitting through them would pull the middle of the map down for everyone else.
    # A grade's score is rounded to 2 decimals: half a hundredth of slack, or every answer
    # whose score rounded down (about half of them) was taken for a capped one and left out.
    decided = [i for i, g in enumerate(grades) if g.score >= linear.score(g.raw) - ROUNDING]
    raw, labels = [grades[i].raw for i in decided], [prepared[i].item.score for i in decided]
    # The project's rubrics are scored on a grader's spread (fit_quantile says why); the
    # ad-hoc reference scale is the mean human grade at each raw value, with right and
    # wrong answers weighted as equally common (balanced_weights says why).
    if which == "rubric":
        x, y = fit_quantile(raw, labels)
    else:
        x, y = fit_isotonic(raw, labels, balanced_weights(labels))
    return Scale(x, y, points, len(decided))


ROUNDING = 0.005 + 1e-6  # Grade.score is rounded to 2 decimals


def _pearson(
    grader: Grader, prepared: Sequence[Prepared], params: GraderParams, beliefs: Logistic, points: Logistic
) -> tuple[float, Calibration]:
    reference = grader.calibration.reference
    _with_scale(grader, params, beliefs, Scale(points=points), reference)
    scale = _fit_scale(grader, prepared, points, "rubric")
    cal = _with_scale(grader, params, beliefs, scale, reference)
    labels = np.array([p.item.score for p in prepared], dtype=float)
    scores = np.array([g.score for g in grade_prepared(grader, prepared)])
    r = float(np.corrcoef(scores, labels)[0, 1]) if scores.std() > 0 else 0.0
    return r, cal


def fit(grader: Grader, prepared: Sequence[Prepared], grid: dict[str, list[float]] | None = None, passes: int = 2) -> Calibration:
    """Fit the rubric scale: the belief model, the point model, thresholds, the monotone map.

    Thresholds move by coordinate ascent on Pearson (one parameter at a time over its
    grid, ``passes`` times round: ~70 gradings of the set instead of the grid's
    millions); the learned models are fitted before the search and again after it.
    """
    grid = PARAM_GRID if grid is None else grid
    params = grader.calibration.params
    beliefs, points = _fit_models(grader, prepared, params)
    best_r, best = _pearson(grader, prepared, params, beliefs, points)
    for _ in range(passes if grid else 0):
        for key, values in grid.items():
            for value in values:
                trial = replace(params, **{key: value})
                if trial.hi <= trial.lo + 0.1 or trial.gist_hi <= trial.gist_lo + 0.1 or trial == params:
                    continue
                r, cal = _pearson(grader, prepared, trial, beliefs, points)
                if r > best_r + 1e-4:
                    best_r, best, params = r, cal, trial
    beliefs, points = _fit_models(grader, prepared, params)
    _, best = _pearson(grader, prepared, params, beliefs, points)
    return best


def _fit_models(grader: Grader, prepared: Sequence[Prepared], params: GraderParams) -> tuple[Logistic, Logistic]:
    """The belief model first (the point model reads its output), then the point model."""
    reference = grader.calibration.reference
    _with_scale(grader, params, Logistic(BELIEF_FEATURES), Scale(), reference)
    beliefs = fit_beliefs(grader, prepared)
    _with_scale(grader, params, beliefs, Scale(), reference)
    return beliefs, fit_points(grader, prepared)


def fit_reference(grader: Grader, prepared: Sequence[Prepared]) -> Scale:
    """Fit the ad-hoc reference scale on human-graded public answers (SemEval training splits).

    Each answer's reference sentences are its key points, all made when people graded
    the answer correct; the map goes to a human grader's 0-5 (see ``evaluation.public``).
    """
    points = fit_points(grader, prepared)
    return _fit_scale(grader, prepared, points, "reference")


def semeval_prepared(grader: Grader, limit: int = 0) -> list[Prepared]:
    """SemEval's training splits as labelled answers against ad-hoc rungs."""
    from evaluation import public

    items = [it for ds in public.SPLITS for it in public.load(ds, "train", limit)]
    rungs = public.rungs(items)
    labelled = [
        Labelled(
            f"semeval:{it.dataset}:{it.id}", public.CORRECT_SCORE if it.label else public.INCORRECT_SCORE, it.answer,
            kind="correct" if it.label else "incorrect",
            hits=[k.id for k in r.effective_key_points()] if it.label else [], source=f"{it.dataset}/train/{it.id}",
        )
        for it, r in zip(items, rungs)
    ]
    return prepare(labelled, None, grader, rungs)


@dataclass
class Report:
    n: int
    pearson: float
    spearman: float
    rmse: float
    qwk: float
    point_precision: float
    point_recall: float
    mis_precision: float
    mis_recall: float
    by_kind: dict[str, tuple[int, float, float]]  # kind -> (n, mean label, mean score)

    def lines(self) -> list[str]:
        out = [
            f"answers           {self.n}",
            f"Pearson           {self.pearson:.3f}",
            f"Spearman          {self.spearman:.3f}",
            f"RMSE              {self.rmse:.3f}",
            f"QWK               {self.qwk:.3f}",
            f"key points        precision {self.point_precision:.3f}  recall {self.point_recall:.3f}",
            f"misconceptions    precision {self.mis_precision:.3f}  recall {self.mis_recall:.3f}",
        ]
        for kind, (n, label, score) in sorted(self.by_kind.items()):
            out.append(f"  {kind:<15} n={n:<4} mean label {label:.2f}  mean score {score:.2f}")
        return out


def evaluate(grades: Sequence[Grade], items: Sequence[Labelled]) -> Report:
    from scipy.stats import pearsonr, spearmanr
    from sklearn.metrics import cohen_kappa_score

    labels = np.array([i.score for i in items], dtype=float)
    scores = np.array([g.score for g in grades], dtype=float)
    tp = fp = fn = 0
    mtp = mfp = mfn = 0
    for g, item in zip(grades, items):
        predicted = {p.id for p in g.hits}
        truth = set(item.hits)
        tp, fp, fn = tp + len(predicted & truth), fp + len(predicted - truth), fn + len(truth - predicted)
        mp, mt = {m.id for m in g.misconceptions}, set(item.misconceptions)
        mtp, mfp, mfn = mtp + len(mp & mt), mfp + len(mp - mt), mfn + len(mt - mp)
    by_kind: dict[str, list[tuple[float, float]]] = {}
    for g, item in zip(grades, items):
        by_kind.setdefault(item.kind or "?", []).append((item.score, g.score))
    return Report(
        n=len(items),
        pearson=float(pearsonr(scores, labels)[0]),
        spearman=float(spearmanr(scores, labels)[0]),
        rmse=float(np.sqrt(np.mean((scores - labels) ** 2))),
        qwk=float(cohen_kappa_score(labels.astype(int), np.rint(scores).astype(int), weights="quadratic")),
        point_precision=tp / (tp + fp) if tp + fp else 0.0,
        point_recall=tp / (tp + fn) if tp + fn else 0.0,
        mis_precision=mtp / (mtp + mfp) if mtp + mfp else 0.0,
        mis_recall=mtp / (mtp + mfn) if mtp + mfn else 0.0,
        by_kind={k: (len(v), float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v]))) for k, v in by_kind.items()},
    )


def training_fingerprint(items: Sequence[Labelled], bank: Bank) -> str:
    """What a training-rung fit was fitted on: the training answers, their labels and their rungs.

    Stored with the fit, so a labelled answer or a rubric edited since makes the held-out
    test say "refit" instead of measuring a model fitted on other data.
    """
    digest = hashlib.sha256()
    train = sorted((i for i in items if not is_held_out(i.rung_ref)), key=lambda i: (i.source, i.rung_ref, i.answer))
    for ref in sorted({i.rung_ref for i in train}):
        digest.update(bank.rung(ref)[1].model_dump_json().encode())
    for i in train:
        digest.update(json.dumps([i.rung_ref, i.score, i.answer, i.kind, sorted(i.hits), sorted(i.misconceptions)]).encode())
    return digest.hexdigest()[:16]


def save_train_fit(calibration: Calibration, fingerprint: str, path: Path = TRAIN_FIT_FILE) -> None:
    calibration.save(path)
    data = json.loads(path.read_text())
    data["fitted_for"] = fingerprint
    path.write_text(json.dumps(data, indent=2) + "\n")


def load_train_fit(path: Path = TRAIN_FIT_FILE) -> tuple[Calibration, str]:
    """The training-rung fit and the :func:`training_fingerprint` it was fitted for ("" if none)."""
    if not path.is_file():
        return Calibration(), ""
    return Calibration.load(path), str(json.loads(path.read_text()).get("fitted_for", ""))


def held_out_report(
    grader: Grader, prepared: Sequence[Prepared], grid: dict[str, list[float]] | None = None
) -> tuple[Report, Report, Calibration]:
    """Fit on the training rungs, evaluate on the held-out rungs. Returns (train, held-out, fit).

    ``grid={}`` keeps the grader's thresholds and refits only the learned models and the
    map (seconds, not minutes: what the test does with the shipped thresholds, which were
    themselves chosen on the training rungs alone).
    """
    train = [p for p in prepared if not is_held_out(p.item.rung_ref)]
    test = [p for p in prepared if is_held_out(p.item.rung_ref)]
    calibration = fit(grader, train, grid)
    train_report = evaluate(grade_prepared(grader, train), [p.item for p in train])
    test_report = evaluate(grade_prepared(grader, test), [p.item for p in test])
    return train_report, test_report, calibration


def trap_rates(grades: Sequence[Grade], items: Sequence[Labelled]) -> dict[str, tuple[int, float]]:
    """The issue's floors: share of confident-wrong answers at most 1.5, of negation-correct ones at least 3."""
    checks = {
        "confident-wrong <= 1.5": ("confident-wrong", lambda s: s <= 1.5),
        "wrong-number <= 1.5": ("wrong-number", lambda s: s <= 1.5),
        "negation-correct >= 3.0": ("negation-correct", lambda s: s >= 3.0),
        "dont-know <= 0.5": ("dont-know", lambda s: s <= 0.5),
        "long-ramble >= 2.5": ("long-ramble", lambda s: s >= 2.5),
    }
    out = {}
    for name, (kind, ok) in checks.items():
        scores = [g.score for g, i in zip(grades, items) if i.kind == kind]
        if scores:
            out[name] = (len(scores), sum(ok(s) for s in scores) / len(scores))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="refit on all labelled answers and save rubrics/calibration.json")
    parser.add_argument("--keep-thresholds", action="store_true", help="skip the threshold search (use the shipped ones)")
    parser.add_argument(
        "--write-train", action="store_true",
        help=f"save only the fit on the training rungs ({TRAIN_FIT_FILE.name}, what the held-out test grades with)",
    )
    parser.add_argument(
        "--cross-fit", nargs=JUDGE_FOLDS, type=Path, metavar="ADAPTER",
        help="the judges trained without each fold's rungs (train_judge --answer-pairs --leave-out-fold K), "
             "in fold order: the models are fitted on their outputs for the training rungs (CrossFitJudge)",
    )
    args = parser.parse_args(argv)
    from core.embedding import Embedder
    from rubrics.judge import Judge

    encoder = Embedder.load()
    bank = load_bank()
    judge: Entailer = Judge.load()
    if args.cross_fit:
        judge = CrossFitJudge.build(judge, [Judge.load(path) for path in args.cross_fit], bank)
    grader = Grader(encoder, Calibration.load() if args.keep_thresholds else Calibration(), judge=judge)
    items = load_labelled(bank=bank)
    prepared = prepare(items, bank, grader)
    train, test, calibration = held_out_report(grader, prepared, {} if args.keep_thresholds else None)
    print(f"Thresholds chosen on the training split: {calibration.params}")
    print("== training split ==")
    print("\n".join(train.lines()))
    print("== held-out split (rungs never seen while fitting) ==")
    print("\n".join(test.lines()))
    held = [p for p in prepared if is_held_out(p.item.rung_ref)]
    for name, (n, rate) in trap_rates(grade_prepared(grader, held), [p.item for p in held]).items():
        print(f"  {name:<26} {rate:.0%} of {n}")
    if args.write or args.write_train:
        save_train_fit(calibration, training_fingerprint(items, bank))
        print(f"wrote {TRAIN_FIT_FILE.relative_to(Path.cwd()) if TRAIN_FIT_FILE.is_relative_to(Path.cwd()) else TRAIN_FIT_FILE}")
    if args.write:
        grader.calibration = Calibration(params=calibration.params)
        final = fit(grader, prepared, grid={})
        grader.calibration = final
        final.reference = fit_reference(grader, semeval_prepared(grader))
        final.save()
        print(f"wrote rubrics/calibration.json: rubric scale fitted on {final.rubric.fitted_on} answers, "
              f"reference scale on {final.reference.fitted_on} public ones")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
