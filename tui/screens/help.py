"""F1 / ?: the keys, and what each screen is for."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from core.tracks import topic_range

# An f-string: the topic limits are core.tracks's, so this text cannot drift from the setup check.
HELP = f"""\
# viva: keys and screens

**Setup** - choose a track, a level, how many topics ({topic_range()}, or tick topics) and an
answer timer (off, 2 or 3 minutes), then **Start** (`ctrl+s`); `f6` opens history.
Models load in the background; the line above the footer shows progress.

**Interview** - the interviewer asks; you type in the answer box.

| Key | Does |
|---|---|
| `Enter` | new line in your answer |
| `ctrl+s` | submit the answer |
| `f2` | ask for a hint (costs 1 point on this answer; shown and counted once) |
| `f3` | skip the question (the draft is cleared) |
| `f4` | show or hide scores, the ones already shown too |
| `f5` | show and run, or hide and pause, the answer countdown |
| `Escape` | stop the interviewer mid-sentence |
| `f10` | end the interview and see results (asks first) |

The chat stays at the bottom while the interviewer speaks unless you scroll up;
submitting brings it back. The countdown warns 30 s before the end, then lets you finish.

**Results** - overall score, each topic's score and deepest rung, the key points
you missed. `a` practises the highlighted topic again, `r` reviews the transcript,
`h` opens history, `n` a new interview.

**History** - past interviews. `Enter` opens a scored transcript: the words that hit
each key point are highlighted, misses and the primer passage are listed.
`e` exports Markdown and JSON, `d` deletes (after confirming; Cancel is the default),
`p` shows progress and what to practise next, `a` starts that practice.

**Review** - `j`/`k` move between turns, `a` answers the current question again and
compares both grades (practice only: the transcript is not changed), `e` exports.

Everywhere: `f1` or `?` help, `ctrl+p` command palette, `ctrl+t` light/dark,
`ctrl+q` quit (asks first during an interview or with an unsent draft; a quit
interview can be resumed). Every answer is saved the moment it is graded.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="close-help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP)
