"""The session record: everything an interview produced, turn by turn.

The engine appends a :class:`Turn` the moment an answer is graded and hands the record
to its sink (the transcript store) right then, so a crash loses at most the answer
being typed.  Everything here is typed data that round-trips through JSON
(:meth:`SessionRecord.to_dict` / :meth:`SessionRecord.from_dict`); a turn's grade is a
:class:`rubrics.grade.Grade`, turned into a dict and back only there, by rubrics' own
:meth:`~rubrics.grade.Grade.to_dict` / :meth:`~rubrics.grade.Grade.from_dict`, so no
reader spells its keys.  The store, the exports and the review screen all read the
same shape.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from agent.config import SessionConfig
from rubrics.grade import Grade  # light: the record type only, not the grader

QuestionKind = Literal["opening", "deeper", "probe", "hint", "simpler", "challenge"]
Status = Literal["active", "finished", "abandoned"]

RECORD_VERSION = 1


@dataclass
class Question:
    """A question as asked: what the rubric intended and what the interviewer said."""

    topic: str
    rung: str
    depth: int
    kind: QuestionKind
    intended: str  # the rubric's own wording (the fallback)
    text: str = ""  # what was said (the LLM's phrasing when it passed the checks)
    fell_back: bool = False  # True when the rubric wording was used instead of the LLM's
    fallback_reason: str = ""
    key_point: str | None = None  # the missed key point a probe is after
    misconception: str | None = None  # the belief a challenge questions
    passage: str | None = None  # the primer passage the question was grounded in
    generation_s: float = 0.0
    first_token_s: float | None = None

    @property
    def ref(self) -> str:
        return f"{self.topic}:{self.rung}"


@dataclass
class Decision:
    """What the interviewer does next, and why (shown in the review)."""

    action: Literal["deeper", "probe", "hint", "simpler", "challenge", "next-topic", "end"]
    reason: str
    rung: str | None = None  # the rung asked next (same topic) when there is one
    key_point: str | None = None
    misconception: str | None = None


@dataclass
class Turn:
    """One question and the candidate's answer, graded."""

    index: int
    question: Question
    answer: str
    grade: Grade  # this answer against the rung (at stored precision: Grade.rounded())
    score: float  # this answer's score, 0-5, after any hint penalty
    rung_score: float  # the rung's score so far (best of each key point across its turns)
    decision: Decision
    hinted: bool = False
    skipped: bool = False
    answer_s: float = 0.0  # seconds from question shown to answer submitted
    grade_ms: float = 0.0
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        """The stored and exported shape: plain JSON values, the grade in rubrics' shape."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["question"] = asdict(self.question)
        data["decision"] = asdict(self.decision)
        data["grade"] = self.grade.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        """Read back :meth:`to_dict`; the grade's answer is the turn's (none when skipped)."""
        t = dict(data)
        t["question"] = Question(**t["question"])
        t["decision"] = Decision(**t["decision"])
        t["grade"] = Grade.from_dict(t.get("grade") or {}, "" if t.get("skipped") else t.get("answer", ""))
        return cls(**t)


@dataclass
class SessionRecord:
    config: SessionConfig
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    status: Status = "active"
    topics: list[str] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)
    closing: str = ""

    # -- summaries -----------------------------------------------------------------

    def topic_scores(self) -> dict[str, float]:
        """Per topic: the mean of its rungs' final scores (a deeper rung reached counts too)."""
        rungs: dict[str, dict[str, float]] = {}
        for t in self.turns:
            rungs.setdefault(t.question.topic, {})[t.question.rung] = t.rung_score
        return {topic: round(sum(r.values()) / len(r), 2) for topic, r in rungs.items()}

    def deepest(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.turns:
            out[t.question.topic] = max(out.get(t.question.topic, 0), t.question.depth)
        return out

    @property
    def overall(self) -> float | None:
        scores = self.topic_scores()
        return round(sum(scores.values()) / len(scores), 2) if scores else None

    @property
    def duration_s(self) -> float:
        end = self.ended_at or (self.turns[-1].at if self.turns else self.started_at)
        return max(0.0, end - self.started_at)

    # -- JSON --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["config"] = self.config.to_dict()
        data["topics"] = list(self.topics)
        data["turns"] = [t.to_dict() for t in self.turns]
        data["models"] = dict(self.models)
        data["version"] = RECORD_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionRecord:
        turns = [Turn.from_dict(t) for t in data.get("turns", [])]
        return cls(
            config=SessionConfig.from_dict(data["config"]),
            id=data["id"],
            started_at=data["started_at"],
            ended_at=data.get("ended_at"),
            status=data.get("status", "finished"),
            topics=list(data.get("topics", [])),
            turns=turns,
            models=dict(data.get("models", {})),
            closing=data.get("closing", ""),
        )
