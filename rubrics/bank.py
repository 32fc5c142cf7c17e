"""Loading the rubric bank (``rubrics/bank/*.yaml``) and user rubric files.

A broken file must fail with the file, the field and what is wrong, for example::

    rubrics/bank/dropout.yaml: rungs[1] (id 'inference') > key_points[0] > weight:
    Input should be less than or equal to 3

and a topic id used by two files is refused, naming both.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core import yaml_text
from core.errors import DataError
from rubrics.schema import Rung, Topic

BANK_DIR = Path(__file__).resolve().parent / "bank"


class RubricError(DataError):
    """A rubric file cannot be used; the message names the file and the field."""


def _location(raw: Any, loc: tuple[Any, ...]) -> str:
    """Render a pydantic error location, naming rungs by id where we can."""
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            item = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(item, dict) and "id" in item:
                label += f" (id '{item['id']}')"
            parts[-1:] = [(parts[-1] if parts else "") + label]
            node = item
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return " > ".join(parts) or "(top level)"


def parse_topic(text: str, source: str) -> Topic:
    """Parse and validate one rubric file's text."""
    try:
        raw = yaml_text.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise RubricError(f"{source}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(raw, dict):
        raise RubricError(f"{source}: expected a mapping with 'topic', 'title' and 'rungs', got {type(raw).__name__}")
    try:
        return Topic.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-after")))
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: {_location(raw, loc)}: {msg}")
        raise RubricError("\n".join(lines)) from exc


def load_topic_file(path: str | os.PathLike[str]) -> Topic:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RubricError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise RubricError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise RubricError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    return parse_topic(text, str(path))


@dataclass
class Bank:
    """Every topic, by id, and the file each came from."""

    topics: dict[str, Topic] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def add(self, topic: Topic, source: str) -> None:
        if topic.topic in self.topics:
            raise RubricError(
                f"{source}: topic id '{topic.topic}' is already defined in {self.sources[topic.topic]}; topic ids must be unique"
            )
        self.topics[topic.topic] = topic
        self.sources[topic.topic] = source

    def __iter__(self) -> Iterator[Topic]:
        return iter(self.topics[k] for k in sorted(self.topics))

    def __len__(self) -> int:
        return len(self.topics)

    def topic(self, topic_id: str) -> Topic:
        try:
            return self.topics[topic_id]
        except KeyError:
            raise DataError(f"unknown topic '{topic_id}' (see `viva rubrics list`)") from None

    def find_rung(self, topic_id: str, rung_id: str) -> Rung | None:
        """The rung ``rung_id`` of ``topic_id``, or None if the bank has no such topic or rung
        (a stored session can name a rung a later bank no longer has)."""
        topic = self.topics.get(topic_id)
        return next((r for r in topic.rungs if r.id == rung_id), None) if topic is not None else None

    def rung(self, ref: str) -> tuple[Topic, Rung]:
        """Look up ``TOPIC`` (its first rung) or ``TOPIC:RUNG``."""
        topic_id, _, rung_id = ref.partition(":")
        topic = self.topic(topic_id)
        if not rung_id:
            return topic, topic.ladder()[0]
        rung = self.find_rung(topic_id, rung_id)
        if rung is not None:
            return topic, rung
        known = ", ".join(r.id for r in topic.rungs)
        raise DataError(f"topic '{topic_id}' has no rung '{rung_id}' (it has: {known})")

    def all_rungs(self) -> Iterator[tuple[Topic, Rung]]:
        for topic in self:
            for rung in topic.ladder():
                yield topic, rung


def load_bank(paths: Iterable[Path] | None = None) -> Bank:
    """Load the shipped bank (or the given files), refusing duplicate topic ids."""
    bank = Bank()
    files = sorted(paths) if paths is not None else sorted(BANK_DIR.glob("*.yaml"))
    for path in files:
        topic = load_topic_file(path)
        source = f"rubrics/bank/{path.name}" if path.parent == BANK_DIR else str(path)
        if path.parent == BANK_DIR and topic.topic != path.stem:
            raise RubricError(f"{source}: topic: '{topic.topic}' must match the file name '{path.stem}'")
        bank.add(topic, source)
    return bank
