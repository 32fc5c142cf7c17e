"""The grader's two learned judgements: does the answer make a key point, does it state a belief?

Cosine similarity says what a stretch of the answer talks about, not what it claims.
"Dropout stays on at inference" sits as close to "dropout is off at inference" as the
right answer does; "people think dropout makes serving faster, it doesn't" sits as close
to that misconception as the belief itself; a window that merely shares the topic ("fp16
and bf16 are both 16-bit formats") is close to everything.  So each decision is a small
logistic model over features that separate those cases: similarities (to the point or
belief, to its correction, to the question), the direction checks of
:mod:`rubrics.polarity` and :mod:`rubrics.quantities`, and which of the telling words the
window says (the words only the belief uses, or only its correction).

* :class:`Logistic` ``points`` - P(the answer makes key point *k*), from its best windows.
  Its probability is the point's credit; above its threshold the point is *hit*.
* :class:`Logistic` ``beliefs`` - P(a window states misconception *m*).

Both are fitted by ``python -m evaluation.calibrate`` on labelled answers (which name the
points each makes and the misconceptions it states) and stored with the calibration in
``rubrics/calibration.json``.  Without fitted weights the grader falls back to fixed
thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rubrics import polarity

BELIEF_FEATURES = (
    "mis_sim", "corr_sim", "mis_minus_corr", "mis_minus_point", "q_sim", "against_belief", "against_correction",
    "belief_words", "correction_words", "disavowal", "negations", "judge_belief", "judge_correction", "bias",
)
POINT_FEATURES = (
    "best_sim", "agreeing_sim", "best_opposite", "best_number_wrong", "best_number_right", "best_negations",
    "best_disavowal", "point_words", "gist", "belief", "belief_margin", "q_sim", "echo", "log_words", "judge",
    "judge_top", "bias",
)


@dataclass(frozen=True)
class BeliefInput:
    """A window's numbers against one misconception (the rest comes from the texts)."""

    mis_sim: float
    corr_sim: float
    point_sim: float  # best similarity of the window to any key point
    q_sim: float
    judge_belief: float = 0.5  # the cross-encoder: P(window asserts the belief)
    judge_correction: float = 0.5  # ... P(window asserts its correction)


def belief_features(window: str, belief: str, correction: str, c: BeliefInput) -> list[float]:
    """The belief model's inputs for one (window, misconception) pair, in :data:`BELIEF_FEATURES` order."""
    ww = polarity.words(window)
    w_stems = {polarity.stem(w) for w in ww}
    b_stems, c_stems = content_stems(belief), content_stems(correction)
    only_b, only_c = b_stems - c_stems, c_stems - b_stems
    against_b = polarity.compare(window, belief, disavowal=True)
    against_c = polarity.compare(window, correction, disavowal=False)
    return [
        c.mis_sim,
        c.corr_sim,
        c.mis_sim - c.corr_sim,
        c.mis_sim - c.point_sim,
        c.q_sim,
        1.0 if against_b.opposite else 0.0,
        1.0 if against_c.opposite else 0.0,
        len(only_b & w_stems) / max(1, len(only_b)),
        len(only_c & w_stems) / max(1, len(only_c)),
        1.0 if polarity.disavows(ww) else 0.0,
        float(sum(w in polarity.NEGATORS for w in ww)),
        c.judge_belief,
        c.judge_correction,
        1.0,
    ]


@dataclass(frozen=True)
class PointInput:
    """What the grader measured about one key point in one answer."""

    best_sim: float  # best window's similarity to the point
    agreeing_sim: float  # best similarity among windows that do not say its opposite
    best_window: str  # that best window's text (with its left context)
    opposite: bool  # the best window says the point's opposite (every close paraphrase)
    number_wrong: bool  # ... or gives a different number
    number_right: bool  # ... or gives the point's number
    gist: float  # the whole answer against the reference, question words removed
    belief: float  # highest probability that some window states a misconception
    belief_sim: float  # the best window's similarity to its closest misconception
    q_sim: float
    echo: float
    words: int  # content words in the answer
    judge: float = 0.5  # the cross-encoder: P(best window asserts the point)
    judge_top: float = 0.5  # ... the highest over the point's closest windows


def point_features(point: str, question: str, x: PointInput) -> list[float]:
    """The point model's inputs, in :data:`POINT_FEATURES` order."""
    ww = polarity.words(x.best_window)
    own = content_stems(point) - content_stems(question)
    said = {polarity.stem(w) for w in ww}
    return [
        x.best_sim,
        x.agreeing_sim,
        1.0 if x.opposite else 0.0,
        1.0 if x.number_wrong else 0.0,
        1.0 if x.number_right else 0.0,
        float(sum(w in polarity.NEGATORS for w in ww)),
        1.0 if polarity.disavows(ww) else 0.0,
        len(own & said) / max(1, len(own)),
        x.gist,
        x.belief,
        x.belief_sim - x.best_sim,
        x.q_sim,
        x.echo,
        math.log1p(x.words),
        x.judge,
        x.judge_top,
        1.0,
    ]


@lru_cache(maxsize=4096)
def content_stems(text: str) -> frozenset[str]:
    return frozenset(
        polarity.stem(w)
        for w in polarity.words(text)
        if w.isalnum() and w not in polarity.STOPWORDS and w not in polarity.NEGATORS
    )


@dataclass
class Logistic:
    """Logistic weights over named features, and the probability that counts as "yes"."""

    names: tuple[str, ...] = ()
    coef: list[float] = field(default_factory=list)
    threshold: float = 0.5
    fitted_on: int = 0

    @property
    def fitted(self) -> bool:
        return bool(self.coef) and len(self.coef) == len(self.names)

    def probability(self, x: Sequence[float]) -> float:
        z = sum(w * v for w, v in zip(self.coef, x))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_dict(self) -> dict[str, object]:
        return {"features": list(self.names), "coef": self.coef, "threshold": self.threshold, "fitted_on": self.fitted_on}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, names: tuple[str, ...]) -> Logistic:
        """Weights stored for other features are unusable: the grader then uses its thresholds."""
        if not data or list(data.get("features", [])) != list(names):
            return cls(names)
        return cls(names, [float(v) for v in data["coef"]], float(data["threshold"]), int(data.get("fitted_on", 0)))
