"""Exporting a session: Markdown a person reads, JSON a program reads back.

Markdown shows, per turn, the question, the answer (verbatim, in a fenced block so
nothing the candidate typed is interpreted), the score, what was hit (with the words
that hit it) and missed, misconceptions, what a strong answer says and the primer
passage the question drew on.  Control characters in any of it (an ESC in an answer
could rewrite the terminal that shows the file, or ``viva show``'s output) appear as
visible escapes (:func:`core.terminal.visible`).  JSON is the complete record, byte-exact,
with a schema version; :func:`from_json` reads it back into the same :class:`SessionRecord`.

This is the one module that builds exports and writes export files: ``viva show`` and
``viva export`` (:mod:`viva.commands.history`) and the app's export key (the review and
history screens) all call it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agent.present import when as format_when
from agent.record import SessionRecord
from agent.verdict import verdict
from core.errors import DataError
from core.tracks import level_title, track_title

if TYPE_CHECKING:
    from rubrics.bank import Bank

FORMAT = "viva-session"


def to_json(record: SessionRecord) -> str:
    return json.dumps({"format": FORMAT, **record.to_dict()}, indent=2, ensure_ascii=False)


def from_json(text: str, source: str = "input") -> SessionRecord:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source}: not JSON (line {exc.lineno}: {exc.msg})") from exc
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, nesting 100,000 deep
        raise DataError(f"{source}: not JSON that viva can read ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataError(f"{source}: not a viva session export (no \"format\": \"{FORMAT}\")")
    from agent.store import validate_session  # every field: version, types, ids, scores, times

    clean = validate_session(data, source)
    try:
        return SessionRecord.from_dict(clean)
    except (KeyError, TypeError, ValueError) as exc:  # pragma: no cover - validate_session checks all of it
        raise DataError(f"{source}: a session export with a missing or malformed field ({exc})") from exc


def _fence(text: str) -> str:
    """A fenced block that no backtick run inside ``text`` can close early."""
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}text\n{text}\n{ticks}"


def to_markdown(record: SessionRecord, bank: Bank | None = None, passages: dict[str, str] | None = None) -> str:
    """The readable transcript.  ``bank`` adds reference answers, ``passages`` (id -> text) the primer."""
    c = record.config
    when = format_when(record.started_at)
    lines = [
        f"# viva interview, {when}",
        "",
        f"- Track: {track_title(c.track)}; level: {level_title(c.level)}",
        f"- Overall: {record.overall:.1f} / 5" if record.overall is not None else "- Overall: no answers",
        f"- Duration: {record.duration_s / 60:.0f} min; status: {record.status}",
        f"- Models: {', '.join(f'{k} {v}' for k, v in record.models.items())}",
        "",
        "| Topic | Score | Deepest rung |",
        "|---|---|---|",
    ]
    deepest = record.deepest()
    for topic, score in record.topic_scores().items():
        lines.append(f"| {topic} | {score:.1f} | depth {deepest.get(topic, 0)} |")
    passages = passages or {}
    for t in record.turns:
        q = t.question
        lines += [
            "",
            f"## {t.index + 1}. {q.topic} / {q.rung} (depth {q.depth}, {q.kind})",
            "",
            f"**Q:** {q.text or q.intended}",
            "",
        ]
        if t.skipped:
            lines.append("*Skipped.*")
        else:
            lines += [_fence(t.answer) if t.answer.strip() else "*No answer.*", ""]
            v = verdict(t)
            lines.append(
                f"**Score:** {v.score:.1f} / 5 on {v.judged_on}"
                + (" (hint used)" if v.hinted else "")
                + (f"; {', '.join(v.flag_text)}" if v.flags else "")
            )
            lines.append("")
            lines += [f"- hit: {p.text} (\"{_inline(p.evidence or '')}\")" for p in v.hits]
            lines += [f"- missed: {p.text}" for p in v.missed]
            lines += [f"- not asked this turn: {p.text}" for p in v.not_asked]
            lines += [f"- wrong: \"{_inline(w.said)}\" - {w.claim}; in fact: {w.truth}" for w in v.wrong]
        lines += ["", f"*Next:* {t.decision.action}: {t.decision.reason}"]
        rung = bank.find_rung(q.topic, q.rung) if bank is not None else None
        if rung is not None:
            lines += ["", f"**A strong answer says:** {rung.reference}"]
        if q.passage and q.passage in passages:
            lines += ["", f"**Primer ({q.passage}):** " + " ".join(passages[q.passage].split())]
    if record.closing:
        lines += ["", "---", "", record.closing]
    from core.terminal import visible

    return visible("\n".join(lines) + "\n")  # every field at once: answers, evidence, imported text


def _inline(text: str) -> str:
    return " ".join(text.split()).replace('"', "'")


def references() -> tuple[Bank, dict[str, str]]:
    """The bank and the primer passages (id -> text) a Markdown export quotes; loading takes seconds."""
    from knowledge.corpus import load_corpus
    from rubrics.bank import load_bank

    return load_bank(), {p.id: p.text for p in load_corpus(include_notes=True).passages}


def export_text(
    record: SessionRecord, fmt: Literal["md", "json"], bank: Bank | None = None, passages: dict[str, str] | None = None
) -> str:
    """The file's whole text: JSON with a final newline, or the Markdown transcript (references loaded if not given)."""
    if fmt == "json":
        return to_json(record) + "\n"
    if bank is None or passages is None:
        loaded_bank, loaded_passages = references()
        bank = bank if bank is not None else loaded_bank
        passages = passages if passages is not None else loaded_passages
    return to_markdown(record, bank, passages)


def write_exports(
    record: SessionRecord, directory: Path, bank: Bank | None = None, passages: dict[str, str] | None = None
) -> list[Path]:
    """Write ``viva-<id>.md`` and ``viva-<id>.json`` into ``directory`` (made if missing); their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    md, js = directory / f"viva-{record.id}.md", directory / f"viva-{record.id}.json"
    md.write_text(export_text(record, "md", bank, passages), encoding="utf-8")
    js.write_text(export_text(record, "json"), encoding="utf-8")
    return [md, js]
