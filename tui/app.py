"""The Textual app: setup, interview, results, history.

The first frame must appear at once, so nothing heavy is imported at module level:
:func:`agent.session.load_components` (torch, the embedder, FAISS, the LLM) runs in a
thread worker after mount, the setup screen is usable meanwhile, and the footer shows
what is loading.  Screens talk to the headless engine (:mod:`agent`) exactly as
``viva ask`` does; nothing below this package imports Textual.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from tui.screens.help import HelpScreen
from tui.screens.setup import SetupScreen

if TYPE_CHECKING:  # agent.session imports the engine; the store is opened on first use
    from agent.session import Components
    from agent.store import Store
    from knowledge.corpus import Corpus
    from knowledge.passages import Passage
    from rubrics.bank import Bank


class VivaApp(App[None]):
    """viva's terminal app."""

    TITLE = "viva"
    SUB_TITLE = "deep-learning mock interviews"
    CSS_PATH = "viva.tcss"
    BINDINGS = [
        Binding("f1", "help", "Help", id="help", tooltip="Keys and what each screen does"),
        Binding("question_mark", "help", "Help", show=False, id="help-alt"),
        Binding("ctrl+t", "toggle_theme", "Theme", id="theme", tooltip="Switch light/dark"),
        Binding("ctrl+q", "quit", "Quit", id="quit"),
    ]

    loading: reactive[str] = reactive("starting")

    def __init__(
        self,
        llm: str | None = None,
        embedder: str | None = None,
        *,
        components: Components | None = None,
        chat_model: Any = None,
        load_models: bool = True,
    ) -> None:
        super().__init__()
        self.llm_source = llm
        self.embedder_source = embedder
        self.chat_model = chat_model
        self.components: Components | None = components
        self.load_error: str | None = None
        self._load_models = load_models and components is None
        self._store: Store | None = None
        self._bank: Bank | None = None  # the bank and the primer read before the components are loaded
        self._corpus: Corpus | None = None
        self._reading = threading.Lock()  # screens' workers and the models' worker ask at once
        if components is not None:
            self.loading = "ready"

    # -- lifecycle ------------------------------------------------------------------

    def on_mount(self) -> None:
        self.theme = self.settings().get("theme", "textual-dark")
        self.push_screen(SetupScreen())
        if self._load_models:
            self.load_components()
        self.call_after_refresh(self.offer_resume)

    @work(thread=True, exclusive=True, group="models")
    def load_components(self) -> None:
        from agent.session import load_components
        from core.errors import VivaError

        def progress(step: str) -> None:
            if step != "ready":  # "ready" only once self.components is set (below)
                self.call_from_thread(setattr, self, "loading", step)

        try:
            components = load_components(
                self.llm_source, self.embedder_source, progress, chat_model=self.chat_model, bank=self.question_bank,
                background_llm=True,
            )
        except VivaError as err:
            self.load_error = str(err)
            self.call_from_thread(setattr, self, "loading", "failed")
            self.call_from_thread(self.notify, str(err), title="Could not load models", severity="error", timeout=30)
            return
        self.components = components
        self.call_from_thread(setattr, self, "loading", "ready")

    # -- shared services -----------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The transcript store, opened on first use (stdlib sqlite3: fast to import)."""
        if self._store is None:
            from agent.store import Store

            self._store = Store.open()
        return self._store

    def question_bank(self) -> Bank:
        """The question bank: the loaded components' own, else read once and kept (callable from any thread).

        Setup's topic list and the models' worker both ask for it at start-up; it is parsed once.
        """
        if self.components is not None:
            return self.components.bank
        with self._reading:
            if self._bank is None:
                from rubrics.bank import load_bank

                self._bank = load_bank()
            return self._bank

    def primer_passages(self) -> dict[str, Passage]:
        """The primer's passages by id (notes included): the retriever's corpus, else read once and kept."""
        if self.components is not None:
            corpus = self.components.retriever.corpus
        else:
            with self._reading:
                if self._corpus is None:
                    from knowledge.corpus import load_corpus

                    self._corpus = load_corpus(include_notes=True)
                corpus = self._corpus
        return {p.id: p for p in corpus.passages}

    def settings(self) -> dict[str, Any]:
        from core.paths import data_dir

        path = data_dir() / "settings.json"
        try:
            data = json.loads(path.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def save_settings(self, **values: Any) -> None:
        from core.paths import data_dir

        path = data_dir() / "settings.json"
        data = self.settings() | values
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2))
            tmp.replace(path)
        except OSError as exc:
            self.notify(f"Could not save settings: {exc}", severity="warning")

    def offer_resume(self) -> None:
        from core.errors import VivaError

        try:
            unfinished = self.store.unfinished()
        except VivaError as err:
            self.notify(str(err), title="Transcripts unavailable", severity="error", timeout=30)
            return
        if unfinished:
            from tui.screens.resume import ResumeScreen

            sid = unfinished[0].id

            def chosen(choice: str | None) -> None:
                if choice == "resume" and isinstance(self.screen, SetupScreen):
                    self.screen.start_interview(resume_id=sid)
                elif choice == "abandon":
                    self.store.set_status(sid, "abandoned")
                    self.notify("Marked abandoned; it stays in your history.")

            self.push_screen(ResumeScreen(unfinished[0]), chosen)

    # -- actions -----------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit, after asking when an interview is under way or a draft is unsent (the
        interview stays resumable: every answer is already saved)."""
        from tui.screens.confirm import ConfirmScreen
        from tui.screens.interview import InterviewScreen

        if isinstance(self.screen, ConfirmScreen) and self.screen.quitting:
            self.exit()  # ctrl+q twice quits
            return
        interview = next((s for s in reversed(self.screen_stack) if isinstance(s, InterviewScreen)), None)
        if interview is None or (interview.interview.done and not interview.draft.strip()):
            self.exit()
            return
        lines = ["Quit viva?"]
        if not interview.interview.done:
            lines.append("This interview stays unfinished: your answers so far are saved and the next start offers to resume it.")
        if interview.draft.strip():
            lines.append("Your unsent draft will be lost.")
        dialog = ConfirmScreen("\n".join(lines), yes="Quit", variant="warning", quitting=True)

        def chosen(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(dialog, chosen)

    def start_practice(self, track: str, level: str, topic: str) -> None:
        """One topic again, same track and level: a fresh interview from the setup screen."""
        from tui.screens.setup import SetupScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, SetupScreen):
            self.pop_screen()
        if isinstance(self.screen, SetupScreen):
            self.screen.start_interview(practice=(track, level, topic))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"
        self.save_settings(theme=self.theme)

    def action_history(self) -> None:
        from tui.screens.history import HistoryScreen

        self.push_screen(HistoryScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("History", "Past interviews, scored transcripts and progress", self.action_history)
        yield SystemCommand("Toggle light/dark theme", "Switch between the light and dark theme", self.action_toggle_theme)
        yield SystemCommand("Help", "Keys and what each screen does", self.action_help)
        if isinstance(screen, SetupScreen):
            yield SystemCommand("Start interview", "Start with the chosen settings", screen.action_start)
