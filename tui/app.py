"""The Textual app (a first frame; the full setup/interview/results screens build on it).

The first frame must appear at once, so nothing heavy is imported at module level:
models load in a thread worker after mount, and the screen says what is happening.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Header, Static


class VivaApp(App[None]):
    """viva's terminal app."""

    TITLE = "viva"
    SUB_TITLE = "deep-learning mock interviews"
    BINDINGS = [Binding("q", "quit", "Quit", id="quit")]

    def __init__(self, llm: str | None = None, embedder: str | None = None, load_models: bool = True) -> None:
        super().__init__()
        self.llm_source = llm
        self.embedder_source = embedder
        self.load_models = load_models
        self.models: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="welcome"):
            yield Static("Welcome to viva.", id="title")
            yield Static("Loading models in the background...", id="model-status")
        yield Footer()

    def on_mount(self) -> None:
        if self.load_models:
            self.load_models_worker()

    @work(thread=True, exclusive=True, group="models")
    def load_models_worker(self) -> None:
        from viva.errors import VivaError
        from viva.models import load_embedder, load_llm

        status = self.query_one("#model-status", Static)
        try:
            self.models["embedder"] = load_embedder(self.embedder_source)
            self.call_from_thread(status.update, "Embedder ready; loading the interviewer model...")
            if self.llm_source != "none":
                self.models["llm"] = load_llm(self.llm_source)
            self.call_from_thread(status.update, "Models ready.")
        except VivaError as err:
            self.call_from_thread(status.update, f"Could not load models: {err}")
