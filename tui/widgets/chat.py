"""Chat messages.  User text is never parsed as markup: it is wrapped in a Rich ``Text``
(control characters shown as visible symbols), so ``[bold]`` or ``[/]`` show literally."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static


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


class InterviewerMessage(Vertical):
    """Streams plain text while the model speaks, then renders the final text as Markdown."""

    def __init__(self, text: str = "", **kwargs) -> None:  # noqa: ANN003
        super().__init__(classes="message interviewer", **kwargs)
        self._text = text

    def compose(self) -> ComposeResult:
        yield Static("Interviewer", classes="who")
        yield Static(literal(self._text), classes="stream")

    def append(self, chunk: str) -> None:
        self._text += chunk
        self.query_one(".stream", Static).update(literal(self._text))

    def finish(self, final: str) -> None:
        """Replace the streamed text with the checked final text (it may differ)."""
        self._text = final
        stream = self.query_one(".stream", Static)
        stream.remove()
        self.mount(Markdown(final, classes="final"))

    @property
    def text(self) -> str:
        return self._text


class CandidateMessage(Vertical):
    def __init__(self, answer: str, **kwargs) -> None:  # noqa: ANN003
        super().__init__(classes="message candidate", **kwargs)
        self.answer = answer

    def compose(self) -> ComposeResult:
        yield Static("You", classes="who")
        yield Static(literal(self.answer) if self.answer.strip() else Text("(no answer)", style="italic"), classes="body")


class NoteMessage(Static):
    """A grade, a hint or a decision: small print between the turns."""

    def __init__(self, text: Text | str, kind: str = "note") -> None:
        super().__init__(text if isinstance(text, Text) else literal(text), classes=f"message note {kind}")
