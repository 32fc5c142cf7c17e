"""A graded answer as a typed record: what the grader returns and what a session stores.

:class:`Grade` (with its :class:`PointResult`, :class:`MisconceptionResult`,
:class:`ContradictionResult` and :class:`Focus`) lives apart from the grader because the
session record (``agent.record.Turn``) holds one per answer, and the record is read by
light code - ``viva history``, ``viva show``, the export, the review screen - that must
not pay for numpy or the grader's models to import.  This module imports nothing but
the standard library.

Rubrics owns both directions of the JSON shape: :meth:`Grade.to_dict` writes it and
:meth:`Grade.from_dict` reads it back, so no other package spells its keys.  Reading is
lenient about age (a record written before a field existed gets that field's neutral
default); checking that an *imported* record's values have the right types is the
store's job (``agent.store.validate_session``) and covers every key read here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rubrics.schema import Rung

FocusKind = Literal["rung", "key-point", "misconception"]
FOCUS_KINDS: tuple[str, ...] = ("rung", "key-point", "misconception")
CONTRADICTION_KINDS: tuple[str, ...] = ("opposite", "number")
WHOLE_QUESTION = "the whole question"

# Past this many characters (about 16,000 spoken words, two hours of speech) an answer
# is graded on its first MAX_GRADED_CHARS and flagged "truncated"; the whole answer is
# still stored.  Windows never skip words (credit is never dropped for length), so the
# cost is linear in length: 100 KB (or 1 MB, cut here) grades in 2.2-2.7 s on 2 cores;
# 1 MB read whole took 53 s.
MAX_GRADED_CHARS = 100_000


@dataclass(frozen=True)
class Focus:
    """What a turn is graded on: the whole rung, one probed key point, one challenged belief."""

    kind: FocusKind = "rung"
    id: str | None = None

    def describe(self, rung: Rung) -> str:
        if self.kind == "key-point":
            kp = next((k for k in rung.effective_key_points() if k.id == self.id), None)
            return f"the point asked about: {kp.text if kp else self.id}"
        if self.kind == "misconception":
            mc = next((m for m in rung.misconceptions if m.id == self.id), None)
            return f"the belief challenged: {mc.text if mc else self.id}"
        return WHOLE_QUESTION


RUNG = Focus()


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
    asked: bool = True  # False on a follow-up that asked about another point


@dataclass
class MisconceptionResult:
    id: str
    text: str
    correction: str
    similarity: float
    evidence: str
    span: tuple[int, int]


@dataclass
class ContradictionResult:
    """A window that talks about a key point and says the opposite, with why."""

    point: str
    text: str  # the key point contradicted
    reason: str
    evidence: str
    span: tuple[int, int]
    kind: str = "opposite"  # "number": a different quantity of the point's unit; "opposite": negation, antonym


@dataclass
class Grade:
    """A graded answer: the score and everything needed to explain it."""

    score: float
    raw: float
    points: list[PointResult]
    misconceptions: list[MisconceptionResult]
    flags: list[str]
    answer: str
    contradictions: list[ContradictionResult] = field(default_factory=list)
    gist: float = 0.0  # whole-answer similarity to the reference, question words removed
    focus: Focus = RUNG
    judged_on: str = WHOLE_QUESTION

    @property
    def hits(self) -> list[PointResult]:
        return [p for p in self.points if p.hit]

    def to_dict(self) -> dict[str, Any]:
        """The stored (and ``viva grade --json``) shape; the answer is not in it (the turn holds it)."""
        return {
            "score": round(self.score, 2),
            "raw": round(self.raw, 4),
            "gist": round(self.gist, 4),
            "flags": list(self.flags),
            "focus": {"kind": self.focus.kind, "id": self.focus.id},
            "judged_on": self.judged_on,
            "key_points": [
                asdict(p)
                | {"similarity": round(p.similarity, 4), "credit": round(p.credit, 3), "span": list(p.span) if p.span else None}
                for p in self.points
            ],
            "misconceptions": [
                asdict(m) | {"similarity": round(m.similarity, 4), "span": list(m.span)} for m in self.misconceptions
            ],
            "contradictions": [asdict(c) | {"span": list(c.span)} for c in self.contradictions],
        }

    def rounded(self) -> Grade:
        """This grade at the precision it is stored with (:meth:`to_dict` rounds its numbers).

        A session keeps this in its record, so a turn in memory equals the same turn
        read back from the store and every screen shows the same digits either way.
        """
        return Grade.from_dict(self.to_dict(), self.answer)

    @classmethod
    def from_dict(cls, data: dict[str, Any], answer: str = "") -> Grade:
        """Read back :meth:`to_dict` (a stored turn), tolerating records written before a field existed.

        Missing keys get neutral defaults: no points, no misconceptions, no flags, score
        and raw 0, the whole rung as focus; a point without ``weight`` weighs 1, one
        without ``credit`` has full credit if it was hit and none if not, a span that is
        absent (or was never recorded) highlights nothing.  Types are not checked here:
        the store validates every imported record first (``agent.store``).
        """

        def span(value: Any) -> tuple[int, int] | None:
            return (int(value[0]), int(value[1])) if value else None

        points = []
        for p in data.get("key_points") or []:
            hit = bool(p.get("hit", False))
            points.append(
                PointResult(
                    str(p["id"]),
                    str(p.get("text", p["id"])),
                    float(p.get("weight", 1.0)),
                    float(p.get("similarity", 0.0)),
                    float(p.get("credit", 1.0 if hit else 0.0)),
                    hit,
                    p.get("evidence"),
                    span(p.get("span")),
                    bool(p.get("asked", True)),
                )
            )
        mis = [
            MisconceptionResult(
                str(m["id"]),
                str(m.get("text", m["id"])),
                str(m.get("correction", "")),
                float(m.get("similarity", 0.0)),
                str(m.get("evidence", "")),
                span(m.get("span")) or (0, 0),
            )
            for m in data.get("misconceptions") or []
        ]
        contra = [
            ContradictionResult(
                str(c["point"]),
                str(c.get("text", c["point"])),
                str(c.get("reason", "")),
                str(c.get("evidence", "")),
                span(c.get("span")) or (0, 0),
                str(c.get("kind", "opposite")),
            )
            for c in data.get("contradictions") or []
        ]
        f = data.get("focus") or {}
        kind = f.get("kind", "rung")
        focus = Focus(kind if kind in FOCUS_KINDS else "rung", f.get("id"))
        return cls(
            float(data.get("score", 0.0)),
            float(data.get("raw", 0.0)),
            points,
            mis,
            [str(x) for x in data.get("flags") or []],
            answer,
            contra,
            float(data.get("gist", 0.0)),
            focus,
            str(data.get("judged_on", WHOLE_QUESTION)),
        )


__all__ = [
    "CONTRADICTION_KINDS", "FOCUS_KINDS", "RUNG", "WHOLE_QUESTION", "ContradictionResult", "Focus", "FocusKind", "Grade",
    "MisconceptionResult", "PointResult",
]
