"""The Textual app, driven by Textual's pilot: a whole interview with a fake LLM, the
real model for one question, markup-laden answers, and snapshots of every screen."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fakes import EchoInterviewer
from helpers import SIZE, settle, start, wait_until, where

pytestmark = pytest.mark.slow

def make_app(components, **kwargs):  # noqa: ANN001, ANN201
    from tui.app import VivaApp

    return VivaApp(components=components, **kwargs)


async def answer(pilot, text: str) -> None:  # noqa: ANN001
    from tui.screens.interview import AnswerBox

    screen = pilot.app.screen
    n = len(screen.interview.record.turns)
    screen.query_one(AnswerBox).text = text
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert len(screen.interview.record.turns) == n + 1
    assert screen.awaiting_answer or pilot.app.screen is not screen, where(pilot.app)


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
            await answer(pilot, rung.reference)  # the reference answer: a follow-up (scores are the grader's concern)
            assert iv.pending is not None and iv.record.turns[0].decision.action != "end"
            messages = screen.query(InterviewerMessage)
            assert len(messages) == 2 and messages.last().text.endswith("?")
            assert any("Score" in str(n.render()) for n in screen.query(NoteMessage))
            given = iv.pending.kind == "hint"  # the interviewer gave the hint itself: f2 adds nothing
            await pilot.press("f2")  # a hint
            await pilot.pause()
            assert any("Hint:" in str(n.render()) for n in screen.query(NoteMessage)) != given
            await answer(pilot, "um i'm not sure")
            assert iv.record.turns[1].hinted != given
            n = len(iv.record.turns)
            await pilot.press("f3")  # skip
            await settle(pilot)
            assert len(iv.record.turns) == n + 1
            assert iv.record.turns[-1].skipped
            if app.screen is screen:  # the skip may have ended the interview already
                await pilot.press("f10")  # end, once confirmed
                await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
                await pilot.click("#yes")
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
            from core.paths import data_dir

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


def test_keys_typed_just_before_ctrl_s_are_all_in_the_answer(components) -> None:
    """Seen in tmux on a loaded machine: a long answer typed fast and submitted at once lost
    its last characters ("[/bold]" stored as "[/bol"): ctrl+s must wait its turn behind the
    keys already typed, not jump the queue."""
    from textual import events

    from agent.store import Store

    typed = "um so basically a pretrained encoder, fine-tuned. [bold]x[/bold] " * 3

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await start(pilot, topics="1")
            screen = app.screen
            n = len(screen.interview.record.turns)
            # Every key queued at once, as a terminal delivers a burst; no wait between them.
            for ch in typed:
                app.post_message(events.Key(ch if ch != " " else "space", ch))
            app.post_message(events.Key("ctrl+s", None))
            await wait_until(pilot, lambda: len(screen.interview.record.turns) == n + 1)
            await settle(pilot)
            record = Store.open().load(screen.interview.record.id)
            assert record.turns[n].answer == typed.strip() or record.turns[n].answer == typed

    asyncio.run(run())


def test_ctrl_s_on_an_empty_box_says_so_and_keeps_the_question(components) -> None:
    from tui.screens.interview import AnswerBox

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await start(pilot, topics="1")
            screen = app.screen
            asked = screen.interview.pending
            screen.query_one(AnswerBox).text = "  \n "
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert screen.interview.record.turns == [] and screen.interview.pending is asked
            assert screen.awaiting_answer
            assert any("Nothing to submit" in str(n.message) for n in app._notifications)

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


def test_resuming_a_session_another_viva_took_meanwhile_is_refused(components) -> None:
    """Offered while free, taken by another viva before the click: the setup screen says so
    and starts nothing (the TUI leases a resumed session as `viva ask --resume` does)."""
    from agent.config import SessionConfig
    from agent.store import Store
    from tui.screens.interview import InterviewScreen
    from tui.screens.resume import ResumeScreen

    iv = components.interview(SessionConfig(track="applied-nlp", level="junior", topics=("dropout",)))
    list(iv.speak())
    iv.submit("it switches off random units while training")
    Store.open().save(iv.record)

    async def run() -> None:
        app = make_app(components)
        said: list[str] = []
        app.notify = lambda message, **_: said.append(str(message))  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ResumeScreen) and bool(app.screen.query("#resume")))
            other = Store.open()
            other.claim(iv.record.id)
            try:
                await pilot.click("#resume")
                refused = lambda: any("open in another viva" in m for m in said)  # noqa: E731
                await wait_until(pilot, lambda: refused() or isinstance(app.screen, InterviewScreen))
                assert refused() and not isinstance(app.screen, InterviewScreen), (said, where(app))
            finally:
                other.close()

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
            assert "starts when" in str(app.screen.query_one("#status-text").render())  # and it says so
            gate.set()
            await settle(pilot)  # the models load, the interview opens, its first question is asked
            screen = app.screen
            assert isinstance(screen, InterviewScreen) and screen.awaiting_answer, where(app)
            assert screen.interview.pending.text.endswith("?")
            assert [type(s) for s in app.screen_stack].count(InterviewScreen) == 1  # started once

    try:
        asyncio.run(run())
    finally:
        gate.set()  # never leave the worker thread waiting


# -- issue 13: a chat that follows the conversation, nothing lost by a keypress --------------


def fully_visible(screen) -> bool:  # noqa: ANN001
    """The newest interviewer message lies wholly inside the chat's viewport."""
    from tui.widgets.chat import InterviewerMessage

    chat = screen.query_one("#chat")
    message = screen.query(InterviewerMessage).last()
    top, bottom = message.virtual_region.y, message.virtual_region.bottom
    return chat.scroll_y <= top and bottom <= chat.scroll_y + chat.scrollable_content_region.height


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_after_each_submit_the_newest_interviewer_message_is_fully_visible(components, size) -> None:
    from tui.screens.interview import InterviewScreen
    from tui.widgets.chat import InterviewerMessage

    long_answer = " ".join(["um so basically it randomly switches off units while training and i think that helps"] * 6)

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=size) as pilot:
            await start(pilot, topics="3")
            screen = app.screen
            await pilot.pause()
            assert fully_visible(screen)
            for text in [long_answer, "not sure", long_answer, "um", "it normalises activations"]:
                if app.screen is not screen or screen.interview.done:
                    break
                await answer(pilot, text)
                if app.screen is not screen:
                    break
                await pilot.pause()
                newest = screen.query(InterviewerMessage).last()
                assert not newest.thinking and newest.text.strip()
                assert fully_visible(screen), (size, screen.query_one("#chat").scroll_y, newest.virtual_region)
            assert isinstance(app.screen, InterviewScreen) or app.screen.__class__.__name__ == "ResultsScreen"

    asyncio.run(run())


def test_the_chat_stays_where_the_user_scrolled_and_a_submit_brings_it_back(components) -> None:
    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=(80, 24)) as pilot:
            await start(pilot, topics="2")
            screen = app.screen
            await answer(pilot, "um " * 200)  # a long answer: the chat overflows
            await pilot.pause()
            chat = screen.query_one("#chat")
            assert chat.max_scroll_y > 0
            chat.scroll_home(animate=False)  # the user scrolls up to re-read (releases the anchor)
            await pilot.pause()
            await pilot.press("f2")  # something is added to the chat ...
            await pilot.pause()
            assert chat.scroll_y == 0  # ... and the chat stays where the user is reading
            await answer(pilot, "it drops units")
            await pilot.pause()
            assert fully_visible(screen)

    asyncio.run(run())


def test_the_next_bubble_thinks_until_its_first_word(components) -> None:
    """Between a submit and the next question's first word, the interviewer's bubble is
    there, showing that it thinks (never empty).  The grading is held back as in the
    test above: one executor thread, kept busy."""
    from concurrent.futures import ThreadPoolExecutor

    from tui.widgets.chat import InterviewerMessage

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=(80, 24)) as pilot:
            await start(pilot, topics="2")
            screen = app.screen
            loop = asyncio.get_running_loop()
            loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
            gate = threading.Event()
            try:
                held = loop.run_in_executor(None, gate.wait)
                screen.query_one("#answer").text = "it drops units"
                await pilot.press("ctrl+s")
                await pilot.pause()
                newest = screen.query(InterviewerMessage).last()
                assert newest.thinking and "thinking" in str(newest.query_one(".stream").render())
                assert fully_visible(screen)
                gate.set()
                await held
                await settle(pilot)
                assert not newest.thinking and newest.text.strip()
            finally:
                gate.set()

    asyncio.run(run())


def test_a_draft_survives_ctrl_q_and_f10_both_ask(components) -> None:
    from textual.widgets import Button

    from tui.screens.confirm import ConfirmScreen
    from tui.screens.interview import InterviewScreen
    from tui.screens.results import ResultsScreen

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=(80, 24)) as pilot:
            await start(pilot, topics="2")
            screen = app.screen
            screen.query_one("#answer").text = "half an answer"
            for key in ("ctrl+q", "f10"):
                await pilot.press(key)
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
                assert app.screen.focused is app.screen.query_one("#no", Button)  # Enter cancels
                await pilot.press("enter")
                await wait_until(pilot, lambda: app.screen is screen)
                assert app.is_running and screen.draft == "half an answer" and not screen.interview.done
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is screen)
            assert isinstance(app.screen, InterviewScreen) and screen.draft == "half an answer"
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.click("#yes")
            await wait_until(pilot, lambda: isinstance(app.screen, ResultsScreen))

    asyncio.run(run())


def test_ctrl_q_quits_at_once_when_nothing_would_be_lost(components) -> None:
    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert app.return_code is not None  # exiting, no dialog
            assert app.screen.__class__.__name__ != "ConfirmScreen"

    asyncio.run(run())


def test_the_delete_dialog_defaults_to_cancel(components) -> None:
    from textual.widgets import Button, DataTable

    from agent.config import SessionConfig
    from agent.store import Store
    from tui.screens.confirm import ConfirmScreen
    from tui.screens.history import HistoryScreen

    iv = components.interview(SessionConfig(track="applied-nlp", level="junior", topics=("dropout",)))
    list(iv.speak())
    iv.submit("it switches off random units while training")
    iv.end()
    Store.open().save(iv.record)

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.action_history()
            await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
            history = app.screen
            await pilot.press("d")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert app.screen.focused is app.screen.query_one("#no", Button)
            await pilot.press("enter")  # the default: Cancel
            await wait_until(pilot, lambda: app.screen is history)
            assert len(Store.open().list()) == 1
            await pilot.press("d")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.click("#yes")
            await wait_until(pilot, lambda: app.screen is history)
            assert Store.open().list() == [] and history.query_one("#sessions", DataTable).row_count == 0

    asyncio.run(run())


def test_the_hint_appears_once_and_is_counted_once(components) -> None:
    from tui.widgets.chat import NoteMessage

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await start(pilot, topics="2")
            screen = app.screen

            def hints() -> int:
                return sum(1 for n in screen.query(NoteMessage) if n.has_class("hint"))

            await pilot.press("f2")
            await pilot.press("f2")
            await pilot.pause()
            assert hints() == 1
            await answer(pilot, "um not sure")
            assert screen.interview.record.turns[-1].hinted
            # The interviewer itself gives the hint: f2 then adds nothing and costs nothing.
            screen.interview.pending.kind = "hint"
            await pilot.press("f2")
            await pilot.pause()
            assert hints() == 1
            await answer(pilot, "um still not sure")
            assert not screen.interview.record.turns[-1].hinted

    asyncio.run(run())


def test_skip_clears_the_draft_and_f4_hides_the_scores_shown(components) -> None:
    from tui.widgets.chat import NoteMessage

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await start(pilot, topics="2")
            screen = app.screen
            await answer(pilot, "it drops units at random while training")
            grades = [n for n in screen.query(NoteMessage) if n.has_class("grade")]
            assert grades and all(n.display for n in grades)
            await pilot.press("f4")
            await pilot.pause()
            assert not any(n.display for n in grades)
            screen.query_one("#answer").text = "a draft I give up on"
            n = len(screen.interview.record.turns)
            await pilot.press("f3")
            await settle(pilot)
            assert screen.interview.record.turns[n].skipped
            if app.screen is screen:
                assert screen.draft == ""
                assert not any(n.display for n in screen.query(NoteMessage) if n.has_class("grade"))
                await pilot.press("f4")
                await pilot.pause()
                assert all(n.display for n in screen.query(NoteMessage) if n.has_class("grade"))

    asyncio.run(run())


def test_the_countdown_warns_lets_you_finish_and_pauses_while_hidden(components) -> None:
    from tui.screens.interview import Countdown

    clock = [100.0]
    cd = Countdown(120.0, now=lambda: clock[0])
    cd.run(True)
    clock[0] += 60
    assert cd.left == 60
    cd.run(False)  # hidden or not waiting for an answer: it does not count
    clock[0] += 500
    assert cd.left == 60
    cd.run(True)
    clock[0] += 70
    assert cd.left == -10 and "+0:10" in str(cd.label())

    async def run() -> None:
        from agent.config import SessionConfig
        from tui.screens.interview import InterviewScreen

        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            iv = components.interview(SessionConfig(track="applied-nlp", level="junior", topics=("dropout",)))
            now = [0.0]
            screen = InterviewScreen(iv, timer=2, now=lambda: now[0])
            app.push_screen(screen)
            await settle(pilot)
            assert screen.awaiting_answer
            screen._tick()
            now[0] += 100
            screen._tick()
            assert screen.countdown.warned and not screen.countdown.expired
            assert "0:20" in str(screen.query_one("#clock").render())
            await pilot.press("f5")  # hidden: paused
            now[0] += 1000
            screen._tick()
            assert str(screen.query_one("#clock").render()).strip() == ""
            await pilot.press("f5")
            screen._tick()
            now[0] += 30
            screen._tick()
            assert screen.countdown.expired and screen.awaiting_answer  # time's up, but you may finish
            assert "time +0:10" in str(screen.query_one("#clock").render())

    asyncio.run(run())


def test_topics_refuses_99_with_a_message(components) -> None:
    from textual.widgets import Input

    from core.tracks import TOPIC_LIMITS
    from tui.screens.setup import SetupScreen

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            box = app.screen.query_one("#n-topics", Input)
            box.focus()
            box.value = ""
            await pilot.press("9", "9")
            await pilot.pause()
            error = app.screen.query_one("#n-topics-error")
            lo, hi = TOPIC_LIMITS
            assert error.display and f"{lo} to {hi}" in str(error.render())
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, SetupScreen)

    asyncio.run(run())


def test_practise_a_topic_again_from_results_in_one_key(components) -> None:
    from tui.screens.interview import InterviewScreen
    from tui.screens.results import ResultsScreen

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await start(pilot, topics="1", level="senior")
            first = app.screen.interview
            topic = first.record.topics[0]
            await answer(pilot, "it drops units at random while training")
            if isinstance(app.screen, InterviewScreen):
                first.end()
                app.screen._show_results()
            await wait_until(pilot, lambda: isinstance(app.screen, ResultsScreen))
            await settle(pilot)
            assert app.screen._topics == [topic]
            await pilot.press("a")
            await settle(pilot)
            assert isinstance(app.screen, InterviewScreen) and app.screen.interview is not first
            cfg = app.screen.interview.config
            assert cfg.topics == (topic,) and cfg.level == "senior" and cfg.n_topics == 1

    asyncio.run(run())


def test_answer_a_reviewed_question_again_and_compare(components) -> None:
    from textual.widgets import TextArea

    from agent.config import SessionConfig
    from tui.screens.again import AnswerAgainScreen
    from tui.screens.review import ReviewScreen

    iv = components.interview(SessionConfig(track="applied-nlp", level="junior", topics=("dropout",)))
    list(iv.speak())
    iv.submit("not sure")
    iv.end()

    async def run() -> None:
        app = make_app(components)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.push_screen(ReviewScreen(iv.record))
            await settle(pilot)
            await pilot.press("j")
            assert app.screen.current == 0
            await pilot.press("a")
            await wait_until(pilot, lambda: isinstance(app.screen, AnswerAgainScreen))
            again = app.screen
            again.query_one(
                "#again-answer", TextArea
            ).text = "dropout randomly zeroes a fraction of the units on each training step and is off at inference"
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert again.result is not None and again.result.score >= iv.record.turns[0].score
            assert "Before" in str(again.query_one("#again-compare").render())
            assert len(iv.record.turns) == 1  # practice only: the transcript is unchanged
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen))

    asyncio.run(run())


@pytest.mark.parametrize("model", ["echo", "lecturer"])
def test_every_interviewer_message_ends_as_exactly_what_was_streamed_into_it(model: str, components) -> None:
    """Never a word taken back: each bubble's final text is the text that streamed into it,
    with a model whose reactions pass the checks and with one whose lectures never do."""
    from fakes import Lecturer

    from agent.session import load_components
    from tui.screens.results import ResultsScreen
    from tui.widgets.chat import InterviewerMessage

    comps = components if model == "echo" else load_components(llm="none", chat_model=Lecturer())
    seen: list[tuple[str, str]] = []

    def check(screen) -> None:  # noqa: ANN001
        for m in screen.query(InterviewerMessage):
            if m.has_class("done"):
                assert m.streamed, "a finished interviewer message that nothing streamed into"
                assert m.text == m.streamed, (m.streamed, m.text)
                if (m.streamed, m.text) not in seen:
                    seen.append((m.streamed, m.text))

    async def run() -> None:
        app = make_app(comps)
        async with app.run_test(size=SIZE) as pilot:
            await start(pilot, topics="2")
            screen = app.screen
            iv = screen.interview
            replies = ["um so basically it's like the reference but i'm not totally sure", "i don't know", "no idea really"]
            turn = 0
            while app.screen is screen and not iv.done and turn < 8:
                check(screen)
                rung = next((r for r in iv.topic.ladder("applied-nlp", 3) if r.id == iv.pending.rung), None)
                text = rung.reference if (rung is not None and turn % 2 == 0) else replies[turn % len(replies)]
                await answer(pilot, text)
                turn += 1
            check(screen)
            if app.screen is screen:
                await pilot.press("f10")
                await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
                await pilot.click("#yes")
            await wait_until(pilot, lambda: isinstance(app.screen, ResultsScreen))
            check(screen)

    asyncio.run(run())
    assert len(seen) >= 3  # the opening and at least two follow-ups were checked
