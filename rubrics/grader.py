"""The embedding-similarity grader.

Given a rung and a spoken-style answer it returns a 0-5 score and the reasons for it:

* **key points** - each is matched (its statement and every paraphrase) against every
  window of the answer; its best cosine similarity gives it credit on a soft ramp
  between ``params.lo`` and ``params.hi`` and counts as *hit* above ``params.hit``.
  The window that matched is reported verbatim as evidence.
* **misconceptions** - a window that is closer to a misconception than to its
  correction and to every key point, and close enough in absolute terms, is flagged with its span.  Such a
  window earns no key-point credit and each detection subtracts ``params.penalty`` from
  the raw coverage, so a misconception can never raise a score.
* **restating the question** - a window that is closer to the question than to any key
  point, and very close to the question, earns nothing.
* **flags** - ``empty``, ``too-short``, ``off-topic``, ``restates-question``,
  ``misconception``.

Raw weighted coverage (0-1) is mapped to the 0-5 score by a monotone (isotonic)
calibration fitted on labelled answers (``rubrics/calibration.json``, written by
``python -m rubrics.calibrate``).  Without a calibration file the mapping is linear.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rubrics.schema import KeyPoint, Rung
from rubrics.spoken import Window, content_words, echo_ratio, windows
from viva.embedding import Encoder

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"


@dataclass
class GraderParams:
    """Thresholds of the grader; fitted with the calibration, stored beside it."""

    lo: float = 0.35  # below this similarity a key point earns nothing
    hi: float = 0.70  # at or above this it earns full credit
    hit: float = 0.52  # "hit" for the explanation
    restate: float = 0.80  # a window this close to the question (and no closer to a point) is a restatement
    off_topic: float = 0.25  # best similarity of any window to the rung below this: off-topic
    mis_abs: float = 0.62  # a misconception needs at least this similarity...
    mis_margin: float = 0.04  # ...and must beat its correction by this much
    mis_point_margin: float = 0.02  # ...and every key point by this much
    penalty: float = 0.25  # raw coverage lost per misconception
    short_words: int = 4  # fewer content words than this: too short
    echo: float = 0.75  # a window whose content words are this much the question's own: restating
    small_window: int = 8  # words in the finer window scale (0: sentence windows only)
    mis_cap: float = 2.0  # a stated misconception caps the score here (never raises it)


@dataclass
class Calibration:
    """Monotone map from raw coverage to a 0-5 score (isotonic knots)."""

    x: list[float] = field(default_factory=lambda: [0.0, 1.0])
    y: list[float] = field(default_factory=lambda: [0.0, 5.0])
    params: GraderParams = field(default_factory=GraderParams)
    fitted_on: int = 0

    def score(self, raw: float) -> float:
        return float(np.clip(np.interp(raw, self.x, self.y), 0.0, 5.0))

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        return cls(x=data["x"], y=data["y"], params=GraderParams(**data["params"]), fitted_on=data.get("fitted_on", 0))

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        data = {"x": self.x, "y": self.y, "params": asdict(self.params), "fitted_on": self.fitted_on}
        path.write_text(json.dumps(data, indent=2) + "\n")


@dataclass
class PointResult:
    """One key point: hit or missed, how close the best window came, and that window."""

    id: str
    text: str
    weight: float
    similarity: float
    credit: float
    hit: bool
    evidence: str | None = None
    span: tuple[int, int] | None = None


@dataclass
class MisconceptionResult:
    id: str
    text: str
    correction: str
    similarity: float
    evidence: str
    span: tuple[int, int]


@dataclass
class Grade:
    """A graded answer: the score and everything needed to explain it."""

    score: float
    raw: float
    points: list[PointResult]
    misconceptions: list[MisconceptionResult]
    flags: list[str]
    answer: str

    @property
    def hits(self) -> list[PointResult]:
        return [p for p in self.points if p.hit]

    @property
    def misses(self) -> list[PointResult]:
        return [p for p in self.points if not p.hit]

    def to_dict(self) -> dict:
        return {
            "score": round(self.score, 2),
            "raw": round(self.raw, 4),
            "flags": self.flags,
            "key_points": [
                asdict(p) | {"similarity": round(p.similarity, 4), "credit": round(p.credit, 3), "span": list(p.span) if p.span else None}
                for p in self.points
            ],
            "misconceptions": [asdict(m) | {"similarity": round(m.similarity, 4), "span": list(m.span)} for m in self.misconceptions],
        }


@dataclass
class _RungVectors:
    points: list[KeyPoint]
    variant_owner: np.ndarray  # variant row -> key point index
    variants: np.ndarray
    question: np.ndarray
    reference: np.ndarray
    mis: np.ndarray
    corrections: np.ndarray


class Grader:
    """Grades answers against rungs; caches each rung's embeddings after first use."""

    def __init__(self, encoder: Encoder, calibration: Calibration | None = None) -> None:
        self.encoder = encoder
        self.calibration = calibration or Calibration.load()
        self._cache: dict[str, _RungVectors] = {}

    @property
    def params(self) -> GraderParams:
        return self.calibration.params

    def _vectors(self, rung: Rung) -> _RungVectors:
        key = hashlib.sha256(rung.model_dump_json().encode()).hexdigest()
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        points = rung.effective_key_points()
        variants, owner = [], []
        for i, kp in enumerate(points):
            for v in kp.variants:
                variants.append(v)
                owner.append(i)
        texts = variants + [rung.question, rung.reference]
        texts += [m.text for m in rung.misconceptions] + [m.correction for m in rung.misconceptions]
        vecs = self.encoder.encode(texts)
        nv, nm = len(variants), len(rung.misconceptions)
        result = _RungVectors(
            points=points,
            variant_owner=np.array(owner),
            variants=vecs[:nv],
            question=vecs[nv],
            reference=vecs[nv + 1],
            mis=vecs[nv + 2 : nv + 2 + nm],
            corrections=vecs[nv + 2 + nm :],
        )
        self._cache[key] = result
        return result

    def prepare(self, rung: Rung) -> None:
        """Embed a rung's statements ahead of its answer (the engine calls this when it asks)."""
        self._vectors(rung)

    def grade(self, rung: Rung, answer: str, asked: str | None = None) -> Grade:
        """Grade one answer; ``asked`` is the question as actually put (a probe, a rephrase),
        so reading *that* back is caught as restating too."""
        return self.grade_many(rung, [answer], asked)[0]

    def grade_many(self, rung: Rung, answers: Sequence[str], asked: str | None = None) -> list[Grade]:
        """Grade several answers to one rung with a single batched encode."""
        rv = self._vectors(rung)
        all_windows = [windows(a, small=self.params.small_window) for a in answers]
        flat = [w.text for ws in all_windows for w in ws]
        vecs = self.encoder.encode(flat) if flat else np.zeros((0, rv.variants.shape[1]), dtype=np.float32)
        grades, offset = [], 0
        for answer, ws in zip(answers, all_windows):
            grades.append(self._grade(rv, rung, answer, ws, vecs[offset : offset + len(ws)], asked))
            offset += len(ws)
        return grades

    def _grade(
        self, rv: _RungVectors, rung: Rung, answer: str, ws: list[Window], wv: np.ndarray, asked: str | None = None
    ) -> Grade:
        p = self.params
        n_points = len(rv.points)
        if not ws:
            return Grade(0.0, 0.0, [_missed(kp) for kp in rv.points], [], ["empty"], answer)
        flags: list[str] = []

        var_sim = wv @ rv.variants.T  # windows x variants
        point_sim = np.full((len(ws), n_points), -1.0, dtype=np.float32)
        for j in range(n_points):
            point_sim[:, j] = var_sim[:, rv.variant_owner == j].max(axis=1)
        q_sim = wv @ rv.question
        ref_sim = wv @ rv.reference

        # Restating the question earns nothing (and is not a misconception either:
        # some questions name the wrong belief they are testing).
        questions = rung.question if not asked else f"{rung.question} {asked}"
        echo = np.array([echo_ratio(w.text, questions) for w in ws])
        restating = ((q_sim >= p.restate) & (q_sim >= point_sim.max(axis=1))) | (echo >= p.echo)
        # Misconceptions: closer to the wrong statement than to its correction.
        found: list[MisconceptionResult] = []
        blocked = np.zeros(len(ws), dtype=bool)
        if len(rung.misconceptions):
            mis_sim = wv @ rv.mis.T
            corr_sim = wv @ rv.corrections.T
            for m, mc in enumerate(rung.misconceptions):
                # Negation is hard for sentence embeddings: a correct statement sits close
                # to the wrong one.  So the window must be closer to the misconception than
                # to its correction *and* to every key point (which state the truth).
                ok = (
                    (mis_sim[:, m] >= p.mis_abs)
                    & (mis_sim[:, m] - corr_sim[:, m] >= p.mis_margin)
                    & (mis_sim[:, m] - point_sim.max(axis=1) >= p.mis_point_margin)
                    & (mis_sim[:, m] > q_sim)
                    & ~restating
                )
                if ok.any():
                    w = int(np.argmax(np.where(ok, mis_sim[:, m], -1)))
                    blocked |= ok
                    found.append(
                        MisconceptionResult(mc.id, mc.text, mc.correction, float(mis_sim[w, m]), answer[ws[w].start : ws[w].end], (ws[w].start, ws[w].end))
                    )

        usable = ~blocked & ~restating
        if restating.any() and restating.sum() >= max(1, len(ws) // 2):
            flags.append("restates-question")

        results: list[PointResult] = []
        for j, kp in enumerate(rv.points):
            col = np.where(usable, point_sim[:, j], -1.0)
            w = int(np.argmax(col))
            sim = float(col[w])
            credit = float(np.clip((sim - p.lo) / (p.hi - p.lo), 0.0, 1.0))
            hit = sim >= p.hit
            results.append(
                PointResult(
                    kp.id, kp.text, kp.weight, max(sim, 0.0), credit, hit,
                    answer[ws[w].start : ws[w].end] if sim > p.lo else None,
                    (ws[w].start, ws[w].end) if sim > p.lo else None,
                )
            )
        weights = np.array([r.weight for r in results])
        coverage = float((weights * np.array([r.credit for r in results])).sum() / weights.sum())
        raw = max(0.0, coverage - p.penalty * len(found))

        relevance = float(max(point_sim.max(), ref_sim.max(), q_sim.max()))
        if relevance < p.off_topic:
            flags.append("off-topic")
            raw = 0.0
        words = content_words(answer)
        if words < p.short_words:
            flags.append("too-short")
        if found:
            flags.append("misconception")
        score = self.calibration.score(raw)
        if "too-short" in flags:
            score = min(score, 1.0)
        if found:
            score = min(score, p.mis_cap)
        if "restates-question" in flags and not any(r.hit for r in results):
            score = min(score, 0.5)
        return Grade(round(score, 2), raw, results, found, flags, answer)


    def combine(self, grades: Sequence[Grade]) -> float:
        """The score of several answers to one rung taken together (a follow-up can fill a gap).

        Each key point keeps its best credit across the answers; each distinct
        misconception costs its penalty once; flags of the last answer do not apply.
        """
        if not grades:
            return 0.0
        if len(grades) == 1:
            return grades[0].score
        best: dict[str, tuple[float, float]] = {}
        for g in grades:
            for pr in g.points:
                credit = best.get(pr.id, (pr.weight, 0.0))[1]
                best[pr.id] = (pr.weight, max(credit, pr.credit))
        total = sum(w for w, _ in best.values()) or 1.0
        coverage = sum(w * c for w, c in best.values()) / total
        wrong = {m.id for g in grades for m in g.misconceptions}
        raw = max(0.0, coverage - self.params.penalty * len(wrong))
        if all("off-topic" in g.flags or "empty" in g.flags for g in grades):
            raw = 0.0
        return round(self.calibration.score(raw), 2)


def _missed(kp: KeyPoint) -> PointResult:
    return PointResult(kp.id, kp.text, kp.weight, 0.0, 0.0, False)
