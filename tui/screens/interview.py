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

The chat follows the conversation as chat apps do: it is anchored to the bottom, so
it stays there while the interviewer speaks unless the user scrolls up (scrolling back
to the bottom, or submitting, anchors it again).  The interviewer's next bubble
appears the moment an answer is submitted, "thinking" until its first word.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer, Header, Static, TextArea

from tui.screens.base import VivaScreen
from tui.widgets.chat import CandidateMessage, InterviewerMessage, NoteMessage

if TYPE_CHECKING:  # the engine's modules load when the app builds an interview
    from agent.engine import Interview
    from agent.record import Question, Turn
    from tui.app import VivaApp

WARN_S = 30  # the countdown warns this many seconds before the end
COMPACT_HEIGHT = 30  # below this many rows the answer box is shorter


class AnswerBox(TextArea):
    """Enter is a newline here; ctrl+s (a screen binding) submits."""


class Countdown:
    """A per-answer countdown that runs only while it is shown and a question waits for
    an answer.  ``now`` is the clock (a test passes its own)."""

    def __init__(self, limit_s: float, now: Callable[[], float] = time.monotonic) -> None:
        self.limit_s = limit_s
        self.now = now
        self.shown = limit_s > 0
        self._spent = 0.0
        self._since: float | None = None
        self.warned = False
        self.expired = False

    @property
    def on(self) -> bool:
        return self.limit_s > 0

    def restart(self) -> None:
        """A new question is on screen."""
        self._spent, self._since, self.warned, self.expired = 0.0, None, False, False

    def run(self, running: bool) -> None:
        if running and self._since is None:
            self._since = self.now()
        elif not running and self._since is not None:
            self._spent += self.now() - self._since
            self._since = None

    @property
    def spent(self) -> float:
        return self._spent + (self.now() - self._since if self._since is not None else 0.0)

    @property
    def left(self) -> float:
        return self.limit_s - self.spent

    def label(self) -> Text:
        left = self.left
        if left > 0:
            s = int(left + 0.999)
            return Text(f"⏱ {s // 60}:{s % 60:02d}", style="bold yellow" if left <= WARN_S else "")
        over = int(-left)
        return Text(f"time +{over // 60}:{over % 60:02d}", style="bold red")


class InterviewScreen(VivaScreen[None]):
    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", id="submit", tooltip="Submit your answer"),
        Binding("f2", "hint", "Hint", id="hint", tooltip="A hint (costs a point on this answer)"),
        Binding("f3", "skip", "Skip", id="skip", tooltip="Skip this question (your draft is cleared)"),
        Binding("f4", "toggle_scores", "Scores", id="scores", tooltip="Show scores as you go, or only at the end"),
        Binding("f5", "toggle_timer", "Timer", id="timer", tooltip="Show (and run) or hide (and pause) the answer countdown"),
        Binding("escape", "stop", "Stop", id="stop", show=False, tooltip="Stop the interviewer mid-sentence"),
        Binding("f10", "end", "End", id="end", tooltip="End the interview and see the results (asks first)"),
    ]

    speaking: reactive[bool] = reactive(False)
    show_scores: reactive[bool] = reactive(True)

    def __init__(self, interview: Interview, timer: int | bool = 0, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interview = interview
        minutes = 2 if timer is True else int(timer or 0)
        self.countdown = Countdown(60.0 * minutes, now=now)
        self.asked_at = time.monotonic()
        self.show_scores = interview.config.show_scores
        # It opens by speaking (on_mount): locked from the first frame, so "not speaking"
        # always means that a question is on screen.
        self.set_reactive(InterviewScreen.speaking, True)
        self._busy = False
        self._gone = False
        self._hint_for: Question | None = None  # the question whose hint was shown (shown and counted once)

    @property
    def timer_on(self) -> bool:
        return self.countdown.on and self.countdown.shown

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
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.set_interval(0.5, self._tick)
        chat = self._chat()
        chat.anchor()
        self._replay_record()
        message = InterviewerMessage()
        self._add(message)
        self.speak(message)

    def on_resize(self) -> None:
        self.set_class(self.size.height < COMPACT_HEIGHT, "compact")

    def on_unmount(self) -> None:
        self._gone = True
        self.interview.cancel()  # a model still generating stops at its next token

    @property
    def awaiting_answer(self) -> bool:
        """A question is on screen and the answer box is open."""
        return not self.speaking and not self._busy and not self.interview.done

    @property
    def draft(self) -> str:
        return self.query_one("#answer", AnswerBox).text

    def _ui(self, app: VivaApp, callback: Callable[..., object], *args: object) -> bool:
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

    def _add(self, widget: Widget, before: Widget | None = None) -> None:
        """Mount into the chat; the anchor keeps it at the bottom unless the user scrolled up."""
        if before is not None and before.parent is self._chat():
            self._chat().mount(widget, before=before)
        else:
            self._chat().mount(widget)

    def follow(self) -> None:
        """Back to the bottom, anchored again (the user acted: show the reply)."""
        self._chat().scroll_end(animate=False)

    def _replay_record(self) -> None:
        """A resumed session shows what was already said."""
        for turn in self.interview.record.turns:
            msg = InterviewerMessage(turn.question.text or turn.question.intended)
            msg.add_class("done")
            self._add(msg)
            self._add(CandidateMessage(turn.answer if not turn.skipped else "(skipped)"))
            self._add_grade(turn)

    def _add_grade(self, turn: Turn, before: Widget | None = None) -> None:
        note = NoteMessage(feedback(turn), "grade")
        note.display = self.show_scores
        self._add(note, before=before)

    def _update_bar(self) -> None:
        iv = self.interview
        q = iv.pending
        if q is None:
            self.query_one("#where", Static).update("Interview finished")
            return
        n, total = iv.progress
        title = iv.topic.title if iv.topic else q.topic
        answered = sum(1 for t in iv.record.turns if not t.skipped)
        self.query_one("#where", Static).update(
            Text(f"Topic {n}/{total}: {title} · depth {q.depth} · {q.kind} · {answered} answered")
        )

    def _tick(self) -> None:
        cd = self.countdown
        cd.run(self.timer_on and self.awaiting_answer)
        clock = self.query_one("#clock", Static)
        if not self.timer_on or self.interview.done:
            clock.update("")
            return
        clock.update(cd.label())
        if not self.awaiting_answer:
            return
        if not cd.warned and 0 < cd.left <= WARN_S:
            cd.warned = True
            self.notify(f"{WARN_S} seconds left on this answer.", severity="warning")
        if not cd.expired and cd.left <= 0:
            cd.expired = cd.warned = True
            self.notify("Time's up - finish your thought and submit (ctrl+s); nothing is cut off.", severity="warning", timeout=8)

    def watch_speaking(self, speaking: bool) -> None:
        box = self.query_one("#answer", AnswerBox)
        box.read_only = speaking
        box.set_class(speaking, "locked")
        if not speaking:
            box.focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.speaking or None
        return True

    # -- the interviewer speaks ------------------------------------------------------------

    @work(thread=True, exclusive=True, group="speak")
    def speak(self, message: InterviewerMessage) -> None:
        """Stream the pending question into ``message`` (its bubble, thinking until the
        first word).  ``speaking`` is already True: see ``__init__`` and ``_graded``."""
        app = self.app
        if not self._ui(app, self._update_bar):
            return
        done = self.interview.done
        try:
            for chunk in self.interview.speak():
                if not self._ui(app, message.append, chunk):
                    return
        except Exception as err:  # noqa: BLE001 - a model failure must not lose the interview
            # the message is built here: ``err`` is unbound once the except block ends,
            # before the UI thread runs the callback
            failure = f"The interviewer model failed: {err}"
            self._ui(app, lambda: self.notify(failure, severity="error"))
        final = (
            self.interview.record.closing if done else (self.interview.pending.text if self.interview.pending else message.text)
        )
        self._ui(app, self._spoken, message, final or message.text, done)

    def _spoken(self, message: InterviewerMessage, final: str, done: bool) -> None:
        message.finish(final)
        self.asked_at = time.monotonic()
        self.countdown.restart()
        self.speaking = False
        self._tick()
        if done:
            self._show_results()

    def action_stop(self) -> None:
        if self.speaking:
            self.interview.cancel()

    # -- the candidate acts ------------------------------------------------------------------

    def action_submit(self) -> None:
        if not self.awaiting_answer:
            return
        box = self.query_one("#answer", AnswerBox)
        answer = box.text
        if not answer.strip():  # an accidental ctrl+s would cost the question a zero
            self.notify("Nothing to submit yet: type your answer (f3 skips the question).", severity="warning")
            return
        box.clear()
        self._answered(CandidateMessage(answer), answer, skipped=False)

    def action_skip(self) -> None:
        if not self.awaiting_answer:
            return
        self.query_one("#answer", AnswerBox).clear()  # the skipped draft does not stay under the next question
        self._answered(CandidateMessage("(skipped)"), "", skipped=True)

    def _answered(self, shown: CandidateMessage, answer: str, skipped: bool) -> None:
        """One step on the app's thread: the answer shown, the box locked, the
        interviewer's next bubble thinking, the chat following, the grading started."""
        self._busy = True
        self.speaking = True
        self.countdown.run(False)
        self._add(shown)
        nxt = InterviewerMessage()
        self._add(nxt)
        self.follow()
        self._grade(answer, skipped, nxt)

    def action_hint(self) -> None:
        q = self.interview.pending
        if q is None or not self.awaiting_answer:  # (awaiting an answer, one is pending)
            return
        if q.kind == "hint":
            self.notify("The interviewer has just given you the hint: it is in the question above.")
            return
        if self._hint_for is q:
            self.notify("The hint is above; it is counted once.")
            return
        self._hint_for = q
        self._add(NoteMessage(f"Hint: {self.interview.hint()}", "hint"))
        self.follow()

    def action_toggle_scores(self) -> None:
        self.show_scores = not self.show_scores
        for note in self.query("NoteMessage.grade"):
            note.display = self.show_scores
        self.notify(
            "Scores shown, after each answer and for the answers so far." if self.show_scores
            else "Scores hidden, the ones shown so far too; the results show them all at the end."
        )

    def action_toggle_timer(self) -> None:
        cd = self.countdown
        if not cd.on:
            cd.limit_s, cd.shown = 120.0, True
            cd.restart()
            self.notify("A 2-minute countdown for this answer (f5 hides and pauses it).")
        else:
            cd.shown = not cd.shown
            self.notify("Countdown running." if cd.shown else "Countdown hidden and paused.")
        self._tick()

    def action_end(self) -> None:
        if self.interview.done:
            return
        from tui.screens.confirm import ConfirmScreen

        n, total = self.interview.progress
        left = total - n + (0 if self.interview.pending is None else 1) - 1
        lines = ["End the interview now?", "Your answers so far are kept and scored."]
        if left > 0:
            lines.append(f"{left} topic(s) not reached yet.")
        if self.draft.strip():
            lines.append("Your unsent draft will not be submitted.")

        def chosen(yes: bool | None) -> None:
            if yes and not self.interview.done:
                self.end_now()

        self.app.push_screen(ConfirmScreen("\n".join(lines), yes="End interview", variant="warning"), chosen)

    def end_now(self) -> None:
        if self.speaking:
            self.interview.cancel()
        self.interview.end()
        self._show_results()

    @work(thread=True, exclusive=True, group="grade")
    def _grade(self, answer: str, skipped: bool, nxt: InterviewerMessage) -> None:
        """``_busy`` is already True (set with the key press); ``_graded`` clears it."""
        app = self.app
        try:
            answer_s = time.monotonic() - self.asked_at
            turn = self.interview.skip() if skipped else self.interview.submit(answer, answer_s=answer_s)
        except Exception as err:  # noqa: BLE001
            self._ui(app, self._grading_failed, f"Could not grade that answer: {err}", nxt)
            return
        self._ui(app, self._graded, turn, nxt)

    def _grading_failed(self, message: str, nxt: InterviewerMessage) -> None:
        self.notify(message, severity="error")
        nxt.remove()
        self._busy = False
        self.speaking = False

    def _graded(self, turn: Turn, nxt: InterviewerMessage) -> None:
        if not turn.skipped:
            self._add_grade(turn, before=nxt)
        self._busy = False  # still speaking (locked) until the next question is shown
        self.speak(nxt)

    def _show_results(self) -> None:
        from tui.screens.results import ResultsScreen

        self.app.switch_screen(ResultsScreen(self.interview.record))


def feedback(turn: Turn) -> Text:
    """The score, what it was judged on, and what was hit or missed, as small print under the answer."""
    from agent.verdict import verdict

    v = verdict(turn)
    t = Text()
    if v.skipped:
        t.append("Skipped.", style="dim")
        return t
    t.append(f"Score {v.score:.1f}/5", style="bold")
    t.append(f" on {v.judged_on}", style="dim")
    if v.hinted:
        t.append(" (hint used)", style="dim")
    for p in v.hits:
        t.append("\n  ✓ ", style="green")
        t.append(p.text)
    for p in v.missed:
        t.append("\n  ✗ ", style="red")
        t.append(p.text)
    for w in v.wrong:
        t.append("\n  ! ", style="yellow")
        t.append(f"{w.claim} - in fact: {w.truth}")
    if v.flags:
        t.append("\n  " + "; ".join(v.flag_text), style="dim")
    return t
