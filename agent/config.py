"""What an interview is configured by: track, seniority, how many topics.

The **track** decides which rungs exist at all (product analytics never goes past
depth 2; the applied tracks go down to research depth).  The **level** decides where
each topic starts on its ladder and how high the bar for a "strong" answer is.

The names of tracks and levels, the defaults and the limits are :mod:`core.tracks`'s;
this module adds what the engine does with a level (:data:`LEVEL_POLICY`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.tracks import DEFAULT_LEVEL, DEFAULT_TOPICS, DEFAULT_TRACK, FOLLOW_UP_LIMITS, LEVEL_IDS, TOPIC_LIMITS, TRACK_IDS, track


@dataclass(frozen=True)
class LevelPolicy:
    """Where a level starts and what it counts as strong or weak (scores are 0-5)."""

    start_depth: int
    ceiling: int
    strong: float  # at or above: a deeper rung
    weak: float  # below: a hint or simpler rephrase, then move on; between: probe a missed point


LEVEL_POLICY: dict[str, LevelPolicy] = {
    "junior": LevelPolicy(start_depth=1, ceiling=3, strong=3.5, weak=2.0),
    "middle": LevelPolicy(start_depth=2, ceiling=4, strong=3.75, weak=2.0),
    "senior": LevelPolicy(start_depth=3, ceiling=4, strong=4.0, weak=2.5),
}


@dataclass(frozen=True)
class SessionConfig:
    """One interview's settings; stored with the session so a review can show them."""

    track: str = DEFAULT_TRACK  # one of core.tracks.TRACK_IDS (checked on construction)
    level: str = DEFAULT_LEVEL  # one of core.tracks.LEVEL_IDS
    n_topics: int = DEFAULT_TOPICS
    topics: tuple[str, ...] = ()
    max_follow_ups: int = 3  # per topic, beyond its opening question
    hint_penalty: float = 1.0  # taken off the rung's score when the candidate asks for a hint
    seed: int | None = None  # fixes the topic order (tests, benchmarks)
    show_scores: bool = True  # the TUI's "scores as you go" toggle; the engine ignores it

    def __post_init__(self) -> None:
        from core.errors import VivaError

        if self.track not in TRACK_IDS:
            raise VivaError(f"unknown track '{self.track}' (choose from: {', '.join(TRACK_IDS)})")
        if self.level not in LEVEL_IDS:
            raise VivaError(f"unknown level '{self.level}' (choose from: {', '.join(LEVEL_IDS)})")
        lo, hi = TOPIC_LIMITS
        if not lo <= self.n_topics <= hi:
            raise VivaError(f"number of topics must be between {lo} and {hi}, not {self.n_topics}")
        lo, hi = FOLLOW_UP_LIMITS
        if not lo <= self.max_follow_ups <= hi:
            raise VivaError(f"follow-ups per topic must be between {lo} and {hi}, not {self.max_follow_ups}")

    @property
    def policy(self) -> LevelPolicy:
        return LEVEL_POLICY[self.level]

    @property
    def ceiling(self) -> int:
        """The deepest rung this session may ask: the track's and the level's limits."""
        return min(track(self.track).ceiling, self.policy.ceiling)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["topics"] = list(self.topics)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SessionConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["topics"] = tuple(known.get("topics", ()))
        return cls(**known)


__all__ = ["LEVEL_POLICY", "LevelPolicy", "SessionConfig"]
