"""Exporting a session: Markdown a person reads, JSON a program reads back.

Markdown shows, per turn, the question, the answer (verbatim, in a fenced block so
nothing the candidate typed is interpreted), the score, what was hit (with the words
that hit it) and missed, misconceptions, what a strong answer says and the primer
passage the question drew on.  Control characters in any of it (an ESC in an answer
could rewrite the terminal that shows the file, or ``viva show``'s output) appear as
visible escapes (:func:`core.terminal.visible`).  JSON is the complete record, byte-exact,
with a schema version; :func:`from_json` reads it back into the same :class:`SessionRecord`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

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
        if bank is not None and q.topic in bank.topics:
            rung = next((r for r in bank.topic(q.topic).rungs if r.id == q.rung), None)
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
