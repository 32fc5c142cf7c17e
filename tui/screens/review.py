"""A scored transcript, turn by turn: the words that hit key points highlighted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, LoadingIndicator, Static

from agent.present import topic_title, track_level, when
from agent.verdict import verdict
from tui.screens.base import VivaScreen
from tui.widgets.chat import visible

if TYPE_CHECKING:
    from agent.record import SessionRecord
    from knowledge.passages import Passage
    from rubrics.bank import Bank
    from rubrics.grade import Grade
    from tui.app import VivaApp


def export_record(app: VivaApp, record: SessionRecord) -> list[Path]:
    """Write Markdown and JSON exports into the data dir's exports folder (:func:`agent.export.write_exports`),
    quoting the bank and primer the app holds."""
    from agent.export import write_exports
    from core.paths import data_dir

    passages = {pid: p.text for pid, p in app.primer_passages().items()}
    return write_exports(record, data_dir() / "exports", app.question_bank(), passages)


def highlighted(answer: str, grade: Grade) -> Text:
    """The answer with hit spans in green and misconception spans in red (offsets are exact)."""
    text = Text(visible(answer))
    for p in grade.hits:
        if p.span:
            text.stylize("bold green", *p.span)
    for m in grade.misconceptions:
        text.stylize("bold red", *m.span)
    for c in grade.contradictions:
        text.stylize("bold red", *c.span)
    return text


class ReviewScreen(VivaScreen[None]):
    """Given a record, or a stored session's id: then it says it is loading at once and
    reads the record, the bank and the primer in a worker (seconds on a cold start)."""

    BINDINGS = [
        Binding("j", "turn(1)", "Next", id="next-turn", tooltip="Next turn"),
        Binding("k", "turn(-1)", "Prev", id="prev-turn", tooltip="Previous turn"),
        Binding("a", "again", "Again", id="again", tooltip="Answer the current question again and compare"),
        Binding("e", "export", "Export", id="export"),
        Binding("escape", "app.pop_screen", "Back", id="back"),
    ]

    def __init__(self, record: SessionRecord | str) -> None:
        """``record``: the session, or its id (then loaded from the store in a worker)."""
        super().__init__()
        self.record: SessionRecord | None = None if isinstance(record, str) else record
        self._sid: str = record if isinstance(record, str) else record.id
        self.current = -1  # the turn j/k moved to (-1: none yet; "a" then takes the first)
        self._bank: Bank | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="review"):
            yield Static(Text("Opening the transcript...", style="italic"), id="review-loading", classes="screen-title")
            yield LoadingIndicator(id="review-spinner")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.load()

    @property
    def loaded(self) -> bool:
        return not self.query("#review-loading")

    @work(thread=True, exclusive=True, group="review")
    def load(self) -> None:
        record = self.record if self.record is not None else self.app.store.load(self._sid)
        passages = self.app.primer_passages()
        bank = self.app.question_bank()
        widgets = list(self._turns(record, bank, passages))
        self._bank = bank
        self.app.call_from_thread(self._show, record, widgets)

    def _show(self, record: SessionRecord, widgets: list[Static]) -> None:
        if not self.is_attached:
            return
        self.record = record
        body = self.query_one("#review", VerticalScroll)
        for w in self.query("#review-loading, #review-spinner"):
            w.remove()
        body.mount_all(widgets)
        body.scroll_home(animate=False)

    def _turns(self, r: SessionRecord, bank: Bank, passages: dict[str, Passage]) -> Iterator[Static]:
        overall = f"{r.overall:.1f} / 5" if r.overall is not None else "-"
        yield Static(
            Text(f"{track_level(r.config.track, r.config.level)} · {when(r.started_at)} · overall {overall} · {r.status}"),
            classes="screen-title",
        )
        shown: dict[str, int] = {}  # rung -> the turn that already showed its strong answer and passage
        for t in r.turns:
            q = t.question
            score = "skipped" if t.skipped else f"score {t.score:.1f}"
            head = Text(f"{t.index + 1}. {topic_title(q.topic, bank)} · depth {q.depth} · {q.kind} · {score}", style="bold")
            yield Static(head, classes="turn-head", id=f"turn-{t.index}")
            yield Static(Text(visible(q.text or q.intended), style="italic"), classes="turn-q")
            if t.skipped:
                yield Static(Text("(skipped)", style="dim"), classes="turn-a")
            else:
                yield Static(
                    highlighted(t.answer, t.grade) if t.answer.strip() else Text("(no answer)", style="dim"), classes="turn-a"
                )
                v = verdict(t)
                lines = Text(f"Judged on {v.judged_on}\n", style="dim")
                for pl in v.hits:
                    lines.append("✓ ", style="green")
                    lines.append(pl.text + "\n")
                for pl in v.missed:
                    lines.append("✗ ", style="red")
                    lines.append(pl.text + "\n")
                for w in v.wrong:
                    lines.append("! ", style="red")
                    lines.append(f"{w.claim} - in fact: {w.truth}\n")
                if v.flags:
                    lines.append("; ".join(v.flag_text) + "\n", style="dim")
                yield Static(lines, classes="turn-points")
            yield Static(Text(f"Next: {t.decision.action} - {t.decision.reason}", style="dim"), classes="turn-decision")
            key = f"{q.topic}/{q.rung}"
            if key in shown:
                yield Static(
                    Text(f"A strong answer and the primer passage: see turn {shown[key] + 1}.", style="dim"), classes="turn-ref"
                )
                continue
            shown[key] = t.index
            rung = bank.find_rung(q.topic, q.rung)
            if rung is not None:
                yield Static(Text("A strong answer: ", style="bold") + Text(rung.reference), classes="turn-ref")
            if q.passage and q.passage in passages:
                p = passages[q.passage]
                yield Static(
                    Text(f"Primer · {p.heading}: ", style="bold") + Text(" ".join(p.text.split())), classes="turn-passage"
                )

    def action_turn(self, step: int) -> None:
        heads = list(self.query(".turn-head"))
        if not heads:
            return
        if self.current >= 0:
            heads[self.current].remove_class("current")
        self.current = max(0, min(len(heads) - 1, self.current + step))
        heads[self.current].add_class("current")
        self.query_one("#review", VerticalScroll).scroll_to_widget(heads[self.current], top=True, animate=False)

    def action_again(self) -> None:
        components = getattr(self.app, "components", None)
        if self.record is None or not self.record.turns:
            return
        if components is None:
            self.notify("The grader is still loading; try again in a moment.")
            return
        if self.current < 0:
            self.action_turn(1)
        turn = self.record.turns[self.current]
        q = turn.question
        bank = self._bank or components.bank
        rung = bank.find_rung(q.topic, q.rung)
        if rung is None:
            self.notify("That question's rung is no longer in the bank.", severity="warning")
            return
        from tui.screens.again import AnswerAgainScreen

        self.app.push_screen(AnswerAgainScreen(turn, rung, components.grader))

    def action_export(self) -> None:
        if self.record is None:
            return
        paths = export_record(self.app, self.record)
        self.notify("Exported to " + " and ".join(str(p) for p in paths), timeout=10)
