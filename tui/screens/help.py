"""F1 / ?: the keys, and what each screen is for."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# viva: keys and screens

**Setup** - choose a track, a level and how many topics (or pick topics), then
**Start** (`ctrl+s`); `f6` opens history. Models load in the background; the footer shows progress.

**Interview** - the interviewer asks; you type in the answer box.

| Key | Does |
|---|---|
| `Enter` | new line in your answer |
| `ctrl+s` | submit the answer |
| `f2` | ask for a hint (costs 1 point on this answer) |
| `f3` | skip the question |
| `f4` | show or hide scores as you go |
| `f5` | start or stop the answer timer |
| `Escape` | stop the interviewer mid-sentence |
| `f10` | end the interview and see results |

**Results** - overall score, each topic's score and deepest rung, the key points
you missed. `h` opens history, `n` a new interview.

**History** - past interviews. `Enter` opens a scored transcript: the words that hit
each key point are highlighted, misses and the primer passage are listed.
`e` exports Markdown and JSON, `d` deletes (after confirming), `p` shows progress.

Everywhere: `f1` or `?` help, `ctrl+p` command palette, `ctrl+t` light/dark,
`ctrl+q` quit. Every answer is saved the moment it is graded.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="close-help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP)
