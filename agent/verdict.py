"""What a turn's grade says, in one shape for every place that shows it.

``viva ask``, the interview screen, the review and the exports all print the same
facts about an answer - its score, what it was judged on, the points made (with the
words that made them), the points missed, the points a follow-up did not ask about,
misconceptions and contradictions - so they are read from the stored grade here, once,
and the numbers cannot drift apart between screens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rubrics.grade import MAX_GRADED_CHARS, Grade

if TYPE_CHECKING:  # the annotation only: this module needs no record at import time
    from agent.record import Turn

FLAG_TEXT = {
    "empty": "no answer",
    "too-short": "too short to judge",
    "off-topic": "off the topic",
    "restates-question": "reads the question back",
    "misconception": "states a misconception",
    "contradiction": "says the opposite of a key point",
    "dont-know": "said they don't know",
    "already-said": "points back to an earlier answer",
    "repetitive": "repeats the same few words over and over (scored at most 1)",
    "truncated": f"graded on its first {MAX_GRADED_CHARS:,} characters (the whole answer is kept)",
}


@dataclass(frozen=True)
class PointLine:
    id: str
    text: str
    evidence: str | None = None


@dataclass(frozen=True)
class WrongLine:
    id: str
    said: str  # the candidate's words
    claim: str  # what those words amount to
    truth: str  # what is right instead


@dataclass
class Verdict:
    score: float
    judged_on: str
    hinted: bool = False
    skipped: bool = False
    hits: list[PointLine] = field(default_factory=list)
    missed: list[PointLine] = field(default_factory=list)
    not_asked: list[PointLine] = field(default_factory=list)
    wrong: list[WrongLine] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @property
    def flag_text(self) -> list[str]:
        return [FLAG_TEXT.get(f, f) for f in self.flags]


def verdict(turn: Turn) -> Verdict:
    """The verdict of a recorded turn."""
    if turn.skipped:
        return Verdict(0.0, "skipped", skipped=True)
    g: Grade = turn.grade
    v = Verdict(turn.score, g.judged_on, hinted=turn.hinted, flags=list(g.flags))
    for p in g.points:
        line = PointLine(p.id, p.text, p.evidence if p.hit else None)
        (v.hits if p.hit else v.missed if p.asked else v.not_asked).append(line)
    v.wrong += [WrongLine(m.id, m.evidence, m.text, m.correction) for m in g.misconceptions]
    v.wrong += [WrongLine(c.point, c.evidence, c.reason, c.text) for c in g.contradictions]
    return v
