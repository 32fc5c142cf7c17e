"""Primer passages and how Markdown becomes passages.

A passage is the unit of retrieval: one heading's worth of prose that answers one
thing.  We split on structure (headings, then paragraphs), never on fixed character
windows, because a question grounded in half a passage reads badly and the review
screen shows the passage whole.

Two kinds of source:

* the shipped primer (``knowledge/corpus/*.md``): YAML front matter (topic, title,
  tracks, depth) and ``## Heading {#anchor}`` sections; the id is ``topic/anchor``;
* a user's notes (any Markdown or text file): headings when it has them, else
  paragraphs grouped up to about :data:`TARGET_WORDS` words; ids are
  ``notes/<file-stem>/<n>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core import yaml_text
from core.errors import DataError
from core.tracks import TAG_IDS  # the tracks and the research tag a passage may carry

TARGET_WORDS = 200  # a user's section longer than this is split at paragraph breaks
MIN_WORDS = 5  # fewer words than this is not a usable passage

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$", re.M)
_ANCHOR = re.compile(r"\s*\{#([a-z0-9][a-z0-9-]*)\}\s*$")
_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class Passage:
    """One retrievable piece of text and where it came from."""

    id: str
    topic: str
    title: str
    heading: str
    text: str
    source: str
    tracks: tuple[str, ...] = TAG_IDS
    depth: int = 1
    user: bool = False

    def embedding_text(self) -> str:
        """What gets embedded: the topic and heading give short passages their context."""
        return f"{self.title}: {self.heading}\n{self.text}"

    @property
    def words(self) -> int:
        return len(_WORD.findall(self.text))


@dataclass
class ParsedFile:
    """The passages of one file, plus its metadata."""

    source: str
    topic: str
    title: str
    passages: list[Passage] = field(default_factory=list)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def parse_primer(text: str, source: str) -> ParsedFile:
    """Parse a shipped primer file; raises :class:`DataError` naming the file and field."""
    match = _FRONT_MATTER.match(text)
    if not match:
        raise DataError(f"{source}: missing YAML front matter (a '---' block with topic, title, tracks, depth)")
    try:
        meta = yaml_text.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"{source}: front matter is not valid YAML: {exc}") from exc
    for key in ("topic", "title", "tracks", "depth"):
        if key not in meta:
            raise DataError(f"{source}: front matter field '{key}' is missing")
    tracks = tuple(meta["tracks"])
    unknown = set(tracks) - set(TAG_IDS)
    if unknown:
        raise DataError(f"{source}: front matter field 'tracks' has unknown track(s) {sorted(unknown)}")
    topic, title, depth = str(meta["topic"]), str(meta["title"]), int(meta["depth"])
    parsed = ParsedFile(source=source, topic=topic, title=title)
    for heading, body in _sections(text[match.end() :], level=2):
        anchor = _ANCHOR.search(heading)
        if not anchor:
            raise DataError(f"{source}: heading '## {heading}' has no {{#anchor}}")
        body = body.strip()
        if word_count(body) < MIN_WORDS:
            raise DataError(f"{source}: passage '{anchor.group(1)}' has no usable text")
        parsed.passages.append(
            Passage(
                id=f"{topic}/{anchor.group(1)}",
                topic=topic,
                title=title,
                heading=_ANCHOR.sub("", heading).strip(),
                text=body,
                source=source,
                tracks=tracks,
                depth=depth,
            )
        )
    ids = [p.id for p in parsed.passages]
    if len(set(ids)) != len(ids):
        raise DataError(f"{source}: duplicate anchors {sorted({i for i in ids if ids.count(i) > 1})}")
    return parsed


def parse_notes(text: str, source: str) -> ParsedFile:
    """Chunk a user's Markdown or plain-text notes into passages.

    Headings (any level) start sections; a section longer than :data:`TARGET_WORDS`
    is split at paragraph breaks, keeping paragraphs whole.  Raises :class:`DataError`
    when nothing usable is left.
    """
    stem = slugify(Path(source).stem)
    meta: dict = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            meta = yaml_text.safe_load(match.group(1)) or {}
        except yaml.YAMLError:
            meta = {}
        text = text[match.end() :]
        if not isinstance(meta, dict):
            meta = {}
    title = str(meta.get("title") or Path(source).stem.replace("_", " ").replace("-", " "))
    tracks = tuple(t for t in meta.get("tracks", TAG_IDS) if t in TAG_IDS) or TAG_IDS
    parsed = ParsedFile(source=source, topic=f"notes/{stem}", title=title)
    chunks: list[tuple[str, str]] = []
    for heading, body in _sections(text, level=None):
        for piece in _group_paragraphs(body):
            chunks.append((heading or title, piece))
    for n, (heading, body) in enumerate(chunks, start=1):
        parsed.passages.append(
            Passage(
                id=f"notes/{stem}/{n}",
                topic=f"notes/{stem}",
                title=title,
                heading=heading,
                text=body,
                source=source,
                tracks=tracks,
                depth=int(meta.get("depth", 1)) if str(meta.get("depth", 1)).isdigit() else 1,
                user=True,
            )
        )
    if not parsed.passages:
        raise DataError(f"{source}: no usable text (need at least {MIN_WORDS} words of prose)")
    return parsed


def _sections(text: str, level: int | None) -> list[tuple[str, str]]:
    """Split on headings: only ``##`` when ``level`` is 2, any level when None.

    Text before the first heading comes back with an empty heading (the shipped primer
    ignores it: it holds at most a ``# Title`` line).
    """
    pattern = re.compile(r"^##\s+(.*?)\s*$", re.M) if level == 2 else _HEADING
    out: list[tuple[str, str]] = []
    last_heading, last_end = "", 0
    for m in pattern.finditer(text):
        out.append((last_heading, text[last_end : m.start()]))
        last_heading = m.group(1) if level == 2 else m.group(2)
        last_end = m.end()
    out.append((last_heading, text[last_end:]))
    if level == 2:
        out = out[1:]  # the preamble
    return [(h.strip(), b) for h, b in out if h or word_count(b) >= MIN_WORDS]


def _group_paragraphs(body: str) -> list[str]:
    """Paragraphs, grouped greedily up to TARGET_WORDS; a long paragraph stays whole
    unless it alone exceeds twice the target, when it is split at sentence ends."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if word_count(p) > 0]
    pieces: list[str] = []
    for para in paragraphs:
        if word_count(para) > 2 * TARGET_WORDS:
            pieces.extend(_split_sentences(para))
        else:
            pieces.append(para)
    groups: list[str] = []
    current: list[str] = []
    for piece in pieces:
        if current and word_count(" ".join(current + [piece])) > TARGET_WORDS:
            groups.append("\n\n".join(current))
            current = []
        current.append(piece)
    if current:
        groups.append("\n\n".join(current))
    return [g for g in groups if word_count(g) >= MIN_WORDS]


def _split_sentences(paragraph: str) -> list[str]:
    sentences = re.split(r"(?<=[.!?])\s+", paragraph)
    out: list[str] = []
    current: list[str] = []
    for s in sentences:
        if current and word_count(" ".join(current + [s])) > TARGET_WORDS:
            out.append(" ".join(current))
            current = []
        current.append(s)
    if current:
        out.append(" ".join(current))
    return out
