"""A scored transcript, turn by turn: the words that hit key points highlighted."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from tui.widgets.chat import visible


def export_record(record) -> list[Path]:  # noqa: ANN001
    """Write Markdown and JSON exports into the data dir's exports folder."""
    from agent.export import to_json, to_markdown
    from knowledge.corpus import load_corpus
    from rubrics.bank import load_bank
    from viva.paths import data_dir

    out = data_dir() / "exports"
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / f"viva-{record.id}.md", out / f"viva-{record.id}.json"
    passages = {p.id: p.text for p in load_corpus(include_notes=True).passages}
    md.write_text(to_markdown(record, load_bank(), passages), encoding="utf-8")
    js.write_text(to_json(record) + "\n", encoding="utf-8")
    return [md, js]


def highlighted(answer: str, grade: dict) -> Text:
    """The answer with hit spans in green and misconception spans in red (offsets are exact)."""
    text = Text(visible(answer))
    for p in grade.get("key_points", []):
        if p["hit"] and p.get("span"):
            text.stylize("bold green", *p["span"])
    for m in grade.get("misconceptions", []):
        text.stylize("bold red", *m["span"])
    return text


class ReviewScreen(Screen[None]):
    BINDINGS = [
        Binding("e", "export", "Export", id="export"),
        Binding("escape", "app.pop_screen", "Back", id="back"),
    ]

    def __init__(self, record) -> None:  # noqa: ANN001
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        from knowledge.corpus import load_corpus
        from rubrics.bank import load_bank

        passages = {p.id: p for p in load_corpus(include_notes=True).passages}
        bank = load_bank()
        r = self.record
        yield Header()
        with VerticalScroll(id="review"):
            overall = f"{r.overall:.1f} / 5" if r.overall is not None else "-"
            yield Static(Text(f"{r.config.track}, {r.config.level} · overall {overall} · {r.status}"), classes="screen-title")
            for t in r.turns:
                q = t.question
                head = Text(f"{t.index + 1}. {q.topic} · depth {q.depth} · {q.kind} · score {t.score:.1f}", style="bold")
                yield Static(head, classes="turn-head")
                yield Static(Text(visible(q.text or q.intended), style="italic"), classes="turn-q")
                if t.skipped:
                    yield Static(Text("(skipped)", style="dim"), classes="turn-a")
                else:
                    yield Static(highlighted(t.answer, t.grade) if t.answer.strip() else Text("(no answer)", style="dim"), classes="turn-a")
                    lines = Text()
                    for p in t.grade.get("key_points", []):
                        lines.append("✓ " if p["hit"] else "✗ ", style="green" if p["hit"] else "red")
                        lines.append(p["text"] + "\n")
                    for m in t.grade.get("misconceptions", []):
                        lines.append("! ", style="red")
                        lines.append(f"{m['text']} - in fact: {m['correction']}\n")
                    yield Static(lines, classes="turn-points")
                yield Static(Text(f"Next: {t.decision.action} - {t.decision.reason}", style="dim"), classes="turn-decision")
                rung = next((x for x in bank.topic(q.topic).rungs if x.id == q.rung), None) if q.topic in bank.topics else None
                if rung is not None:
                    yield Static(Text("A strong answer: ", style="bold") + Text(rung.reference), classes="turn-ref")
                if q.passage and q.passage in passages:
                    p = passages[q.passage]
                    yield Static(Text(f"Primer · {p.heading}: ", style="bold") + Text(" ".join(p.text.split())), classes="turn-passage")
        yield Footer()

    def action_export(self) -> None:
        paths = export_record(self.record)
        self.notify("Exported to " + " and ".join(str(p) for p in paths), timeout=10)
