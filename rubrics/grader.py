"""The grader: what an answer says, which way it says it, and how much of the rung it covers.

Given a rung and a spoken-style answer it returns a 0-5 score and the reasons for it.
Similarity alone rewards an answer for using the right words whatever it claims, so
each signal the embedding gives is checked for direction before it earns anything:

* **key points** - each is matched (its statement and every paraphrase) against every
  window of the answer; its best cosine gives credit on a soft ramp between
  ``params.lo`` and ``params.hi`` and counts as *hit* above ``params.hit``.  A window
  that talks about the point but says the opposite (negation, an antonym:
  :mod:`rubrics.polarity`) or gives a different number (:mod:`rubrics.quantities`)
  earns nothing and is reported as a **contradiction** with its words.
* **misconceptions** - a window close to a misconception *in the same direction*
  (not "people think X, but...", not "a classic bug is X"), or close to its correction
  in the opposite direction, states it.  Misconceptions and contradictions each cost
  ``params.penalty`` of raw coverage and cap the score (``params.mis_cap``), so they
  never raise one.
* **the gist** - the whole answer against the whole reference, with the question's own
  words taken out of both, so reading the question back earns nothing and an answer
  that says the right thing in its own way still counts.
* **reference-only rungs** (an ad-hoc question and reference, a public graded set) have
  no curated points: their raw score mixes whole-answer cosine, the gist, the judge
  reading answer and reference together, and the coverage of the reference's sentences
  (``params.ref_*``), and has its own map to 0-5, fitted on human grades (SemEval-2013).
* **restating the question**, **"I don't know"**, **"I already said that"**, empty and
  too-short answers are flagged (``flags``) and scored as what they are.

A follow-up is graded for what it asked (:class:`Focus`): a probe for its key point, a
challenge for the misconception it challenged.  Raw coverage maps to 0-5 by a monotone
calibration fitted on labelled answers (``rubrics/calibration.json``,
written by ``python -m evaluation.calibrate``).

The records it returns (:class:`Grade` and its parts) live in :mod:`rubrics.grade`, which
imports nothing heavy, and are re-exported here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from core.embedding import Encoder
from rubrics import polarity, quantities
from rubrics.grade import MAX_GRADED_CHARS, RUNG, ContradictionResult, Focus, Grade, MisconceptionResult, PointResult
from rubrics.judge import Entailer
from rubrics.learned import (
    BELIEF_FEATURES,
    POINT_FEATURES,
    BeliefInput,
    Logistic,
    PointInput,
    belief_features,
    content_stems,
    point_features,
)
from rubrics.schema import KeyPoint, Rung
from rubrics.spoken import Window, content_words, echo_ratio, gist_text, repetitive, windows

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"


@dataclass
class GraderParams:
    """Thresholds of the grader; fitted with the calibration, stored beside it."""

    lo: float = 0.35  # below this similarity a key point earns nothing
    hi: float = 0.70  # at or above this it earns full credit
    hit: float = 0.52  # "hit" for the explanation
    restate: float = 0.80  # a window this close to the question (and no closer to a point) is a restatement
    off_topic: float = 0.25  # best similarity of any window to the rung below this: off-topic
    mis_floor: float = 0.45  # windows this close to a misconception are asked whether they state it
    # A rejection ("people think X, but ...") counts this close to X; without a fitted
    # belief model, a misconception needs at least this similarity too...
    mis_abs: float = 0.62
    mis_margin: float = 0.04  # ...and must beat its correction by this much
    mis_point_margin: float = 0.02  # ...and every key point by this much
    penalty: float = 0.25  # raw coverage lost per misconception or contradiction
    # Raw credit for naming a rubric misconception and rejecting it ("you don't decay
    # everything", "ninety-nine percent doesn't mean it's catching fraud"): an interviewer
    # hears a candidate who knows the pitfall, and the key points alone miss it.
    reject_bonus: float = 0.0
    short_words: int = 4  # fewer content words than this: too short
    repetitive_cap: float = 1.0  # the most a long answer of a few repeated words scores (spoken.repetitive)
    echo: float = 0.75  # a window whose content words are this much the question's own: restating
    small_window: int = 8  # words in the finer window scale (0: sentence windows only)
    mis_cap: float = 1.5  # a stated misconception (or a contradicted point) caps the score here
    contra: float = 0.55  # a window must be this close to a point for its opposite to count against it
    gist_weight: float = 0.3  # share of the raw score from whole-answer agreement with the reference
    gist_lo: float = 0.2  # gist similarity (question words removed) that earns nothing...
    gist_hi: float = 0.7  # ...and full credit
    # A rung with only a reference answer (``viva grade --reference``, public graded sets)
    # has no curated points and paraphrases: its raw score leans on the whole answer
    # against the whole reference.  Weights chosen on SemEval-2013 (evaluation/public.py):
    # flat around these values, and the mix beats every signal alone on every unseen split.
    ref_cos: float = 1.0  # cosine of the whole answer and the whole reference
    ref_gist: float = 0.5  # ... the same with the question's words taken out of both
    ref_judge: float = 0.3  # the judge: P(the answer asserts the reference)
    ref_points: float = 0.2  # the key-point coverage of the reference's sentences


@dataclass
class Scale:
    """How one kind of rung is scored: the key-point model and the monotone map to 0-5.

    Curated rubrics (weighted key points with paraphrases) and ad-hoc references (the
    sentences of a reference answer) make different evidence, so each has its own point
    model and map; both end on the same scale, a human grader's 0-5.
    """

    x: list[float] = field(default_factory=lambda: [0.0, 1.0])
    y: list[float] = field(default_factory=lambda: [0.0, 5.0])
    points: Logistic = field(default_factory=lambda: Logistic(POINT_FEATURES))
    fitted_on: int = 0

    def score(self, raw: float) -> float:
        return float(np.clip(np.interp(raw, self.x, self.y), 0.0, 5.0))

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y, "points": self.points.to_dict(), "fitted_on": self.fitted_on}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Scale:
        if not data:
            return cls()
        return cls(
            list(data["x"]),
            list(data["y"]),
            Logistic.from_dict(data.get("points"), POINT_FEATURES),
            int(data.get("fitted_on", 0)),
        )


@dataclass
class Calibration:
    """Everything fitted on labelled answers: thresholds, the belief model, one :class:`Scale` per kind of rung."""

    params: GraderParams = field(default_factory=GraderParams)
    beliefs: Logistic = field(default_factory=lambda: Logistic(BELIEF_FEATURES))
    rubric: Scale = field(default_factory=Scale)  # rungs with curated key points
    reference: Scale = field(default_factory=Scale)  # ad-hoc rungs: a reference answer only

    def scale(self, rung: Rung) -> Scale:
        return self.rubric if rung.key_points else self.reference

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        known = {f.name for f in fields(GraderParams)}
        params = GraderParams(**{k: v for k, v in data["params"].items() if k in known})
        rubric = Scale.from_dict(data.get("rubric") or {"x": data.get("x", [0.0, 1.0]), "y": data.get("y", [0.0, 5.0])})
        return cls(
            params=params,
            beliefs=Logistic.from_dict(data.get("beliefs"), BELIEF_FEATURES),
            rubric=rubric,
            reference=Scale.from_dict(data.get("reference")) if data.get("reference") else rubric,
        )

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        data = {
            "params": asdict(self.params), "beliefs": self.beliefs.to_dict(),
            "rubric": self.rubric.to_dict(), "reference": self.reference.to_dict(),
        }
        path.write_text(json.dumps(data, indent=2) + "\n")


@dataclass
class _RungVectors:
    points: list[KeyPoint]
    variant_owner: np.ndarray  # variant row -> key point index
    variant_texts: list[str]
    variants: np.ndarray
    question: np.ndarray
    reference: np.ndarray
    gist: np.ndarray  # the reference with the question's words removed
    mis: np.ndarray
    corrections: np.ndarray


@dataclass(frozen=True)
class _AnswerContext:
    """Answer-wide measurements the per-point judgement uses."""

    gist: float
    belief: float
    mis_sim: np.ndarray  # per window: closest misconception's similarity
    q_sim: np.ndarray
    echo: np.ndarray
    words: int


@dataclass
class Embedded:
    """An answer made ready to grade: its windows, their vectors and its gist vector.

    Calibration and batch grading embed many answers in one encode and grade them
    afterwards with arithmetic only.
    """

    answer: str
    windows: list[Window]
    vectors: np.ndarray
    gist: np.ndarray | None
    whole: np.ndarray | None = None  # the whole answer's vector (only for reference-only rungs)
    truncated: bool = False  # longer than MAX_GRADED_CHARS: graded on its first MAX_GRADED_CHARS


# "Skip", "pass" and "blank" say "I don't know" only as a request or a state of mind: "i'd
# skip embeddings entirely, bm25 is always better" is a (wrong) answer, seen flagged as
# "said they don't know" in the TUI; so are "you pass it through a softmax", "a blank image".
_DONT_KNOW = re.compile(
    r"\b(i\s*(do\s*n[o']?t|dont|really\s+don'?t)\s+(really\s+|actually\s+|honestly\s+)?know|no\s+idea|not\s+sure"
    r"|i'?m\s+not\s+familiar|never\s+(heard|used|worked)"
    r"|can'?t\s+remember|don'?t\s+remember|haven'?t\s+(worked|used|seen|done)|no\s+clue|i\s+forget|i\s+forgot"
    r"|(i'?ll|i\s+will|i'?d\s+(like\s+to|rather)|let\s+me|i\s+(want\s+to|wanna|have\s+to|need\s+to|gotta))\s+(skip|pass)\b"
    r"|^\W*(um+\W+|uh+\W+|so\W+)*(skip|pass)\b|\b(skip|pass)\W*$"
    r"|(mind\s+(is|went|goes)|drawing\s+a|went|go|going|gone)\s+(completely\s+|totally\s+)?blank|\bblanking\b"
    r"|(have|need)\s+to\s+look\s+(that|it|this)\s+up"
    r"|i\s+(\w+\s+)?(could\s*n[o']?t|can'?t|cannot)\s+(really\s+)?(tell\s+you|say|explain)|out\s+of\s+my\s+depth"
    r"|no\s+experience\s+with)",
    re.IGNORECASE,
)
_ALREADY_SAID = re.compile(
    r"\b(already\s+(said|mentioned|covered|answered|explained|told)|as\s+i\s+(said|mentioned)|like\s+i\s+(said|mentioned)"
    r"|i\s+(just\s+)?(said|mentioned)\s+(that|this|it)|said\s+that\s+(already|before|earlier)|mentioned\s+(that\s+)?(earlier|before))",
    re.IGNORECASE,
)


class Grader:
    """Grades answers against rungs; caches each rung's embeddings after first use."""

    def __init__(self, encoder: Encoder, calibration: Calibration | None = None, judge: Entailer | None = None) -> None:
        self.encoder = encoder
        self.calibration = calibration or Calibration.load()
        self.judge = judge  # the cross-encoder (rubrics.judge); None: its inputs read as "can't tell"
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
        texts = variants + [rung.question, rung.reference, gist_text(rung.reference, rung.question) or rung.reference]
        texts += [m.text for m in rung.misconceptions] + [m.correction for m in rung.misconceptions]
        vecs = self.encoder.encode(texts)
        nv, nm = len(variants), len(rung.misconceptions)
        result = _RungVectors(
            points=points,
            variant_owner=np.array(owner),
            variant_texts=variants,
            variants=vecs[:nv],
            question=vecs[nv],
            reference=vecs[nv + 1],
            gist=vecs[nv + 2],
            mis=vecs[nv + 3 : nv + 3 + nm],
            corrections=vecs[nv + 3 + nm :],
        )
        self._cache[key] = result
        return result

    def prepare(self, rung: Rung) -> None:
        """Embed a rung's statements ahead of its answer (the engine calls this when it asks)."""
        self._vectors(rung)

    def grade(self, rung: Rung, answer: str, asked: str | None = None, focus: Focus = RUNG) -> Grade:
        """Grade one answer; ``asked`` is the question as actually put (a probe, a rephrase),
        so reading *that* back is caught as restating too; ``focus`` is what it asked for."""
        return self.grade_many(rung, [answer], asked, focus)[0]

    def grade_many(self, rung: Rung, answers: Sequence[str], asked: str | None = None, focus: Focus = RUNG) -> list[Grade]:
        """Grade several answers to one rung with a single batched encode."""
        return [self.grade_embedded(rung, e, asked, focus) for e in self.embed([(rung, a, asked) for a in answers])]

    def embed(self, items: Sequence[tuple[Rung, str, str | None]]) -> list[Embedded]:
        """Windows and vectors of many (rung, answer, asked) triples, in one encode."""
        small = self.params.small_window
        graded = [a[:MAX_GRADED_CHARS] for _, a, _ in items]  # past the limit: flagged "truncated"
        wins = [windows(a, small=small) for a in graded]
        gists = [gist_text(a, f"{r.question} {asked or ''}") if ws else "" for (r, _, asked), a, ws in zip(items, graded, wins)]
        wholes = [" ".join(a.split()) if ws and not r.key_points else "" for (r, _, _), a, ws in zip(items, graded, wins)]
        texts = [w.text for ws in wins for w in ws] + [g for g in gists if g] + [w for w in wholes if w]
        vecs = self.encoder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        out, offset = [], 0
        g_at = sum(len(ws) for ws in wins)
        w_at = g_at + sum(1 for g in gists if g)
        for (_, answer, _), ws, g, whole in zip(items, wins, gists, wholes):
            gv = wv = None
            if g:
                gv = vecs[g_at]
                g_at += 1
            if whole:
                wv = vecs[w_at]
                w_at += 1
            out.append(Embedded(answer, ws, vecs[offset : offset + len(ws)], gv, wv, len(answer) > MAX_GRADED_CHARS))
            offset += len(ws)
        return out

    def grade_embedded(self, rung: Rung, emb: Embedded, asked: str | None = None, focus: Focus = RUNG) -> Grade:
        """Grade an answer already embedded by :meth:`embed`."""
        return self._grade(self._vectors(rung), rung, emb, asked, focus)

    # -- the grading itself ----------------------------------------------------------------

    def _grade(
        self, rv: _RungVectors, rung: Rung, emb: Embedded, asked: str | None, focus: Focus,
        collect: list[tuple[str, str, list[float]]] | None = None,
    ) -> Grade:
        """Grade one embedded answer; ``collect`` receives the learned models' inputs (for fitting)."""
        p = self.params
        answer, ws, wv = emb.answer, emb.windows, emb.vectors
        judged_on = focus.describe(rung)
        if not ws:
            return Grade(
                0.0, 0.0, [_missed(kp, focus) for kp in rv.points], [], ["empty"], answer, focus=focus, judged_on=judged_on
            )
        flags: list[str] = ["truncated"] if emb.truncated else []
        n_points = len(rv.points)
        texts = [_with_left_context(answer, w.start, w.end) for w in ws]

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

        self._prefetch(rung, rv, texts, point_sim, wv, restating, answer, ws)
        beliefs = self._belief_candidates(rung, rv, wv, texts, point_sim, q_sim, restating, answer, ws)
        if collect is not None:
            collect.extend(("belief", mc.id, x) for _, mc, _, x in beliefs)
        found, rejected, blocked, belief_max = self._misconceptions(rung, ws, beliefs, answer)
        usable = ~blocked & ~restating
        if restating.any() and restating.sum() >= max(1, len(ws) // 2):
            flags.append("restates-question")

        gist_sim = float(emb.gist @ rv.gist) if emb.gist is not None else 0.0
        words = content_words(answer[:MAX_GRADED_CHARS])
        mis_sim = wv @ rv.mis.T if rung.misconceptions else np.zeros((len(ws), 1), dtype=np.float32)
        context = _AnswerContext(gist_sim, belief_max, mis_sim.max(axis=1), q_sim, echo, words)
        results, contradictions = self._points(rung, rv, ws, texts, var_sim, point_sim, usable, answer, focus, context, collect)
        if focus.kind == "misconception":
            coverage = self._challenge_credit(rung, rv, focus, wv, texts, usable, rejected)
        else:
            asked_rows = [r for r in results if r.asked]
            weights = np.array([r.weight for r in asked_rows])
            coverage = float((weights * np.array([r.credit for r in asked_rows])).sum() / weights.sum()) if len(weights) else 0.0
        gist = float(np.clip((gist_sim - p.gist_lo) / max(p.gist_hi - p.gist_lo, 1e-6), 0.0, 1.0))
        gist_weight = p.gist_weight if focus.kind == "rung" else p.gist_weight / 2
        raw = (1 - gist_weight) * coverage + gist_weight * gist
        stated = {f.id for f in found}
        if focus.kind != "misconception" and any(
            rejected[:, m].any() and mc.id not in stated for m, mc in enumerate(rung.misconceptions)
        ):
            raw = min(1.0, raw + p.reject_bonus)
        asserted = 0.0  # the judge on the whole answer against the reference (reference-only rungs)
        if not rung.key_points and focus.kind == "rung":
            raw, asserted = self._holistic(rung, rv, emb, gist_sim, raw)
        if focus.kind == "misconception":
            contradictions = []  # a challenge is judged on the belief it challenged
        raw = max(0.0, raw - p.penalty * (len(found) + len(contradictions)))

        relevance = float(max(point_sim.max(), ref_sim.max(), q_sim.max()))
        # A terse answer in other words ("the gap closes the circuit") can sit far from a
        # reference in cosine; off-topic only when the judge does not read it as the reference.
        if relevance < p.off_topic and asserted < 0.5:
            flags.append("off-topic")
            raw = 0.0
        hit_weight = sum(r.weight for r in results if r.hit and r.asked)
        if words <= 40 and _DONT_KNOW.search(answer) and hit_weight == 0:
            flags.append("dont-know")
            raw = 0.0
            if "restates-question" in flags:
                flags.remove("restates-question")
        if words <= 30 and _ALREADY_SAID.search(answer) and hit_weight == 0:
            flags.append("already-said")
        if words < p.short_words and "dont-know" not in flags:
            flags.append("too-short")
        if repetitive(answer[:MAX_GRADED_CHARS]):
            flags.append("repetitive")
        if found:
            flags.append("misconception")
        if contradictions:
            flags.append("contradiction")
        if focus.kind == "rung":
            score = self.calibration.scale(rung).score(raw)
        else:
            score = _focused_score(raw, self.calibration.scale(rung).points)
        # A reference-only rung's score already prices a short answer or one in the
        # question's words (the whole-answer mix): "a closed path" can be the whole answer.
        # Only a read-back with nothing of its own (no agreement once the question's words
        # are taken out) is held down there.
        reference_only = not rung.key_points
        if "too-short" in flags and not reference_only:
            score = min(score, 1.0)
        wrong_weight = len(found) * 2.0 + sum(next(r.weight for r in results if r.id == c.point) for c in contradictions)
        if found or any(c.kind == "number" for c in contradictions) or (contradictions and wrong_weight >= hit_weight):
            score = min(score, p.mis_cap)
        if "restates-question" in flags and not any(r.hit for r in results) and not (reference_only and gist_sim >= p.gist_lo):
            score = min(score, 0.5)
        if "repetitive" in flags:
            score = min(score, p.repetitive_cap)  # the same few words over and over: no credit for volume
        if "dont-know" in flags or "off-topic" in flags:
            score = 0.0  # a human grader's 0, whatever the bottom of the map (an ad-hoc map's is near 2)
        return Grade(round(score, 2), raw, results, found, flags, answer, contradictions, gist_sim, focus, judged_on)

    def _holistic(self, rung: Rung, rv: _RungVectors, emb: Embedded, gist_sim: float, coverage: float) -> tuple[float, float]:
        """A reference-only rung's raw score (0-1) and the judge's P(answer asserts reference).

        Its key points are just the reference's sentences, so point coverage alone is a
        weak signal; whole-answer cosine, the same with the question's words removed, and
        the judge reading answer and reference together each see what the others miss.
        """
        p = self.params
        whole = float(emb.whole @ rv.reference) if emb.whole is not None else 0.0
        judged = self._entails([_whole_pair(rung, emb.answer)])[0]
        total = p.ref_cos + p.ref_gist + p.ref_judge + p.ref_points
        mix = p.ref_cos * whole + p.ref_gist * gist_sim + p.ref_judge * judged + p.ref_points * coverage
        return float(np.clip(mix / max(total, 1e-6), 0.0, 1.0)), judged

    def _misconceptions(
        self, rung: Rung, ws: list[Window], beliefs: list[tuple[int, Any, int, list[float]]], answer: str,
    ) -> tuple[list[MisconceptionResult], np.ndarray, np.ndarray, float]:
        """Misconceptions stated, windows that reject one (evidence of the truth), windows to block,
        and the highest probability that any window states one."""
        p = self.params
        model = self.calibration.beliefs
        found: list[MisconceptionResult] = []
        blocked = np.zeros(len(ws), dtype=bool)
        rejected = np.zeros((len(ws), len(rung.misconceptions)), dtype=bool)
        belief_max = 0.0
        for m, mc, w, x in beliefs:
            mis_sim, corr_sim = x[0], x[1]
            if x[5] and mis_sim >= p.mis_abs:
                rejected[w, m] = True  # "people think X, but..." - the candidate knows
            if model.fitted:
                prob = model.probability(x)
                belief_max = max(belief_max, prob)
                # A clause that negates the belief outright ("bigger isn't the safe
                # choice") does not state it, however close its words: the model weighs
                # the negation against shared vocabulary and sometimes lets the words win.
                states = prob >= model.threshold and not x[5]
            else:
                states = bool(
                    mis_sim >= p.mis_abs and not x[5] and not x[6] and mis_sim - corr_sim >= p.mis_margin
                    and x[3] >= p.mis_point_margin and mis_sim > x[4]
                )
                belief_max = max(belief_max, float(states))
            if not states:
                continue
            blocked[w] = True
            known = next((f for f in found if f.id == mc.id), None)
            if known is None or mis_sim > known.similarity:
                if known is not None:
                    found.remove(known)
                found.append(
                    MisconceptionResult(
                        mc.id, mc.text, mc.correction, mis_sim, answer[ws[w].start : ws[w].end], (ws[w].start, ws[w].end)
                    )
                )
        order = {mc.id: i for i, mc in enumerate(rung.misconceptions)}
        return sorted(found, key=lambda f: order[f.id]), rejected, blocked, belief_max

    def _belief_candidates(
        self, rung: Rung, rv: _RungVectors, wv: np.ndarray, texts: list[str], point_sim: np.ndarray, q_sim: np.ndarray,
        restating: np.ndarray, answer: str, ws: Sequence[Window],
    ) -> list[tuple[int, Any, int, list[float]]]:
        """(misconception index, misconception, window, features) for each window near a misconception.

        The direction checks read the window's whole clause: a window cut at "so a really high
        training accuracy on its" would miss the "own doesn't mean the model is any good" that
        rejects the belief it matched.
        """
        if not rung.misconceptions:
            return []
        mis_sim = wv @ rv.mis.T
        corr_sim = wv @ rv.corrections.T
        best_point = point_sim.max(axis=1)
        spans = _sentence_spans(answer)  # once per answer, not per (belief, window)
        out = []
        for m, mc in enumerate(rung.misconceptions):
            for w in self._near(mis_sim[:, m], ~restating):
                jb, jc = self._entails([(texts[w], mc.text), (texts[w], mc.correction)])
                c = BeliefInput(float(mis_sim[w, m]), float(corr_sim[w, m]), float(best_point[w]), float(q_sim[w]), jb, jc)
                clause = _belief_clause(answer, ws[w].start, ws[w].end, mc.text, spans)
                out.append((m, mc, int(w), belief_features(clause, mc.text, mc.correction, c)))
        return out

    TOP_WINDOWS = 2  # windows per key point the judge reads

    def _entails(self, pairs: list[tuple[str, str]]) -> list[float]:
        if self.judge is None or not pairs:
            return [0.5] * len(pairs)
        return [float(v) for v in self.judge.entails(pairs)]

    def _prefetch(
        self, rung: Rung, rv: _RungVectors, texts: list[str], point_sim: np.ndarray, wv: np.ndarray, restating: np.ndarray,
        answer: str, ws: Sequence[Window],
    ) -> None:
        """Ask the judge about every pair this answer will need, in one batch (it caches them)."""
        if self.judge is None:
            return
        pairs = [] if rung.key_points else [_whole_pair(rung, answer)]
        ok = ~restating
        for j, kp in enumerate(rv.points):
            col = np.where(ok, point_sim[:, j], -1.0)
            pairs += [(texts[w], kp.text) for w in _top_windows(col, ws, self.params.lo, self.TOP_WINDOWS)]
        if rung.misconceptions:
            mis_sim = wv @ rv.mis.T
            for m, mc in enumerate(rung.misconceptions):
                for w in self._near(mis_sim[:, m], ok):
                    pairs += [(texts[w], mc.text), (texts[w], mc.correction)]
        self.judge.entails(pairs)

    TOP_BELIEF_WINDOWS = 4  # windows per misconception asked whether they state it

    def _near(self, sims: np.ndarray, ok: np.ndarray) -> list[int]:
        """The windows closest to a misconception (at most a few: a long answer's cost stays flat)."""
        rows = np.flatnonzero((sims >= self.params.mis_floor) & ok)
        rows = rows[np.argsort(-sims[rows], kind="stable")][: self.TOP_BELIEF_WINDOWS]
        return sorted(int(w) for w in rows)

    def examples(self, rung: Rung, emb: Embedded) -> list[tuple[str, str, list[float]]]:
        """The learned models' inputs for one answer: ("belief" | "point", id, features)."""
        collected: list[tuple[str, str, list[float]]] = []
        self._grade(self._vectors(rung), rung, emb, None, RUNG, collected)
        return collected

    def _points(
        self, rung: Rung, rv: _RungVectors, ws: list[Window], texts: list[str], var_sim: np.ndarray, point_sim: np.ndarray,
        usable: np.ndarray, answer: str, focus: Focus, ctx: _AnswerContext, collect: list[tuple[str, str, list[float]]] | None,
    ) -> tuple[list[PointResult], list[ContradictionResult]]:
        """Each key point: its best window that does not say its opposite, its credit, the contradictions."""
        p = self.params
        model = self.calibration.scale(rung).points
        results: list[PointResult] = []
        contradictions: list[ContradictionResult] = []
        denials: list[tuple[int, int, int]] = []  # (contradiction, point, window) read by negation or antonym
        for j, kp in enumerate(rv.points):
            asked = focus.kind != "key-point" or kp.id == focus.id
            col = np.where(usable, point_sim[:, j], -1.0)
            order = np.argsort(-col, kind="stable")
            best_w = int(order[0])
            best_sim = float(col[best_w])
            best_reason = self._contradiction(rv, j, best_w, texts[best_w], var_sim) if best_sim >= p.lo else None
            agree_w, agree_sim = best_w, best_sim
            if best_reason is not None:
                agree_w, agree_sim = best_w, 0.0
                for w in (int(i) for i in order[1:]):
                    if col[w] < p.lo:
                        agree_w, agree_sim = w, max(float(col[w]), 0.0)
                        break
                    if self._contradiction(rv, j, w, texts[w], var_sim) is None:
                        agree_w, agree_sim = w, float(col[w])
                        break
            top = _top_windows(col, ws, p.lo, self.TOP_WINDOWS)
            # The number may sit in a neighbouring window ("7 gigabytes, one byte per
            # parameter, it fits on one GPU"): the first of the closest windows that has one.
            number = next((n for n in (quantities.agreement(texts[w], kp.text) for w in [best_w, *top]) if n is not None), None)
            judged = self._entails([(texts[w], kp.text) for w in top]) if top else [0.0]

            def features(w: int, sim: float, agreeing: float, reason: str | None, num: bool | None, judge: float) -> list[float]:
                return point_features(kp.text, rung.question, PointInput(  # noqa: B023 - called in this iteration only
                    best_sim=max(sim, 0.0), agreeing_sim=max(agreeing, 0.0), best_window=texts[w],
                    opposite=reason is not None and "opposite" in reason, number_wrong=num is False, number_right=num is True,
                    gist=ctx.gist, belief=ctx.belief, belief_sim=float(ctx.mis_sim[w]), q_sim=float(ctx.q_sim[w]),
                    echo=float(ctx.echo[w]), words=ctx.words, judge=judge, judge_top=max(judged),  # noqa: B023
                ))

            x = features(best_w, best_sim, agree_sim, best_reason, number, judged[0])
            if collect is not None:
                collect.append(("point", kp.id, x))
            if model.fitted:
                credit = model.probability(x)
                # The closest window in cosine is not always the one that says the point
                # best ("you shouldn't decay every parameter equally" sits nearer "exclude
                # biases and norms from decay" than the sentence that names them): the
                # runner-up is read too, and the better reading of the two counts.
                if len(top) > 1:
                    w2 = top[1]
                    reason2 = self._contradiction(rv, j, w2, texts[w2], var_sim)
                    if reason2 is None:
                        sim2 = float(col[w2])
                        x2 = features(w2, sim2, sim2, None, quantities.agreement(texts[w2], kp.text), judged[1])
                        credit2 = model.probability(x2)
                        if credit2 > credit:
                            credit, agree_w = credit2, w2
                hit = credit >= model.threshold
            else:
                credit = float(np.clip((agree_sim - p.lo) / (p.hi - p.lo), 0.0, 1.0))
                hit = agree_sim >= p.hit
            wrong_number = number is False and best_sim >= p.lo
            if wrong_number and best_reason is None:
                mm = quantities.mismatch(texts[best_w], kp.text)
                best_reason = f"says {mm.describe()}" if mm else "gives a different number"
            if wrong_number:
                # The number is the point ("16 bytes a parameter"): a different one earns
                # nothing, however close the words.
                credit, hit = 0.0, False
            if best_reason is not None and (best_sim >= p.contra or wrong_number) and not hit and asked:
                kind = "number" if wrong_number or "opposite" not in best_reason else "opposite"
                contradictions.append(
                    ContradictionResult(kp.id, kp.text, best_reason, texts[best_w], (ws[best_w].start, ws[best_w].end), kind)
                )
                denials.append((len(contradictions) - 1, j, best_w))
            shown = hit or agree_sim > p.lo
            results.append(
                PointResult(
                    kp.id, kp.text, kp.weight, max(agree_sim, 0.0), credit, hit,
                    answer[ws[agree_w].start : ws[agree_w].end] if shown else None,
                    (ws[agree_w].start, ws[agree_w].end) if shown else None,
                    asked,
                )
            )
        # A negation in a window that says another point the answer is credited with, and
        # says it more closely, is that point's own wording ("you only augment the training
        # split, never validation or test" is the train-only point, not a denial of "keep a
        # transform only if a validation ablation shows a gain").
        hits = [q for q, r in enumerate(results) if r.hit]
        dropped = {
            c for c, j, w in denials
            if contradictions[c].kind == "opposite" and any(point_sim[w, q] > point_sim[w, j] for q in hits if q != j)
        }
        return results, [c for i, c in enumerate(contradictions) if i not in dropped]

    def _contradiction(self, rv: _RungVectors, j: int, w: int, text: str, var_sim: np.ndarray) -> str | None:
        """Why window ``w`` says the opposite of key point ``j``, or None when it does not.

        Opposite to the closest variant *and* to every variant nearly as close: the
        paraphrases say the point in other words ("switched off at inference", "only
        used while training"), and one reading that agrees is enough to trust it.
        """
        rows = np.flatnonzero(rv.variant_owner == j)
        sims = var_sim[w, rows]
        best = float(sims.max())
        close = [rv.variant_texts[int(r)] for r, s in zip(rows, sims) if s >= best - 0.08]
        numbered = [v for v in close if quantities.extract(v)]
        if numbered and all(quantities.mismatch(text, v) for v in numbered):
            mm = quantities.mismatch(text, numbered[0])
            assert mm is not None
            return f"says {mm.describe()}"
        verdicts = [polarity.compare(text, v, disavowal=False) for v in close]
        # One shared word is a topic, not a claim: "grabbing a row is the same as multiplying
        # the one-hot" says nothing against "with one-hot, every pair is equally different".
        if verdicts and all(v.opposite for v in verdicts) and max(v.shared for v in verdicts) >= 2:
            return "says the opposite (" + "; ".join(verdicts[0].reasons) + ")"
        return None

    def _challenge_credit(
        self,
        rung: Rung,
        rv: _RungVectors,
        focus: Focus,
        wv: np.ndarray,
        texts: list[str],
        usable: np.ndarray,
        rejected: np.ndarray,
    ) -> float:
        """A challenge answer earns credit for saying the correction (or rejecting the belief)."""
        p = self.params
        m = next((i for i, mc in enumerate(rung.misconceptions) if mc.id == focus.id), None)
        if m is None:
            return 0.0
        if rejected[:, m].any():
            return 1.0
        correction = rung.misconceptions[m].correction
        sims = wv @ rv.corrections[m]
        rows = [int(w) for w in np.flatnonzero(usable & (sims >= p.lo))]
        judged = self._entails([(texts[w], correction) for w in rows]) if self.judge is not None else [0.0] * len(rows)
        best = 0.0
        for w, j in zip(rows, judged):
            ramp = float(np.clip((sims[w] - p.lo) / (p.hi - p.lo), 0.0, 1.0))
            if not polarity.compare(texts[w], correction, disavowal=False).opposite:
                best = max(best, ramp)
            best = max(best, j)  # the judge read the window and the correction together
        return best

    def combine(self, rung: Rung, grades: Sequence[Grade]) -> float:
        """The score of several answers to one rung taken together (a follow-up can fill a gap).

        Each key point keeps its best credit across the answers; each distinct
        misconception costs its penalty once, and caps the score unless a later
        challenge answer took it back; flags of the last answer do not apply.
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
        # Taken back: a challenge answer that scored above the cap a misconception imposes and stated none.
        taken_back = {
            g.focus.id
            for g in grades
            if g.focus.kind == "misconception" and g.score > self.params.mis_cap and not g.misconceptions
        }
        contradicted = {c.point for g in grades for c in g.contradictions} - {pid for pid, (_, c) in best.items() if c >= 0.5}
        p = self.params
        gist = max(float(np.clip((g.gist - p.gist_lo) / max(p.gist_hi - p.gist_lo, 1e-6), 0.0, 1.0)) for g in grades)
        raw = (1 - p.gist_weight) * coverage + p.gist_weight * gist
        raw = max(0.0, raw - p.penalty * (len(wrong) + len(contradicted)))
        if all("off-topic" in g.flags or "empty" in g.flags or "dont-know" in g.flags for g in grades):
            raw = 0.0
        score = self.calibration.scale(rung).score(raw)
        if wrong - taken_back:
            score = min(score, self.params.mis_cap)
        return round(score, 2)


def _focused_score(credit: float, points: Logistic) -> float:
    """A follow-up's score from the credit of the one thing it asked for.

    The rung's map is fitted on whole answers, where one point of four is a weak answer;
    a probe asks for exactly one, so making it (credit at the point model's threshold)
    is a 3.5 and certainty a 5.
    """
    t = points.threshold if points.fitted else 0.5
    if credit <= t:
        return float(3.5 * credit / t)
    return float(3.5 + 1.5 * (credit - t) / max(1e-6, 1 - t))


def _whole_pair(rung: Rung, answer: str) -> tuple[str, str]:
    """The judge's (answer, reference) pair of a reference-only rung: one spelling, so the
    batch asked ahead (``_prefetch``) is the one the score reads from the judge's cache."""
    return " ".join(answer.split()), rung.reference


_LEFT_WORDS = 6
_SENTENCE_STOP = re.compile(r"[.!?;]\s")


def _with_left_context(answer: str, start: int, end: int) -> str:
    """A window with the few words before it in its sentence, for the direction checks.

    "it's not true that | just adding layers makes the model more powerful": the window
    the embedding matched starts after the words that reject it.
    """
    head = answer[max(0, start - 80) : start]
    stops = list(_SENTENCE_STOP.finditer(head))
    if stops:
        head = head[stops[-1].end() :]
    words = head.split()[-_LEFT_WORDS:]
    return " ".join([*words, answer[start:end]])


_RIGHT_WORDS = 12
_BELIEF_LEFT_WORDS = 24


def _belief_clause(
    answer: str, start: int, end: int, statement: str, spans: Sequence[tuple[int, int]] | None = None
) -> str:
    """The sentence a window says a belief in, from its start (at most two dozen words back)
    to a dozen words past the window, for the direction checks against that belief.

    The rejection of a belief is often at the front of a long sentence ("it's just not
    true anymore that pytorch is only for research and anything in production has to get
    ported ...") or after it ("... on its own doesn't mean the model is any good"), and a
    window can run across a sentence end ("adam does not mean you get to skip tuning it.
    adam rescales each parameter ..."): a negation in one sentence says nothing about the
    claim of the next.  Of the sentences the window touches, the one whose part inside the
    window shares most content words with the belief is read (ties: the larger part).
    ``spans``: the answer's :func:`_sentence_spans`, when the caller has them already.
    """
    want = content_stems(statement)
    best: tuple[int, int, int, int] | None = None
    for sent_start, sent_end in _sentence_spans(answer) if spans is None else spans:
        if sent_end <= start:
            continue
        if sent_start >= end:
            break
        lo, hi = max(sent_start, start), min(sent_end, end)
        key = (len(content_stems(answer[lo:hi]) & want), hi - lo)
        if best is None or key > best[:2]:
            best = (*key, sent_start, sent_end)
    if best is None:
        return answer[start:end]
    sent_start, sent_end = best[2], best[3]
    lo, hi = max(sent_start, start), min(end, sent_end)
    before = [m.start() for m in _TOKEN.finditer(answer, sent_start, lo)][-_BELIEF_LEFT_WORDS:]
    after = [m.end() for m in _TOKEN.finditer(answer, hi, sent_end)][:_RIGHT_WORDS]
    return " ".join(answer[before[0] if before else lo : after[-1] if after else hi].split())


_TOKEN = re.compile(r"\S+")


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text`` (split after . ! ? ; and a space)."""
    spans, begin = [], 0
    for m in _SENTENCE_STOP.finditer(text):
        spans.append((begin, m.start() + 1))
        begin = m.end()
    spans.append((begin, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _top_windows(col: np.ndarray, ws: Sequence[Window], lo: float, n: int) -> list[int]:
    """The ``n`` windows closest to a statement (at least ``lo``), each from another part of
    the answer: windows overlap, and the runner-up of a sentence is mostly that sentence again."""
    out: list[int] = []
    for w in (int(i) for i in np.argsort(-col, kind="stable")):
        if col[w] < lo or len(out) == n:
            break
        if all(ws[w].end <= ws[o].start or ws[w].start >= ws[o].end for o in out):
            out.append(w)
    return out




def _missed(kp: KeyPoint, focus: Focus = RUNG) -> PointResult:
    return PointResult(kp.id, kp.text, kp.weight, 0.0, 0.0, False, asked=focus.kind != "key-point" or kp.id == focus.id)
