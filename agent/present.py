"""How a record reads to a person: titles instead of slugs, dates, score colours.

Shared by the app's screens (results, history, progress, review) so that each shows a
topic, a track and a level by the same name as the interview bar does.  Nothing here
imports Textual or a model; the question bank is loaded once, on first use.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from core.tracks import level_title, track_title

if TYPE_CHECKING:  # loading the bank takes seconds: the type only here
    from rubrics.bank import Bank

STRONG, PARTIAL = 3.5, 2.0  # the colour bands of a 0-5 score


_known: list[Bank] = []  # the bank, once someone has loaded it (the app's setup worker does)


def use_bank(bank: Bank) -> None:
    """Titles from this bank from now on (loading the bank takes seconds: load it once)."""
    _known[:] = [bank]


def _bank() -> Bank | None:
    """The bank, or None when it cannot be read."""
    if not _known:
        from rubrics.bank import load_bank

        try:
            _known.append(load_bank())
        except Exception:  # noqa: BLE001 - a title is cosmetic: fall back to the slug
            return None
    return _known[0]


def topic_title(topic: str, bank: Bank | None = None, load: bool = True) -> str:
    """The bank's title for a topic id ("dl-interviews" -> "Deep-learning interviews"); the id if unknown.

    ``load=False``: only from a bank already loaded (a first frame must not wait seconds for one).
    """
    if bank is None and not load and not _known:
        return topic
    bank = bank if bank is not None else _bank()
    try:
        if bank is not None and topic in bank.topics:
            return bank.topic(topic).title
    except Exception:  # noqa: BLE001
        pass
    return topic


def track_level(track: str, level: str) -> str:
    """"Applied NLP, junior"."""
    return f"{track_title(track)}, {level_title(level).lower()}"


def when(ts: float) -> str:
    """A timestamp as every screen, transcript and listing shows it: "2026-12-02 17:42" (local time)."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def score_style(score: float | None) -> str:
    if score is None:
        return "dim"
    return "green" if score >= STRONG else "yellow" if score >= PARTIAL else "red"


def bar(score: float, width: int = 25) -> str:
    filled = max(0, min(width, round(score / 5 * width)))
    return "█" * filled + "░" * (width - filled)


__all__ = ["bar", "use_bank", "level_title", "score_style", "topic_title", "track_level", "track_title", "when"]
