"""Offered at start when an interview was left unfinished (crash, closed terminal)."""

from __future__ import annotations

import time

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ResumeScreen(ModalScreen[str | None]):
    """Dismisses with "resume", "abandon" or None (decide later)."""

    BINDINGS = [("escape", "later", "Later")]

    def __init__(self, summary) -> None:  # noqa: ANN001 - agent.store.SessionSummary
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        s = self.summary
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started_at))
        with Vertical(id="resume-box", classes="dialog"):
            yield Static("An interview was left unfinished", classes="dialog-title")
            yield Static(f"{when} - {s.track}, {s.level} - {s.n_turns} answer(s) saved - {', '.join(s.topics)}", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Resume", id="resume", variant="primary")
                yield Button("Mark abandoned", id="abandon", variant="warning")
                yield Button("Later", id="later")

    @on(Button.Pressed, "#resume")
    def resume(self) -> None:
        self.dismiss("resume")

    @on(Button.Pressed, "#abandon")
    def abandon(self) -> None:
        self.dismiss("abandon")

    @on(Button.Pressed, "#later")
    def action_later(self) -> None:
        self.dismiss(None)
