"""Helpers the test modules share (no test module imports another).

* A scripted interview: a small bank (``make_bank``), a grader that grades by script
  (``ScriptedGrader``), the fake encoder, and ``interview``/``run`` to drive the engine;
  ``finished_record`` is a whole session built that way, ``NASTY`` an answer full of
  markup and control characters.
* Driving the Textual app with its pilot: ``SIZE``, ``wait_until``, ``settle``, ``start``.
  Textual is imported inside them only, so modules that never drive the app stay
  free of it.

Fixtures (``components``, the real models) live in ``conftest.py``.
"""

from __future__ import annotations

import asyncio

from fakes import BagOfWordsEncoder, EchoInterviewer

from agent.config import SessionConfig
from agent.engine import Interview
from agent.record import SessionRecord
from agent.voice import Voice
from rubrics.bank import Bank, parse_topic
from rubrics.grader import Grade, MisconceptionResult, PointResult

# -- a scripted interview ------------------------------------------------------------------

def ladder_yaml(topic: str, tracks_by_depth: dict[int, str]) -> str:
    rungs = []
    for depth, tracks in tracks_by_depth.items():
        rungs.append(
            f"""\
  - id: d{depth}
    depth: {depth}
    tracks: [{tracks}]
    question: What is the depth {depth} question about {topic}?
    simpler: What is the easy depth {depth} question about {topic}?
    hint: Think about depth {depth}.
    reference: The depth {depth} answer about {topic}.
    passages: []
    key_points:
      - id: a
        text: First point at depth {depth} about {topic}.
        weight: 3
        probe: Can you say more about the first thing at depth {depth}?
      - id: b
        text: Second point at depth {depth} about {topic}.
        weight: 1
        probe: What about the second thing at depth {depth}?
    misconceptions:
      - id: wrong
        text: A wrong belief at depth {depth} about {topic}.
        correction: The truth at depth {depth}.
        challenge: Are you sure that holds at depth {depth}?
"""
        )
    return f"topic: {topic}\ntitle: Topic {topic}\nrungs:\n" + "".join(rungs)


ALL = "product-analytics, applied-nlp, applied-cv"
DEEP = "applied-nlp, applied-cv"


def make_bank() -> Bank:
    bank = Bank()
    for name in ("alpha", "beta", "gamma"):
        bank.add(parse_topic(ladder_yaml(name, {1: ALL, 2: ALL, 3: DEEP, 4: DEEP}), f"{name}.yaml"), f"{name}.yaml")
    bank.add(parse_topic(ladder_yaml("deep-only", {3: DEEP, 4: DEEP}), "deep-only.yaml"), "deep-only.yaml")
    return bank


class ScriptedGrader:
    """Grades by script: 'strong' hits everything, 'partial' hits point a, 'weak' nothing,
    'b' hits only point b, 'wrong' states the misconception, '' is empty."""

    encoder = None

    def grade(self, rung, answer: str, asked: str | None = None, focus=None) -> Grade:  # noqa: ANN001
        kind = answer.strip()
        hit = {"strong": {"a", "b"}, "partial": {"a"}, "b": {"b"}, "wrong": {"a"}}.get(kind, set())
        points = [
            PointResult(
                k.id,
                k.text,
                k.weight,
                0.9 if k.id in hit else 0.2,
                1.0 if k.id in hit else 0.0,
                k.id in hit,
                kind if k.id in hit else None,
                (0, len(kind)) if k.id in hit else None,
            )
            for k in rung.effective_key_points()
        ]
        mis = [MisconceptionResult("wrong", "A wrong belief", "The truth", 0.9, kind, (0, len(kind)))] if kind == "wrong" else []
        score = {"strong": 4.6, "partial": 2.8, "b": 1.2, "wrong": 2.4}.get(kind, 0.3)
        flags = ["empty"] if not kind else []
        return Grade(0.0 if not kind else score, 0.0, points, mis, flags, answer)

    def prepare(self, rung) -> None:  # noqa: ANN001
        pass

    def combine(self, rung, grades):  # noqa: ANN001
        weights = {p.id: p.weight for p in grades[0].points}
        hit = {p.id for g in grades for p in g.points if p.hit}
        if not hit:
            return max(g.score for g in grades)
        return max(max(g.score for g in grades), 4.6 * sum(weights[h] for h in hit) / sum(weights.values()))


FakeEncoder = BagOfWordsEncoder  # stable across processes: no hash()


def interview(config: SessionConfig, model=None, sink=None, record=None) -> Interview:  # noqa: ANN001
    voice = Voice(model if model is not None else EchoInterviewer(), FakeEncoder())
    return Interview(config, make_bank(), ScriptedGrader(), voice, sink=sink, record=record)  # type: ignore[arg-type]


def run(iv: Interview, answers: list[str]) -> list:
    turns = []
    for a in answers:
        if iv.done:
            break
        list(iv.speak())
        turns.append(iv.skip() if a == "/skip" else iv.submit(a))
    return turns


NASTY = "[bold]x[/] [link=http://e.vil]y[/link] **md** `code` \x00\x07\x1b[31m émoji 🧠 \u202e rtl\n" + "a" * 100_000


def finished_record(answers: list[str] | None = None) -> SessionRecord:
    iv = interview(SessionConfig(track="applied-nlp", level="junior", topics=("alpha", "beta"), max_follow_ups=2))
    run(iv, answers or ["strong", "partial", "b", "weak", "weak"])
    return iv.record


# -- driving the app -----------------------------------------------------------------------

SIZE = (120, 40)

# Waits end on a state the app reaches for certain, never on a clock: a loaded machine
# only makes them later.  HANG_S only turns a hang (a bug) into a failure that says where.
HANG_S = 900.0


def where(app) -> str:  # noqa: ANN001
    return (
        f"screen stack: {[type(s).__name__ for s in app.screen_stack]}, workers: {[(w.name, w.state.name) for w in app.workers]}"
    )


async def _guarded(pilot, waiting, what: str) -> None:  # noqa: ANN001
    try:
        await asyncio.wait_for(waiting, HANG_S)
    except asyncio.TimeoutError:
        raise AssertionError(f"the app never reached {what} ({where(pilot.app)})") from None


async def wait_until(pilot, condition) -> None:  # noqa: ANN001
    """Until ``condition()`` holds, checked again each time the app has handled its messages."""

    async def poll() -> None:
        while not condition():
            await pilot.pause(0.02)

    await _guarded(pilot, poll(), "the awaited state")


async def settle(pilot) -> None:  # noqa: ANN001
    """Until no worker runs, the current screen is mounted and it has handled every
    message: what a key press led to (grading, the next question streamed, a screen
    pushed once the models loaded) has then all happened."""
    from textual.worker import WorkerState

    app = pilot.app

    async def quiet() -> None:
        while True:
            running = [w for w in app.workers if w.state is WorkerState.RUNNING]
            if running:
                await asyncio.gather(*(w.wait() for w in running), return_exceptions=True)
                continue
            screen = app.screen
            await pilot.pause()
            if app.screen is screen and screen.is_mounted and not any(w.state is WorkerState.RUNNING for w in app.workers):
                return

    await _guarded(pilot, quiet(), "a settled state")


async def start(pilot, topics: str = "2", level: str = "junior") -> None:  # noqa: ANN001
    from textual.widgets import Input, Select

    from tui.screens.interview import InterviewScreen

    app = pilot.app
    await wait_until(pilot, lambda: app.screen.__class__.__name__ == "SetupScreen")
    app.screen.query_one("#level", Select).value = level
    app.screen.query_one("#n-topics", Input).value = topics
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert isinstance(app.screen, InterviewScreen) and app.screen.awaiting_answer, where(app)
