"""Offered at start when an interview was left unfinished (crash, closed terminal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from agent.present import topic_title, track_level, when

if TYPE_CHECKING:
    from agent.store import SessionSummary


class ResumeScreen(ModalScreen[str | None]):
    """Dismisses with "resume", "abandon" or None (decide later)."""

    BINDINGS = [("escape", "later", "Later")]

    def __init__(self, summary: SessionSummary) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        s = self.summary
        topics = ", ".join(topic_title(t, load=False) for t in s.topics)
        answers = f"{s.n_turns} answer{'' if s.n_turns == 1 else 's'} saved"
        with Vertical(id="resume-box", classes="dialog"):
            yield Static("An interview was left unfinished", classes="dialog-title")
            yield Static(f"{when(s.started_at)} - {track_level(s.track, s.level)} - {answers} - {topics}", markup=False)
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
