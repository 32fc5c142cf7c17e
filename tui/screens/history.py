"""History: past sessions, progress per topic; open one for the scored review.

``p`` shows progress per topic (weakest first); with it shown, ``a`` practises the
suggested topic again, at the track and level it was last practised."""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from agent.present import bar, score_style, topic_title, track_level, when
from tui.screens.base import VivaScreen
from tui.screens.confirm import ConfirmScreen

__all__ = ["ConfirmScreen", "HistoryScreen"]


def fold(text: str, width: int) -> Text:
    return Text("\n".join(textwrap.wrap(text, width)) or "-")


class HistoryScreen(VivaScreen[None]):
    BINDINGS = [
        Binding("enter", "open", "Open", id="open", show=True),
        Binding("e", "export", "Export", id="export", tooltip="Write Markdown and JSON next to your transcripts"),
        Binding("d", "delete", "Delete", id="delete", tooltip="Delete the highlighted interview (asks first)"),
        Binding("p", "toggle_progress", "Progress", id="progress"),
        Binding("a", "practise", "Practise", id="practise", tooltip="Practise the suggested topic again"),
        Binding("escape", "app.pop_screen", "Back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list = []
        self.tip: tuple[str, str, str] | None = None  # (track, level, topic) to practise next

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("History", classes="screen-title")
        yield DataTable(id="sessions", zebra_stripes=True, cursor_type="row")
        yield Static(id="progress")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_rows()
        self.query_one("#progress", Static).display = False
        self.query_one("#sessions", DataTable).focus()

    def on_resize(self) -> None:
        if self.rows:
            self.refresh_rows()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "practise":
            return self.tip is not None and self.query_one("#progress", Static).display
        return True

    def refresh_rows(self) -> None:
        table = self.query_one("#sessions", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        # Topics get the width the other columns leave, and wrap.
        wide = self.size.width >= 110
        fixed = {"Date": 16, "Interview": 24 if wide else 12, "Score": 5, "Min": 3, "Status": 9}
        if not wide:
            del fixed["Min"]
        for name, width in fixed.items():
            table.add_column(name, width=width)
        tw = max(16, self.size.width - sum(fixed.values()) - 2 * (len(fixed) + 1) - 8)
        table.add_column("Topics", width=tw)
        self.rows = self.app.store.list()
        for s in self.rows:
            topics = ", ".join(topic_title(t) for t in s.topics)
            cells = [
                when(s.started_at), fold(track_level(s.track, s.level), fixed["Interview"]),
                Text(f"{s.overall:.1f}", style=score_style(s.overall)) if s.overall is not None else "-",
                f"{s.duration_s / 60:.0f}", s.status, fold(topics, tw),
            ]
            if not wide:
                del cells[3]
            table.add_row(*cells, key=s.id, height=None)
        if self.rows:
            table.move_cursor(row=min(row, len(self.rows) - 1))
        else:
            self.query_one("#progress", Static).update("No interviews yet.")

    def _selected(self) -> str | None:
        table = self.query_one("#sessions", DataTable)
        if not self.rows:
            return None
        return self.rows[table.cursor_row].id

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        sid = self._selected()
        if sid:
            from tui.screens.review import ReviewScreen

            self.app.push_screen(ReviewScreen(sid))  # it shows that it is loading, then the transcript

    def action_export(self) -> None:
        sid = self._selected()
        if sid:
            from tui.screens.review import export_record

            paths = export_record(self.app, self.app.store.load(sid))
            self.notify("Exported to " + " and ".join(str(p) for p in paths), timeout=10)

    def action_delete(self) -> None:
        sid = self._selected()
        if not sid:
            return
        s = next(r for r in self.rows if r.id == sid)

        def done(yes: bool | None) -> None:
            if yes:
                self.app.store.delete(sid)
                self.refresh_rows()
                self.notify("Deleted.")

        self.app.push_screen(
            ConfirmScreen(
                f"Delete the interview of {when(s.started_at)} ({track_level(s.track, s.level)})? This cannot be undone."
            ),
            done,
        )

    def action_toggle_progress(self) -> None:
        from agent.progress import progress

        widget = self.query_one("#progress", Static)
        widget.display = not widget.display
        if widget.display:
            report = progress(self.app.store)
            t = Text()
            ranked = sorted(report.topics.values(), key=lambda x: x.recent)
            for tp in ranked:
                t.append(f"{topic_title(tp.topic)[:28]:<28} ")
                t.append(bar(tp.recent, 16), style=score_style(tp.recent))
                t.append(f" {tp.recent:.1f}  over time: " + " ".join(f"{s:.1f}" for _, s in tp.scores[-6:]) + "\n")
            self.tip = None
            if ranked:
                weakest = ranked[0].topic
                last = next((s for s in self.rows if weakest in s.topics), None)
                if last is not None:
                    self.tip = (last.track, last.level, weakest)
            if self.tip is not None:
                track, level, topic = self.tip
                t.append(f"\nNext: practise {topic_title(topic)} ({track_level(track, level)}, recent {ranked[0].recent:.1f})")
                t.append(" - press a to start it", style="bold")
                t.append(f"\n  or: viva ask --track {track} --level {level} --topic {topic}", style="dim")
            else:
                t.append(f"\nNext: {report.suggestion}")
            widget.update(t)
        self.refresh_bindings()

    def action_practise(self) -> None:
        if self.tip is not None:
            self.app.start_practice(*self.tip)
