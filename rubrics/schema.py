"""The rubric schema: topics, ladders of rungs, key points and misconceptions.

Pydantic gives us strict validation with precise locations, which the loader turns
into messages that name the file, the rung and the field (``extra="forbid"`` catches a
misspelt field such as ``key_point:`` instead of silently ignoring it).  The format is
documented for authors in ``docs/authoring.md``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from core.tracks import RESEARCH, TAG_IDS

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3)]

def _asked(value: str | None) -> str | None:
    """Anything the interviewer asks must end with '?' (``viva ask``'s protocol: a line ending
    in '?' is a question to answer)."""
    if value is not None and not value.rstrip().endswith("?"):
        raise ValueError("the interviewer asks this, so it must end with '?'")
    return value


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Za-z0-9(\"'])")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyPoint(_Strict):
    """One thing a strong answer says, with how much it matters."""

    id: Slug
    text: Text
    weight: float = Field(default=1.0, ge=0.5, le=3.0)
    paraphrases: list[Text] = Field(default_factory=list)
    probe: str | None = None

    @field_validator("probe")
    @classmethod
    def _probe_asks(cls, value: str | None) -> str | None:
        return _asked(value)

    @property
    def variants(self) -> list[str]:
        """The statement and every accepted paraphrase (each is matched separately)."""
        return [self.text, *self.paraphrases]


class Misconception(_Strict):
    """A wrong belief a candidate may state; detecting one never raises a score."""

    id: Slug
    text: Text
    correction: Text
    challenge: str | None = None

    @field_validator("challenge")
    @classmethod
    def _challenge_asks(cls, value: str | None) -> str | None:
        return _asked(value)


class Rung(_Strict):
    """One question on a topic's ladder, with everything needed to grade an answer."""

    id: Slug
    depth: int = Field(ge=1, le=4)
    tracks: list[str] = Field(min_length=1)  # of core.tracks.TAG_IDS (the interview tracks and "research")
    question: Text
    reference: Text
    simpler: str | None = None
    hint: str | None = None
    passages: list[str] = Field(default_factory=list)
    key_points: list[KeyPoint] = Field(default_factory=list, max_length=8)
    misconceptions: list[Misconception] = Field(default_factory=list, max_length=6)

    @field_validator("question")
    @classmethod
    def _is_a_question(cls, value: str) -> str:
        if not value.rstrip().endswith("?"):
            raise ValueError("a question must end with '?'")
        return value

    @field_validator("simpler")
    @classmethod
    def _simpler_asks(cls, value: str | None) -> str | None:
        return _asked(value)

    @field_validator("tracks")
    @classmethod
    def _known_unique_tracks(cls, value: list[str]) -> list[str]:
        """Checked against core.tracks, the one list of tracks, rather than a Literal copy of it."""
        unknown = [t for t in value if t not in TAG_IDS]
        if unknown:
            raise ValueError(f"unknown track(s) {', '.join(map(repr, unknown))} (choose from: {', '.join(TAG_IDS)})")
        if len(set(value)) != len(value):
            raise ValueError("a track is listed twice")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Rung:
        for name, items in (("key_points", self.key_points), ("misconceptions", self.misconceptions)):
            ids = [item.id for item in items]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{name} ids must be unique; repeated: {', '.join(dupes)}")
        return self

    def effective_key_points(self) -> list[KeyPoint]:
        """The key points to grade against.

        A rung written with only a reference answer (an ad-hoc rubric) still grades:
        each sentence of the reference becomes an equal-weight key point.
        """
        if self.key_points:
            return list(self.key_points)
        return reference_key_points(self.reference, self.question)


class Topic(_Strict):
    """A topic: a ladder of rungs from screening basics (depth 1) to research (depth 4)."""

    topic: Slug
    title: Text
    rungs: list[Rung] = Field(min_length=1)

    @model_validator(mode="after")
    def _ladder(self) -> Topic:
        ids = [r.id for r in self.rungs]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rung ids must be unique within a topic; repeated: {', '.join(dupes)}")
        return self

    def ladder(self, track: str | None = None, max_depth: int = 4) -> list[Rung]:
        """Rungs for a track up to ``max_depth``, basic first."""
        rungs = [r for r in self.rungs if (track is None or track in r.tracks) and r.depth <= max_depth]
        return sorted(rungs, key=lambda r: r.depth)


def reference_key_points(reference: str, question: str | None = None) -> list[KeyPoint]:
    """Split a reference answer into sentence key points (for rubrics without any).

    A sentence such as "It is switched off at inference." has lost its subject; each
    point is also matched in context (the first sentence before it, or the question),
    so a candidate who says "at test time dropout is off" still hits it.
    """
    sentences = [s.strip() for s in _SENTENCE_END.split(reference.strip()) if len(s.split()) >= 3]
    if not sentences:
        sentences = [reference.strip()]
    points = []
    for i, s in enumerate(sentences[:8]):
        context = sentences[0] if i else (question or "")
        paraphrases = [f"{context} {s}"] if context and context != s else []
        points.append(KeyPoint(id=f"ref-{i + 1}", text=s, weight=1.0, paraphrases=paraphrases))
    return points


def adhoc_rung(reference: str, question: str | None = None) -> Rung:
    """A one-off rung built from a reference answer (``viva grade --reference``).

    Its key points are the reference's sentences, so any external set of graded answers
    can be scored without writing a rubric file.
    """
    from core.errors import DataError

    ref = " ".join(reference.split())
    if len(ref) < 3 or not any(ch.isalnum() for ch in ref):
        raise DataError(f"the reference answer is too short to grade against ({ref!r}); give at least a few words")
    q = " ".join((question or "").split())
    if question is not None and (len(q.rstrip("?")) < 3 or not any(ch.isalnum() for ch in q)):
        raise DataError(f"the question is too short ({q!r}); give the question as asked, or leave it out")
    q = q or "What is your answer to this question?"
    if not q.endswith("?"):
        q += "?"
    return Rung(id="adhoc", depth=1, tracks=[RESEARCH.id], question=q, reference=reference.strip(), hint="-")
