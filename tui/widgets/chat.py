"""Chat messages.  User text is never parsed as markup: it is wrapped in a Rich ``Text``
(control characters shown as visible symbols), so ``[bold]`` or ``[/]`` show literally."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static

if TYPE_CHECKING:
    from textual.timer import Timer


def visible(text: str) -> str:
    """Control characters as their visible Unicode pictures (display only; storage is exact)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in "\n\t":
            out.append(ch)
        elif code < 0x20:
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("\u2421")
        else:
            out.append(ch)
    return "".join(out)


def literal(text: str, style: str = "") -> Text:
    return Text(visible(text), style=style)


THINKING = "thinking"


class InterviewerMessage(Vertical):
    """Streams plain text while the model speaks, then renders the final text as Markdown.

    Created empty, it shows a "thinking" line (dots that move) until the first chunk
    arrives, so the chat never holds an empty bubble while the model prepares."""

    def __init__(self, text: str = "", **kwargs: Any) -> None:  # kwargs: Vertical's (id, name, disabled)
        super().__init__(classes="message interviewer", **kwargs)
        self._text = text
        self.streamed = ""  # every chunk appended, in order: what the candidate saw arrive
        self._dots = 0
        self._timer: Timer | None = None

    @property
    def thinking(self) -> bool:
        return not self._text and not self.has_class("done")

    def compose(self) -> ComposeResult:
        yield Static("Interviewer", classes="who")
        yield Static(literal(self._text) if self._text else self._thinking_text(), classes="stream")

    def on_mount(self) -> None:
        if self.thinking:
            self.add_class("thinking")
            self._timer = self.set_interval(0.4, self._think)

    def _thinking_text(self) -> Text:
        return Text(THINKING + "." * (1 + self._dots % 3), style="italic dim")

    def _think(self) -> None:
        if not self.thinking:
            self._stop_thinking()
            return
        self._dots += 1
        self.query_one(".stream", Static).update(self._thinking_text())

    def _stop_thinking(self) -> None:
        self.remove_class("thinking")
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def append(self, chunk: str) -> None:
        if not chunk:
            return
        self._text += chunk
        self.streamed += chunk
        self._stop_thinking()
        self.query_one(".stream", Static).update(literal(self._text))

    def finish(self, final: str) -> None:
        """Render the final text as Markdown in place of the plain stream.

        The voice streams only checked sentences, so ``final`` is what was streamed; it
        differs only when the stream broke (a model failure), where the question is still
        owed to the candidate (tests/test_tui.py checks they agree on every message)."""
        self._text = final
        self._stop_thinking()
        self.add_class("done")
        stream = self.query_one(".stream", Static)
        stream.remove()
        self.mount(Markdown(final, classes="final"))

    @property
    def text(self) -> str:
        return self._text


class CandidateMessage(Vertical):
    def __init__(self, answer: str, **kwargs: Any) -> None:  # kwargs: Vertical's (id, name, disabled)
        super().__init__(classes="message candidate", **kwargs)
        self.answer = answer

    def compose(self) -> ComposeResult:
        yield Static("You", classes="who")
        yield Static(literal(self.answer) if self.answer.strip() else Text("(no answer)", style="italic"), classes="body")


class NoteMessage(Static):
    """A grade, a hint or a decision: small print between the turns."""

    def __init__(self, text: Text | str, kind: str = "note") -> None:
        super().__init__(text if isinstance(text, Text) else literal(text), classes=f"message note {kind}")
