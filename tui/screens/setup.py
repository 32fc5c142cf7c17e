"""Setup: track, level, number of topics or a topic list; remembers the last choice.

Usable at once: the rubric bank (for the topic list) loads in a worker, the models in
the app's worker; pressing Start before the models are ready waits for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Number
from textual.widgets import Button, Footer, Header, Input, Label, LoadingIndicator, Select, SelectionList, Static, Switch

from core.tracks import DEFAULT_LEVEL, DEFAULT_TOPICS, DEFAULT_TRACK, LEVELS, TOPIC_LIMITS, TRACKS
from tui.screens.base import VivaScreen

if TYPE_CHECKING:
    from agent.config import SessionConfig

MIN_TOPICS, MAX_TOPICS = TOPIC_LIMITS
TIMER_CHOICES = {0: "Off", 2: "2 minutes", 3: "3 minutes"}  # minutes per answer

LOADING_TEXT = {
    "starting": "Starting...",
    "rubrics": "Loading the question bank...",
    "embedder": "Loading the embedder (grading and retrieval)...",
    "judge": "Loading the grader's judge (agreement and contradiction)...",
    "index": "Opening the primer index...",
    "llm": "Loading the interviewer model...",
    "ready": "Models ready.",
    "failed": "Models failed to load (see the message). Fix it and restart viva.",
}


@dataclass
class _Waiting:
    """Start pressed before the models were ready: start (or resume) once they are."""

    resume_id: str | None
    practice: tuple[str, str, str] | None = None


class SetupScreen(VivaScreen[None]):
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", id="start", tooltip="Start the interview"),
        Binding("f6", "app.history", "History", id="history", tooltip="Past interviews"),
    ]

    def compose(self) -> ComposeResult:
        saved = self.app.settings()
        timer = saved.get("timer", 0)
        timer = 2 if timer is True else timer if timer in TIMER_CHOICES else 0
        yield Header()
        with VerticalScroll(id="setup"):
            yield Static("Set up your interview", classes="screen-title")
            with Horizontal(classes="row"):
                with Vertical(classes="field"):
                    yield Label("Track")
                    yield Select(
                        [(t.title, t.id) for t in TRACKS],
                        value=saved.get("track", DEFAULT_TRACK),
                        allow_blank=False,
                        id="track",
                    )
                with Vertical(classes="field"):
                    yield Label("Level")
                    yield Select(
                        [(lv.title, lv.id) for lv in LEVELS], value=saved.get("level", DEFAULT_LEVEL), allow_blank=False,
                        id="level",
                    )
                with Vertical(classes="field narrow"):
                    yield Label("Topics")
                    yield Input(
                        str(saved.get("n_topics", DEFAULT_TOPICS)), type="integer", id="n-topics", max_length=2,
                        validators=[Number(minimum=MIN_TOPICS, maximum=MAX_TOPICS)], valid_empty=False,
                    )
                with Vertical(classes="field timer"):
                    yield Label("Answer timer")
                    yield Select([(v, k) for k, v in TIMER_CHOICES.items()], value=timer, allow_blank=False, id="timer")
            yield Static("", id="n-topics-error")
            with Horizontal(classes="row"):
                yield Switch(value=saved.get("show_scores", True), id="show-scores")
                yield Label("Show each score after the answer (off: only at the end, as in a real interview)")
            yield Label("Only these topics (optional; none ticked = a random pick for the track):")
            yield SelectionList[str](id="topics")
        with Horizontal(id="setup-buttons"):
            yield Button("Start interview", id="start", variant="primary")
            yield Button("History", id="history")
        with Horizontal(id="model-status"):
            yield LoadingIndicator(id="spinner")
            yield Static(LOADING_TEXT["starting"], id="status-text")
        yield Footer(compact=True, show_command_palette=False)

    _waiting: _Waiting | None = None

    def on_mount(self) -> None:
        self.query_one("#n-topics-error", Static).display = False
        self.watch(self.app, "loading", self._show_loading, init=True)
        self.load_topics()
        self.query_one("#track", Select).focus()

    def _show_loading(self, step: str) -> None:
        text = LOADING_TEXT.get(step, step)
        if self._waiting is not None and step not in {"ready", "failed"}:
            text = f"Your interview starts when this is done. {text}"
        self.query_one("#status-text", Static).update(text)
        self.query_one("#spinner").display = step not in {"ready", "failed"}
        if step in {"ready", "failed"}:
            self.query_one("#start", Button).label = "Start interview"
        if step == "ready" and self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            self.start_interview(resume_id=waiting.resume_id, practice=waiting.practice)

    @work(thread=True, exclusive=True, group="topics")
    def load_topics(self) -> None:
        from core.errors import VivaError

        try:
            bank = self.app.question_bank()  # the components' bank, or read once and kept by the app
        except VivaError as err:
            self.app.call_from_thread(self.app.notify, str(err), title="Question bank", severity="error", timeout=30)
            return
        self.bank = bank
        from agent.present import use_bank

        use_bank(bank)  # titles on results, history and progress without loading it again
        self.app.call_from_thread(self._fill_topics)

    @on(Select.Changed, "#track")
    def _fill_topics(self) -> None:
        bank = getattr(self, "bank", None)
        if bank is None:
            return
        from agent.config import SessionConfig

        track = self._chosen("#track")
        ceiling = SessionConfig(track=track).ceiling
        saved = set(self.app.settings().get("topics", []))
        topics = self.query_one("#topics", SelectionList)
        topics.clear_options()
        for t in bank:
            if t.ladder(track, ceiling):
                topics.add_option((t.title, t.topic, t.topic in saved))

    def _chosen(self, selector: str) -> str:
        """The value of a Select of ids (each has allow_blank=False: never Select.BLANK)."""
        value = self.query_one(selector, Select).value
        if not isinstance(value, str):
            raise ValueError(f"{selector.lstrip('#').capitalize()}: choose one.")
        return value

    def config(self) -> SessionConfig:
        from agent.config import SessionConfig

        raw = self.query_one("#n-topics", Input).value.strip()
        n = int(raw) if raw.isdigit() else 0
        if not MIN_TOPICS <= n <= MAX_TOPICS:
            raise ValueError(f"Topics: a number from {MIN_TOPICS} to {MAX_TOPICS}, not {raw or 'nothing'}.")
        return SessionConfig(
            track=self._chosen("#track"),
            level=self._chosen("#level"),
            n_topics=n,
            topics=tuple(self.query_one("#topics", SelectionList).selected),
            show_scores=self.query_one("#show-scores", Switch).value,
        )

    @on(Input.Changed, "#n-topics")
    def _check_topics(self, event: Input.Changed) -> None:
        error = self.query_one("#n-topics-error", Static)
        ok = event.validation_result is None or event.validation_result.is_valid
        error.update("" if ok else f"Topics: a number from {MIN_TOPICS} to {MAX_TOPICS}.")
        error.display = not ok

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        self.start_interview()

    @on(Button.Pressed, "#history")
    def _history(self) -> None:
        self.app.action_history()

    def start_interview(self, resume_id: str | None = None, practice: tuple[str, str, str] | None = None) -> None:
        """Start from the form, resume a stored session, or practise one topic again
        (``practice``: track, level, topic; the form and saved settings are left alone)."""
        from core.errors import VivaError

        app = self.app
        record = None
        if practice is not None:
            from agent.config import SessionConfig

            track, level, topic = practice
            config = SessionConfig(
                track=track, level=level, n_topics=1, topics=(topic,),
                show_scores=self.query_one("#show-scores", Switch).value,
            )
        elif resume_id is None:
            try:
                config = self.config()
            except ValueError as err:
                self.notify(str(err), severity="warning")
                return
            app.save_settings(
                track=config.track, level=config.level, n_topics=config.n_topics, topics=list(config.topics),
                show_scores=config.show_scores, timer=self.query_one("#timer", Select).value,
            )
        else:
            try:
                # Leased to this process, as `viva ask --resume` does: a second viva resuming
                # the same session is told so instead of both writing its turns.
                record = app.store.resume(resume_id)
            except VivaError as err:
                self.notify(str(err), severity="error")
                return
            config = record.config
        if app.loading == "failed":
            self.notify(app.load_error or "Models failed to load.", severity="error")
            return
        if app.components is None:
            self.notify("Starting as soon as the models are loaded...")
            self._waiting = _Waiting(resume_id, practice)
            self.query_one("#start", Button).label = "Starting..."
            self._show_loading(app.loading)
            return
        try:
            interview = app.components.interview(config, sink=app.store.save, record=record)
        except VivaError as err:
            self.notify(str(err), severity="error")
            return
        from tui.screens.interview import InterviewScreen

        timer = self.query_one("#timer", Select).value
        app.push_screen(InterviewScreen(interview, timer=timer if isinstance(timer, int) else 0))
