"""Tracks, levels and session limits: the one place each is spelled.

The session config, the store's import check, the rubric and primer schemas, the CLI's
``--track``/``--level`` choices, the setup screen, the exports and the help text all
read these, so adding a track or moving a limit is one edit here (``tests/test_tracks.py``
checks that every one of those agrees).

* An interview **track** decides which rungs exist at all and how deep its ladder goes
  (product analytics stops at depth 2; the applied tracks go down to depth 4).
* **research** is not a track one interviews on: it is a *tag* that rubric rungs and
  primer passages may carry next to the tracks (what a research interview would ask).
  :data:`TAGS` are the tracks and it.
* The **level** decides where each topic starts and how high the bar is; the numbers of
  that policy are the engine's (``agent.config.LEVEL_POLICY``), the names are here.

Plain data, standard library only: ``viva --help`` imports it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Track:
    """A track (or the research tag): its id in files and on the command line, and how it reads."""

    id: str
    title: str  # "Applied NLP": menus, exports, the interview bar
    short: str  # "NLP": the tracks column of `viva rubrics list`
    ceiling: int = 4  # the deepest rung asked on it


@dataclass(frozen=True)
class Level:
    id: str
    title: str


TRACKS: tuple[Track, ...] = (
    Track("product-analytics", "Product analytics", "PA", ceiling=2),
    Track("applied-nlp", "Applied NLP", "NLP"),
    Track("applied-cv", "Applied CV", "CV"),
)
RESEARCH = Track("research", "Research", "R")
TAGS: tuple[Track, ...] = (*TRACKS, RESEARCH)  # what a rung or a passage may be tagged with

LEVELS: tuple[Level, ...] = (Level("junior", "Junior"), Level("middle", "Middle"), Level("senior", "Senior"))

TRACK_IDS: tuple[str, ...] = tuple(t.id for t in TRACKS)
TAG_IDS: tuple[str, ...] = tuple(t.id for t in TAGS)
LEVEL_IDS: tuple[str, ...] = tuple(lv.id for lv in LEVELS)

DEFAULT_TRACK = "applied-nlp"
DEFAULT_LEVEL = "middle"
DEFAULT_TOPICS = 3

# How many topics a session may ask (CLI, setup screen, config, stored records) and how
# many follow-ups per topic beyond its opening question: inclusive (lowest, highest).
TOPIC_LIMITS: tuple[int, int] = (1, 40)
FOLLOW_UP_LIMITS: tuple[int, int] = (0, 10)

_BY_ID = {t.id: t for t in TAGS}
_LEVEL_BY_ID = {lv.id: lv for lv in LEVELS}


def track(track_id: str) -> Track:
    """The track (or tag) with this id; ``KeyError`` if there is none."""
    return _BY_ID[track_id]


def track_title(track_id: str) -> str:
    """How a track reads ("applied-nlp" -> "Applied NLP"); an unknown id reads as itself."""
    t = _BY_ID.get(track_id)
    return t.title if t else track_id


def level_title(level_id: str) -> str:
    """How a level reads ("junior" -> "Junior"); an unknown id reads as itself."""
    lv = _LEVEL_BY_ID.get(level_id)
    return lv.title if lv else level_id


def topic_range() -> str:
    """The topic limits as people read them: "1-40"."""
    lo, hi = TOPIC_LIMITS
    return f"{lo}-{hi}"


__all__ = [
    "DEFAULT_LEVEL", "DEFAULT_TOPICS", "DEFAULT_TRACK", "FOLLOW_UP_LIMITS", "LEVELS", "LEVEL_IDS", "RESEARCH", "TAGS",
    "TAG_IDS", "TOPIC_LIMITS", "TRACKS", "TRACK_IDS", "Level", "Track", "level_title", "topic_range", "track", "track_title",
]
