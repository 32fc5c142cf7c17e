"""Simulated candidates for whole-interview runs (tests and ``make bench``).

Each persona turns the question in front of it into an answer, the way a kind of
candidate would: the strong one says what a strong answer says (in spoken style), the
partial one gets the first idea only, the rambler buries one idea in filler, the wrong
one states a misconception, and the rest give nothing usable.  The harness then reports
per persona the mean score and how often the interviewer fell back to rubric wording,
so the grader and the policy are judged by behaviour, not by wording.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.config import SessionConfig
from agent.record import Question
from rubrics.schema import Rung

if TYPE_CHECKING:  # agent.session pulls in the engine; the type only here
    from agent.session import Components

FILLERS = ["um", "uh", "so", "like", "you know", "i mean", "basically"]


def spoken(text: str, rng: random.Random) -> str:
    """Lower-case, strip punctuation, sprinkle fillers and a false start."""
    words = re.sub(r"[^\w\s'-]", " ", text.lower()).split()
    out: list[str] = []
    for i, w in enumerate(words):
        if rng.random() < 0.12:
            out.append(rng.choice(FILLERS))
        if i == 2 and rng.random() < 0.5:
            out.append(w)  # "it it"
        out.append(w)
    return " ".join(out)


Answerer = Callable[[Question, Rung, random.Random], str]


def _strong(q: Question, rung: Rung, rng: random.Random) -> str:
    if q.kind == "probe" and q.key_point:
        kp = next(k for k in rung.effective_key_points() if k.id == q.key_point)
        return spoken(kp.paraphrases[0] if kp.paraphrases else kp.text, rng)
    return spoken(rung.reference, rng)


def _partial(q: Question, rung: Rung, rng: random.Random) -> str:
    first = re.split(r"(?<=[.!?])\s+", rung.reference)[0]
    return spoken(first, rng) + " and uh i'm not totally sure about the rest"


def _rambling(q: Question, rung: Rung, rng: random.Random) -> str:
    points = rung.effective_key_points()
    kp = points[rng.randrange(len(points))]
    idea = kp.paraphrases[0] if kp.paraphrases else kp.text
    fluff = "so yeah it really depends on the project and the team and what you are trying to do in the end"
    return " ".join([fluff, spoken(idea, rng), fluff, "and i have used this a lot in my last job", fluff])


def _wrong(q: Question, rung: Rung, rng: random.Random) -> str:
    if rung.misconceptions:
        return spoken(rung.misconceptions[0].text, rng)
    return "i think it doesn't really matter much either way honestly"


def _empty(q: Question, rung: Rung, rng: random.Random) -> str:
    return ""


def _gibberish(q: Question, rung: Rung, rng: random.Random) -> str:
    return " ".join("".join(rng.choice("qwxzkjvbpy") for _ in range(rng.randint(3, 8))) for _ in range(12))


def _repeats(q: Question, rung: Rung, rng: random.Random) -> str:
    return spoken(q.intended, rng)


PERSONAS: dict[str, Answerer] = {
    "strong": _strong,
    "partial": _partial,
    "rambling": _rambling,
    "wrong": _wrong,
    "empty": _empty,
    "gibberish": _gibberish,
    "repeats-question": _repeats,
}


@dataclass
class PersonaResult:
    persona: str
    scores: list[float] = field(default_factory=list)
    questions: int = 0
    fallbacks: int = 0  # questions the LLM was asked to phrase but whose check failed
    phrased: int = 0  # questions the LLM was asked to phrase
    actions: dict[str, int] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0


def simulate(components: Components, persona: str, config: SessionConfig, seed: int = 0) -> PersonaResult:
    """Run one whole interview with a persona; returns its scores and interviewer stats."""
    rng = random.Random(seed)
    answerer = PERSONAS[persona]
    iv = components.interview(config)
    result = PersonaResult(persona)
    while not iv.done:
        for _ in iv.speak():
            pass
        q, topic = iv.pending, iv.topic
        assert q is not None and topic is not None  # not done: a question of a topic is pending
        rung = next(r for r in topic.rungs if r.id == q.rung)
        turn = iv.submit(answerer(q, rung, rng))
        result.questions += 1
        if q.kind not in {"hint", "simpler"} and components.voice.model is not None:
            result.phrased += 1
            result.fallbacks += q.fell_back
        result.actions[turn.decision.action] = result.actions.get(turn.decision.action, 0) + 1
    list(iv.speak())
    result.scores = list(iv.record.topic_scores().values())
    return result
