"""The Textual app, driven by Textual's pilot: a whole interview with a fake LLM, the
real model for one question, markup-laden answers, and snapshots of every screen."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agent.fakes import EchoInterviewer

pytestmark = pytest.mark.slow

SIZE = (120, 40)


@pytest.fixture(scope="module")
def components():
    from agent.session import load_components

    return load_components(llm="none", chat_model=EchoInterviewer())


# Waits end on a state the app reaches for certain, never on a clock: a loaded machine
# only makes them later.  HANG_S only turns a hang (a bug) into a failure that says where.
HANG_S = 900.0


def _where(app) -> str:  # noqa: ANN001
    return f"screen stack: {[type(s).__name__ for s in app.screen_stack]}, workers: {[(w.name, w.state.name) for w in app.workers]}"


async def _guarded(pilot, waiting, what: str) -> None:  # noqa: ANN001
    try:
        await asyncio.wait_for(waiting, HANG_S)
    except asyncio.TimeoutError:
        raise AssertionError(f"the app never reached {what} ({_where(pilot.app)})") from None


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
    await settle(pilot)
    assert isinstance(app.screen, InterviewScreen) and app.screen.awaiting_answer, _where(app)


async def answer(pilot, text: str) -> None:  # noqa: ANN001
    from tui.screens.interview import AnswerBox

    screen = pilot.app.screen
    n = len(screen.interview.record.turns)
    screen.query_one(AnswerBox).text = text
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert len(screen.interview.record.turns) == n + 1
    assert screen.awaiting_answer or pilot.app.screen is not screen, _where(pilot.app)


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
            await settle(pilot)
            assert len(iv.record.turns) == n + 1
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


def test_the_answer_box_is_never_open_without_a_question_on_screen(components) -> None:
    """Between the screen opening and its first question, and between a graded answer
    and the next question, the screen is busy - never in a state that looks like it
    waits for an answer.  The thread workers are held back deterministically: every
    Textual thread worker runs in the loop's default executor, here one thread that
    the test keeps busy."""
    from concurrent.futures import ThreadPoolExecutor

    from tui.screens.interview import AnswerBox, InterviewScreen

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)  # the setup screen with its topic list
            loop = asyncio.get_running_loop()
            loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
            first, second = threading.Event(), threading.Event()
            try:
                held = loop.run_in_executor(None, first.wait)
                app.screen.query_one("#n-topics").value = "1"
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: isinstance(app.screen, InterviewScreen) and app.screen.is_mounted)
                screen = app.screen
                box = screen.query_one(AnswerBox)
                await pilot.pause()
                assert screen.speaking and box.read_only  # its speak worker has not even started
                first.set()
                await held
                await settle(pilot)
                assert not screen.speaking and not box.read_only and screen.interview.pending.text.endswith("?")

                first.clear()
                held = loop.run_in_executor(None, first.wait)
                box.text = "um i'm not sure"
                await pilot.press("ctrl+s")
                grading = next(w for w in app.workers if w.group == "grade")
                held_again = loop.run_in_executor(None, second.wait)  # queued after the grading
                first.set()
                await held
                await grading.wait()  # graded and stored; the next question is held back
                await pilot.pause()
                assert len(screen.interview.record.turns) == 1
                assert screen.speaking and box.read_only
                second.set()
                await held_again
                await settle(pilot)
                assert screen.awaiting_answer and screen.interview.pending.text.endswith("?")
            finally:
                first.set()
                second.set()

    asyncio.run(run())


def test_start_pressed_before_the_models_are_ready_starts_once_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    import agent.session
    from tui.app import VivaApp
    from tui.screens.interview import InterviewScreen
    from tui.screens.setup import SetupScreen

    # The models finish loading only after Start was pressed, on any machine: the app's
    # worker waits for this gate before the real load.
    gate = threading.Event()
    real = agent.session.load_components

    def gated(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        gate.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(agent.session, "load_components", gated)

    async def run() -> None:
        app = VivaApp(llm="none", chat_model=EchoInterviewer())  # loads in its worker
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SetupScreen) and app.screen.is_mounted)
            assert app.components is None and app.loading != "ready"
            await pilot.press("ctrl+s")
            assert isinstance(app.screen, SetupScreen) and app.screen._waiting is not None  # noted, not lost
            gate.set()
            await settle(pilot)  # the models load, the interview opens, its first question is asked
            screen = app.screen
            assert isinstance(screen, InterviewScreen) and screen.awaiting_answer, _where(app)
            assert screen.interview.pending.text.endswith("?")
            assert [type(s) for s in app.screen_stack].count(InterviewScreen) == 1  # started once

    try:
        asyncio.run(run())
    finally:
        gate.set()  # never leave the worker thread waiting
