"""The Textual app, driven by Textual's pilot: a whole interview with a fake LLM, the
real model for one question, markup-laden answers, and snapshots of every screen."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from agent.fakes import EchoInterviewer

pytestmark = pytest.mark.slow

SIZE = (120, 40)


@pytest.fixture(scope="module")
def components():
    from agent.session import load_components

    return load_components(llm="none", chat_model=EchoInterviewer())


async def wait_until(pilot, condition, timeout: float = 60.0) -> None:  # noqa: ANN001
    """Poll until background workers have done what the test waits for."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            app = pilot.app
            raise AssertionError(f"timed out waiting for the app (screen stack: {[type(s).__name__ for s in app.screen_stack]}, workers: {[w.name for w in app.workers]})")
        await pilot.pause(0.05)


def make_app(components, **kwargs):  # noqa: ANN001, ANN201
    from tui.app import VivaApp

    return VivaApp(components=components, **kwargs)


async def start(pilot, topics: str = "2", level: str = "junior") -> None:  # noqa: ANN001
    from textual.widgets import Input, Select

    from tui.screens.interview import InterviewScreen

    app = pilot.app
    await wait_until(pilot, lambda: app.screen.__class__.__name__ == "SetupScreen")
    app.screen.query_one("#level", Select).value = level
    app.screen.query_one("#n-topics", Input).value = topics
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: isinstance(app.screen, InterviewScreen) and not app.screen.speaking)


async def answer(pilot, text: str) -> None:  # noqa: ANN001
    from tui.screens.interview import AnswerBox

    screen = pilot.app.screen
    n = len(screen.interview.record.turns)
    screen.query_one(AnswerBox).text = text
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: len(screen.interview.record.turns) > n and not screen.speaking and not screen._busy)


def test_a_whole_interview(components) -> None:
    from textual.widgets import DataTable

    from agent.store import Store
    from tui.screens.history import HistoryScreen
    from tui.screens.results import ResultsScreen
    from tui.screens.review import ReviewScreen
    from tui.widgets.chat import InterviewerMessage, NoteMessage

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await start(pilot, topics="2")
            screen = app.screen
            iv = screen.interview
            first = iv.pending
            ladder = iv.topic.ladder("applied-nlp", 3)
            rung = next(r for r in ladder if r.id == first.rung)
            await answer(pilot, rung.reference)  # the reference answer is strong: a follow-up
            assert iv.record.turns[0].score >= 3.0
            assert iv.pending is not None and iv.record.turns[0].decision.action in {"deeper", "probe", "challenge"}
            messages = screen.query(InterviewerMessage)
            assert len(messages) == 2 and messages.last().text.endswith("?")
            assert any("Score" in str(n.render()) for n in screen.query(NoteMessage))
            await pilot.press("f2")  # a hint
            await pilot.pause()
            assert any("Hint:" in str(n.render()) for n in screen.query(NoteMessage))
            await answer(pilot, "um i'm not sure")
            assert iv.record.turns[1].hinted
            n = len(iv.record.turns)
            await pilot.press("f3")  # skip
            await wait_until(pilot, lambda: len(iv.record.turns) > n and not screen.speaking)
            assert iv.record.turns[-1].skipped
            await pilot.press("f10")  # end
            await wait_until(pilot, lambda: isinstance(app.screen, ResultsScreen))
            table = app.screen.query_one("#topics", DataTable)
            assert table.row_count >= 1
            stored = Store.open().load(iv.record.id)
            assert [t.answer for t in stored.turns] == [t.answer for t in iv.record.turns]
            await pilot.press("h")
            await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
            assert app.screen.query_one("#sessions", DataTable).row_count == 1
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen))
            await pilot.press("e")
            await pilot.pause()
            from viva.paths import data_dir

            assert (data_dir() / "exports" / f"viva-{iv.record.id}.md").is_file()

    asyncio.run(run())


def test_markup_and_control_characters_render_and_store_unchanged(components) -> None:
    from agent.store import Store
    from tui.widgets.chat import CandidateMessage

    nasty = "[bold]x[/] [/] [link=http://e.vil]y[/link] **md** # h \x1b[31m\x00\x07 tab\there 🧠"

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await start(pilot, topics="1")
            await answer(pilot, nasty)
            shown = app.screen.query(CandidateMessage).last()
            body = shown.query_one(".body").render()
            assert "[bold]x[/] [/] [link=http://e.vil]y[/link] **md** # h" in str(body)
            record = Store.open().load(app.screen.interview.record.id)
            assert record.turns[0].answer == nasty

    asyncio.run(run())


def test_settings_are_remembered(components) -> None:
    from textual.widgets import Select

    async def run(level: str | None) -> str:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            if level:
                await start(pilot, topics="1", level=level)
                return level
            await pilot.pause(0.2)
            return str(app.screen.query_one("#level", Select).value)

    asyncio.run(run("senior"))
    assert asyncio.run(run(None)) == "senior"


def test_one_question_with_the_real_model() -> None:
    from agent.session import load_components
    from tui.screens.interview import InterviewScreen

    real = load_components()

    async def run() -> None:
        app = make_app(real)
        async with app.run_test(size=SIZE) as pilot:
            await start(pilot, topics="1")
            q = app.screen.interview.pending
            assert q.text.endswith("?") and q.first_token_s is not None
            await answer(pilot, "um i think it's about making training more stable")
            assert isinstance(app.screen, InterviewScreen) or app.screen.__class__.__name__ == "ResultsScreen"

    asyncio.run(run())


def test_an_unfinished_session_is_offered_for_resume(components) -> None:
    from agent.config import SessionConfig
    from agent.store import Store
    from tui.screens.interview import InterviewScreen
    from tui.screens.resume import ResumeScreen

    iv = components.interview(SessionConfig(track="applied-nlp", level="junior", topics=("dropout", "attention")))
    list(iv.speak())
    iv.submit("it switches off random units while training")
    Store.open().save(iv.record)

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ResumeScreen) and bool(app.screen.query("#resume")))
            await pilot.click("#resume")
            await wait_until(pilot, lambda: isinstance(app.screen, InterviewScreen) and not app.screen.speaking)
            assert app.screen.interview.record.id == iv.record.id
            assert len(app.screen.interview.record.turns) == 1

    asyncio.run(run())


def test_start_pressed_before_the_models_are_ready_starts_once_they_are() -> None:
    from tui.app import VivaApp
    from tui.screens.interview import InterviewScreen

    async def run() -> None:
        app = VivaApp(llm="none", chat_model=EchoInterviewer())  # loads in its worker
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.screen.__class__.__name__ == "SetupScreen")
            assert app.components is None
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, InterviewScreen) and not app.screen.speaking)
            assert app.screen.interview.pending.text.endswith("?")

    asyncio.run(run())
