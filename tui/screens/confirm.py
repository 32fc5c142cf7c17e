"""A yes/no dialog for anything that loses work.  Cancel has the focus when it opens, so
Enter (or Escape) never destroys anything by accident."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.widgets.button import ButtonVariant


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (the action) or False (Cancel, Escape)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("left,right,tab", "app.focus_next", show=False),
    ]

    def __init__(self, question: str, yes: str = "Delete", variant: ButtonVariant = "error", quitting: bool = False) -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.variant: ButtonVariant = variant
        self.quitting = quitting  # the app's quit dialog: a second ctrl+q answers it

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question), classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="no", variant="primary")
                yield Button(self.yes_label, id="yes", variant=self.variant)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#yes")
    def yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_cancel(self) -> None:
        self.dismiss(False)
