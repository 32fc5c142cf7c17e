"""The interview: a chat view, the interviewer streamed token by token, an answer box.

Generation and grading run in thread workers (the engine is synchronous and fast to
call); tokens come back with ``call_from_thread``.  The answer box is locked while the
interviewer speaks; Escape stops the interviewer, whose question then appears in the
rubric's own wording.  Every answer is stored by the engine's sink before the next
question is phrased.

State changes happen on the app's thread only, in one step each, so a test (or a key
press) never sees an in-between state: the screen is ``speaking`` from the moment it is
created until its first question is shown, and it stays busy from a submit until the
next question is shown.  A worker touches the screen only while it is still mounted:
once it is gone (the app is closing, or the results replaced it) the worker stops.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TextArea

from tui.widgets.chat import CandidateMessage, InterviewerMessage, NoteMessage


class AnswerBox(TextArea):
    """Enter is a newline here; ctrl+s (a screen binding) submits."""


class InterviewScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", id="submit", priority=True, tooltip="Submit your answer"),
        Binding("f2", "hint", "Hint", id="hint", tooltip="A hint (costs a point on this answer)"),
        Binding("f3", "skip", "Skip", id="skip"),
        Binding("f4", "toggle_scores", "Scores", id="scores", tooltip="Show scores as you go, or only at the end"),
        Binding("f5", "toggle_timer", "Timer", id="timer"),
        Binding("escape", "stop", "Stop", id="stop", tooltip="Stop the interviewer mid-sentence"),
        Binding("f10", "end", "End", id="end", tooltip="End the interview and see the results"),
    ]

    speaking: reactive[bool] = reactive(False)
    show_scores: reactive[bool] = reactive(True)

    def __init__(self, interview, timer: bool = False) -> None:  # noqa: ANN001 - agent.engine.Interview
        super().__init__()
        self.interview = interview
        self.timer_on = timer
        self.asked_at = time.monotonic()
        self.show_scores = interview.config.show_scores
        # It opens by speaking (on_mount): locked from the first frame, so "not speaking"
        # always means that a question is on screen.
        self.set_reactive(InterviewScreen.speaking, True)
        self._busy = False
        self._gone = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="interview-bar"):
            yield Static("", id="where")
            yield Static("", id="clock")
        yield VerticalScroll(id="chat")
        yield AnswerBox(
            id="answer", read_only=True, classes="locked",
            placeholder="Type your answer. Enter: new line, ctrl+s: submit, f2: hint, f3: skip",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._replay_record()
        self.speak()

    def on_unmount(self) -> None:
        self._gone = True
        self.interview.cancel()  # a model still generating stops at its next token

    @property
    def awaiting_answer(self) -> bool:
        """A question is on screen and the answer box is open."""
        return not self.speaking and not self._busy and not self.interview.done

    def _ui(self, app, callback, *args) -> bool:  # noqa: ANN001
        """From a worker: run ``callback`` on the app's thread if this screen is still
        mounted.  False once it is gone, and the worker should stop."""

        def guarded() -> bool:
            if self._gone or not self.is_attached:
                return False
            callback(*args)
            return True

        if self._gone:
            return False
        try:
            return bool(app.call_from_thread(guarded))
        except RuntimeError:  # the app has stopped running
            return False

    # -- showing things -----------------------------------------------------------------

    def _chat(self) -> VerticalScroll:
        return self.query_one("#chat", VerticalScroll)

    def _add(self, widget) -> None:  # noqa: ANN001
        chat = self._chat()
        near_bottom = chat.max_scroll_y - chat.scroll_y < 3
        chat.mount(widget)
        if near_bottom:
            chat.scroll_end(animate=False)

    def _replay_record(self) -> None:
        """A resumed session shows what was already said."""
        for turn in self.interview.record.turns:
            msg = InterviewerMessage(turn.question.text)
            self._add(msg)
            self._add(CandidateMessage(turn.answer if not turn.skipped else "(skipped)"))

    def _update_bar(self) -> None:
        iv = self.interview
        q = iv.pending
        if q is None:
            self.query_one("#where", Static).update("Interview finished")
            return
        n, total = iv.progress
        title = iv.topic.title if iv.topic else q.topic
        self.query_one("#where", Static).update(
            Text(f"Topic {n} of {total}: {title}  ·  depth {q.depth}  ·  {q.kind}  ·  {len(iv.record.turns)} answered")
        )

    def _tick(self) -> None:
        clock = self.query_one("#clock", Static)
        if self.timer_on and not self.speaking and not self.interview.done:
            s = int(time.monotonic() - self.asked_at)
            clock.update(f"⏱ {s // 60}:{s % 60:02d}")
        else:
            clock.update("")

    def watch_speaking(self, speaking: bool) -> None:
        box = self.query_one("#answer", AnswerBox)
        box.read_only = speaking
        box.set_class(speaking, "locked")
        if not speaking:
            box.focus()

    # -- the interviewer speaks ------------------------------------------------------------

    def _say_next(self) -> None:
        """On the app's thread: lock the answer box, then phrase the next question."""
        self.speaking = True
        self.speak()

    @work(thread=True, exclusive=True, group="speak")
    def speak(self) -> None:
        """Stream the pending question (``speaking`` is already True: see ``_say_next``)."""
        app = self.app
        message = InterviewerMessage()
        if not (self._ui(app, self._update_bar) and self._ui(app, self._add, message)):
            return
        done = self.interview.done
        try:
            for chunk in self.interview.speak():
                if not self._ui(app, message.append, chunk):
                    return
        except Exception as err:  # noqa: BLE001 - a model failure must not lose the interview
            self._ui(app, lambda: self.notify(f"The interviewer model failed: {err}", severity="error"))
        final = self.interview.record.closing if done else (self.interview.pending.text if self.interview.pending else message.text)
        self._ui(app, self._spoken, message, final or message.text, done)

    def _spoken(self, message: InterviewerMessage, final: str, done: bool) -> None:
        message.finish(final)
        self.asked_at = time.monotonic()
        self.speaking = False
        if done:
            self._show_results()

    def action_stop(self) -> None:
        if self.speaking:
            self.interview.cancel()

    # -- the candidate acts ------------------------------------------------------------------

    def action_submit(self) -> None:
        if self.speaking or self._busy or self.interview.done:
            return
        box = self.query_one("#answer", AnswerBox)
        answer = box.text
        box.clear()
        self._add(CandidateMessage(answer))
        self._busy = True
        self._grade(answer, skipped=False)

    def action_skip(self) -> None:
        if self.speaking or self._busy or self.interview.done:
            return
        self._add(CandidateMessage("(skipped)"))
        self._busy = True
        self._grade("", skipped=True)

    def action_hint(self) -> None:
        if self.speaking or self.interview.done:
            return
        self._add(NoteMessage(f"Hint: {self.interview.hint()}", "hint"))

    def action_toggle_scores(self) -> None:
        self.show_scores = not self.show_scores
        self.notify("Scores shown after each answer." if self.show_scores else "Scores hidden until the end.")

    def action_toggle_timer(self) -> None:
        self.timer_on = not self.timer_on

    def action_end(self) -> None:
        if self.speaking:
            self.interview.cancel()
        self.interview.end()
        self._show_results()

    @work(thread=True, exclusive=True, group="grade")
    def _grade(self, answer: str, skipped: bool) -> None:
        """``_busy`` is already True (set with the key press); ``_graded`` clears it."""
        app = self.app
        try:
            answer_s = time.monotonic() - self.asked_at
            turn = self.interview.skip() if skipped else self.interview.submit(answer, answer_s=answer_s)
        except Exception as err:  # noqa: BLE001
            self._ui(app, self._grading_failed, f"Could not grade that answer: {err}")
            return
        self._ui(app, self._graded, turn)

    def _grading_failed(self, message: str) -> None:
        self.notify(message, severity="error")
        self._busy = False

    def _graded(self, turn) -> None:  # noqa: ANN001 - agent.record.Turn
        if self.show_scores:
            self._add(NoteMessage(feedback(turn), "grade"))
        self._busy = False
        self._say_next()

    def _show_results(self) -> None:
        from tui.screens.results import ResultsScreen

        self.app.switch_screen(ResultsScreen(self.interview.record))


def feedback(turn) -> Text:  # noqa: ANN001 - agent.record.Turn
    """The score and what was hit or missed, as small print under the answer."""
    t = Text()
    if turn.skipped:
        t.append("Skipped.", style="dim")
        return t
    t.append(f"Score {turn.score:.1f}/5", style="bold")
    if turn.hinted:
        t.append(" (hint used)", style="dim")
    for p in turn.grade["key_points"]:
        t.append("\n  ✓ " if p["hit"] else "\n  ✗ ", style="green" if p["hit"] else "red")
        t.append(p["text"])
    for m in turn.grade["misconceptions"]:
        t.append("\n  ! ", style="yellow")
        t.append(f"{m['text']} - in fact: {m['correction']}")
    if turn.grade["flags"]:
        t.append("\n  flags: " + ", ".join(turn.grade["flags"]), style="dim")
    return t
