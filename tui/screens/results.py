"""Results: overall score, per-topic table (score, deepest rung, missed points), bar chart.

``a`` practises the highlighted topic again (same track and level), in one key."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from agent.present import bar, score_style, topic_title, track_level
from tui.screens.base import VivaScreen

if TYPE_CHECKING:
    from agent.record import SessionRecord

__all__ = ["ResultsScreen", "bar", "missed_points", "wrapped"]


def wrapped(text: str, width: int) -> Text:
    """``text`` folded to ``width`` columns (a table cell wraps only on its own lines)."""
    return Text("\n".join(textwrap.wrap(text, max(10, width))) or "-")


def missed_points(record: SessionRecord, topic: str) -> list[str]:
    """The key points of ``topic`` never hit in any of its answered turns, in order."""
    from agent.verdict import verdict

    hit: set[str] = set()
    missed: dict[str, str] = {}
    for turn in record.turns:
        if turn.question.topic != topic or turn.skipped:
            continue
        v = verdict(turn)
        hit |= {p.text for p in v.hits}
        for p in v.missed:
            missed.setdefault(p.text, p.text)
    return [m for m in missed if m not in hit]


class ResultsScreen(VivaScreen[None]):
    BINDINGS = [
        Binding("a", "practise", "Practise again", id="practise", tooltip="This topic again, same track and level"),
        Binding("r", "review", "Review", id="review", tooltip="The scored transcript"),
        Binding("h", "history", "History", id="history"),
        Binding("n", "new", "New", id="new", tooltip="Back to setup"),
    ]

    def __init__(self, record: SessionRecord) -> None:
        super().__init__()
        self.record = record
        self._topics: list[str] = []

    def compose(self) -> ComposeResult:
        r = self.record
        yield Header()
        with VerticalScroll(id="results"):
            overall = f"{r.overall:.1f} / 5" if r.overall is not None else "no answers"
            yield Static(Text(f"Overall: {overall}", style="bold"), id="overall", classes="screen-title")
            answered = sum(1 for t in r.turns if not t.skipped)
            skipped = len(r.turns) - answered
            extra = f" ({skipped} skipped)" if skipped else ""
            yield Static(
                Text(f"{track_level(r.config.track, r.config.level)} · {answered} answers{extra} · {r.duration_s / 60:.0f} min"),
                classes="dim",
            )
            yield DataTable(id="topics", zebra_stripes=True, cursor_type="row")
            yield Static(Text("a: practise the highlighted topic again (same track and level)", style="dim"), classes="dim")
            yield Static("Per topic", classes="section")
            yield Static(self._chart(), id="chart")
            if r.closing:
                yield Static(Text(r.closing, style="italic"), id="closing")
        yield Footer(compact=True, show_command_palette=False)

    def _chart(self) -> Text:
        t = Text()
        scores = self.record.topic_scores()
        titles = {k: topic_title(k) for k in scores}
        width = min(32, max((len(v) for v in titles.values()), default=10))
        for topic, score in scores.items():
            t.append(f"{titles[topic][:width]:<{width}}  ")
            t.append(bar(score, 20), style=score_style(score))
            t.append(f"  {score:.1f}\n")
        return t

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#topics", DataTable).focus()

    def on_resize(self) -> None:
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#topics", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        scores = self.record.topic_scores()
        titles = {k: topic_title(k) for k in scores}
        tw = min(28, max((len(v) for v in titles.values()), default=10))
        # What is left of the width goes to the missed points, which wrap.
        mw = max(20, self.size.width - tw - 6 - 8 - 10 - 12)
        table.add_column("Topic", width=tw)
        table.add_column("Score", width=6)
        table.add_column("Deepest", width=8)
        table.add_column("Key points missed", width=mw)
        deepest = self.record.deepest()
        self._topics = list(scores)
        for topic, score in scores.items():
            missed = "; ".join(missed_points(self.record, topic)) or "-"
            cells = [wrapped(titles[topic], tw), Text(f"{score:.1f}", style=score_style(score)),
                     f"depth {deepest.get(topic, 0)}", wrapped(missed, mw)]
            table.add_row(*cells, height=None, key=topic)
        if self._topics:
            table.move_cursor(row=min(row, len(self._topics) - 1))

    def action_practise(self) -> None:
        if not self._topics:
            return
        topic = self._topics[self.query_one("#topics", DataTable).cursor_row]
        self.app.start_practice(self.record.config.track, self.record.config.level, topic)

    def action_new(self) -> None:
        self.app.pop_screen()  # back to the setup screen underneath

    def action_history(self) -> None:
        self.app.action_history()

    def action_review(self) -> None:
        from tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen(self.record))
