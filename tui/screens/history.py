"""History: past sessions, progress per topic; open one for the scored review."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Static

from tui.screens.results import bar


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question), classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete", id="yes", variant="error")
                yield Button("Cancel", id="no")

    @on(Button.Pressed, "#yes")
    def yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_cancel(self) -> None:
        self.dismiss(False)


class HistoryScreen(Screen[None]):
    BINDINGS = [
        Binding("enter", "open", "Open", id="open", show=True),
        Binding("e", "export", "Export", id="export", tooltip="Write Markdown and JSON next to your transcripts"),
        Binding("d", "delete", "Delete", id="delete"),
        Binding("p", "toggle_progress", "Progress", id="progress"),
        Binding("escape", "app.pop_screen", "Back", id="back"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("History", classes="screen-title")
        yield DataTable(id="sessions", zebra_stripes=True, cursor_type="row")
        yield Static(id="progress")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#sessions", DataTable)
        table.add_columns("Date", "Track", "Level", "Score", "Min", "Status", "Topics")
        self.refresh_rows()
        self.query_one("#progress", Static).display = False
        table.focus()

    def refresh_rows(self) -> None:
        table = self.query_one("#sessions", DataTable)
        table.clear()
        self.rows = self.app.store.list()  # type: ignore[attr-defined]
        for s in self.rows:
            table.add_row(
                time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started_at)), s.track, s.level,
                f"{s.overall:.1f}" if s.overall is not None else "-", f"{s.duration_s / 60:.0f}", s.status,
                Text(", ".join(s.topics)), key=s.id,
            )
        if not self.rows:
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

            self.app.push_screen(ReviewScreen(self.app.store.load(sid)))  # type: ignore[attr-defined]

    def action_export(self) -> None:
        sid = self._selected()
        if sid:
            from tui.screens.review import export_record

            paths = export_record(self.app.store.load(sid))  # type: ignore[attr-defined]
            self.notify("Exported to " + " and ".join(str(p) for p in paths), timeout=10)

    def action_delete(self) -> None:
        sid = self._selected()
        if not sid:
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.app.store.delete(sid)  # type: ignore[attr-defined]
                self.refresh_rows()
                self.notify("Deleted.")

        self.app.push_screen(ConfirmScreen(f"Delete the session of {self.query_one('#sessions', DataTable).get_row_at(self.query_one('#sessions', DataTable).cursor_row)[0]}? This cannot be undone."), done)

    def action_toggle_progress(self) -> None:
        from agent.progress import progress

        widget = self.query_one("#progress", Static)
        widget.display = not widget.display
        if widget.display:
            report = progress(self.app.store)  # type: ignore[attr-defined]
            t = Text()
            for tp in sorted(report.topics.values(), key=lambda x: x.recent):
                t.append(f"{tp.topic:<26} ")
                t.append(bar(tp.recent, 20), style="green" if tp.recent >= 3.5 else "yellow" if tp.recent >= 2 else "red")
                t.append(f" {tp.recent:.1f}  over time: " + " ".join(f"{s:.1f}" for _, s in tp.scores[-8:]) + "\n")
            t.append(f"\nNext: {report.suggestion}")
            widget.update(t)
