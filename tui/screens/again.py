"""Answer a reviewed question again and compare both grades (as Interview Warmup
allows).  Practice only: the new answer is graded against the same rung and focus,
without the hint penalty, and is not saved to the transcript."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tui.widgets.chat import visible

if TYPE_CHECKING:  # the types only: the turn, rung and grader come from the review screen
    from agent.record import Turn
    from agent.verdict import Verdict
    from rubrics.grade import Grade
    from rubrics.grader import Grader
    from rubrics.schema import Rung


def compare(before: Verdict, after: Grade) -> Text:
    """Both scores, and the key points each answer made: ``before`` the turn's, ``after`` the new answer's."""
    t = Text()
    t.append(f"Before {before.score:.1f}/5  ->  now {after.score:.1f}/5\n", style="bold")
    was = {p.id for p in before.hits}
    for p in after.points:
        if not p.asked and not p.hit:
            continue
        if p.hit and p.id not in was:
            t.append("+ ", style="green bold")
        elif p.hit:
            t.append("✓ ", style="green")
        elif p.id in was:
            t.append("- ", style="red bold")
        else:
            t.append("✗ ", style="red")
        t.append(p.text + "\n")
    for m in after.misconceptions:
        t.append("! ", style="yellow")
        t.append(f"{m.text} - in fact: {m.correction}\n")
    t.append("+ newly made, - made before but not now. Not saved to the transcript.", style="dim")
    return t


class AnswerAgainScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("ctrl+s", "grade", "Grade", id="grade-again"),
        Binding("escape", "dismiss", "Close", id="close-again"),
    ]

    def __init__(self, turn: Turn, rung: Rung, grader: Grader) -> None:
        super().__init__()
        self.turn, self.rung, self.grader = turn, rung, grader
        self.result: Grade | None = None

    def compose(self) -> ComposeResult:
        q = self.turn.question
        with Vertical(classes="dialog again"):
            yield Static("Answer again", classes="dialog-title")
            yield Static(Text(visible(q.text or q.intended), style="italic"))
            yield TextArea(id="again-answer")
            yield Static(Text("ctrl+s: grade and compare · Escape: close", style="dim"), id="again-hint")
            with VerticalScroll(id="again-result"):
                yield Static("", id="again-compare")

    def on_mount(self) -> None:
        self.query_one("#again-answer", TextArea).focus()

    def action_grade(self) -> None:
        answer = self.query_one("#again-answer", TextArea).text
        if answer.strip():
            self.query_one("#again-compare", Static).update(Text("grading...", style="italic dim"))
            self._grade(answer)

    @work(thread=True, exclusive=True, group="again")
    def _grade(self, answer: str) -> None:
        from agent.engine import focus_of
        from agent.verdict import verdict

        q = self.turn.question
        asked = q.intended if q.intended == q.text else f"{q.intended} {q.text}"
        grade = self.grader.grade(self.rung, answer, asked=asked, focus=focus_of(q))
        text = compare(verdict(self.turn), grade)
        self.app.call_from_thread(self._show, grade, text)

    def _show(self, grade: Grade, text: Text) -> None:
        self.result = grade
        if self.is_attached:
            self.query_one("#again-compare", Static).update(text)
