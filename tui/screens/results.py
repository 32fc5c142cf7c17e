"""Results: overall score, per-topic table (score, deepest rung, missed points), bar chart."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static


def bar(score: float, width: int = 25) -> str:
    filled = round(score / 5 * width)
    return "█" * filled + "░" * (width - filled)


class ResultsScreen(Screen[None]):
    BINDINGS = [
        Binding("n", "new", "New interview", id="new"),
        Binding("h", "history", "History", id="history"),
        Binding("r", "review", "Review transcript", id="review"),
    ]

    def __init__(self, record) -> None:  # noqa: ANN001 - agent.record.SessionRecord
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        r = self.record
        yield Header()
        with VerticalScroll(id="results"):
            overall = f"{r.overall:.1f} / 5" if r.overall is not None else "no answers"
            yield Static(Text(f"Overall: {overall}", style="bold"), id="overall", classes="screen-title")
            yield Static(Text(f"{r.config.track}, {r.config.level} · {len(r.turns)} answers · {r.duration_s / 60:.0f} min"), classes="dim")
            yield DataTable(id="topics", zebra_stripes=True, cursor_type="row")
            yield Static("Per topic", classes="section")
            yield Static(self._chart(), id="chart")
            if r.closing:
                yield Static(Text(r.closing, style="italic"), id="closing")
        yield Footer()

    def _chart(self) -> Text:
        t = Text()
        scores = self.record.topic_scores()
        width = max((len(k) for k in scores), default=10)
        for topic, score in scores.items():
            t.append(f"{topic:<{width}}  ")
            t.append(bar(score), style="green" if score >= 3.5 else "yellow" if score >= 2 else "red")
            t.append(f"  {score:.1f}\n")
        return t

    def on_mount(self) -> None:
        table = self.query_one("#topics", DataTable)
        table.add_columns("Topic", "Score", "Deepest rung", "Key points missed")
        deepest = self.record.deepest()
        for topic, score in self.record.topic_scores().items():
            missed = []
            for turn in self.record.turns:
                if turn.question.topic == topic and not turn.skipped:
                    hit = {p["id"] for p in turn.grade["key_points"] if p["hit"]}
                    missed += [p["text"] for p in turn.grade["key_points"] if p["id"] not in hit]
            last_missed = "; ".join(dict.fromkeys(missed))[:120] or "-"
            table.add_row(Text(topic), f"{score:.1f}", f"depth {deepest.get(topic, 0)}", Text(last_missed))

    def action_new(self) -> None:
        self.app.pop_screen()  # back to the setup screen underneath

    def action_history(self) -> None:
        self.app.action_history()  # type: ignore[attr-defined]

    def action_review(self) -> None:
        from tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen(self.record))
