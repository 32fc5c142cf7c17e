"""Progress over time: per-topic and per-track score history, weakest topics, what next.

Scores are per (session, topic): the mean of that topic's answers in that session.
"Weakest" uses each topic's three most recent sessions, so old mistakes fade once
the candidate has fixed them; a topic of the track never practised is suggested
before re-drilling one that is merely weak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.tracks import LEVEL_IDS

if TYPE_CHECKING:
    from agent.store import Store
    from rubrics.bank import Bank


@dataclass
class TopicProgress:
    topic: str
    scores: list[tuple[float, float]]  # (session start time, score), oldest first

    @property
    def recent(self) -> float:
        last = [s for _, s in self.scores[-3:]]
        return round(sum(last) / len(last), 2)

    @property
    def trend(self) -> float:
        """Latest minus first score (positive: improving)."""
        return round(self.scores[-1][1] - self.scores[0][1], 2) if len(self.scores) > 1 else 0.0


@dataclass
class Progress:
    topics: dict[str, TopicProgress] = field(default_factory=dict)
    tracks: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    never: list[str] = field(default_factory=list)  # bank topics never practised
    suggestion: str = ""

    def weakest(self, n: int = 3) -> list[TopicProgress]:
        return sorted(self.topics.values(), key=lambda t: (t.recent, -len(t.scores)))[:n]

    def to_dict(self) -> dict:
        return {
            "topics": {k: {"scores": v.scores, "recent": v.recent, "trend": v.trend} for k, v in self.topics.items()},
            "tracks": self.tracks,
            "weakest": [t.topic for t in self.weakest()],
            "never_practised": self.never,
            "suggestion": self.suggestion,
        }

    def lines(self) -> list[str]:
        if not self.topics:
            return ["No answered questions yet: progress appears after your first interview."]
        out = ["Per track (mean score per session, oldest first):"]
        for track, scores in self.tracks.items():
            out.append(f"  {track:<18} " + " ".join(f"{s:.1f}" for _, s in scores[-12:]))
        out += ["", "Per topic (recent = mean of the last three sessions):"]
        for t in sorted(self.topics.values(), key=lambda t: t.recent):
            bar = "#" * round(t.recent * 4)
            out.append(f"  {t.topic:<28} {t.recent:>4.1f} {bar:<20} {len(t.scores)} session(s), trend {t.trend:+.1f}")
        out += ["", f"Next: {self.suggestion}"]
        return out


def progress(store: Store, bank: Bank | None = None) -> Progress:
    report = Progress()
    per_session: dict[str, tuple[str, float, list[float]]] = {}
    for row in store.topic_session_scores():  # oldest session first
        report.topics.setdefault(row.topic, TopicProgress(row.topic, [])).scores.append((row.started_at, round(row.score, 2)))
        per_session.setdefault(row.session_id, (row.track, row.started_at, []))[2].append(row.score)
    for track, started, scores in sorted(per_session.values(), key=lambda v: v[1]):
        report.tracks.setdefault(track, []).append((started, round(sum(scores) / len(scores), 2)))
    if bank is None:
        try:
            from rubrics.bank import load_bank

            bank = load_bank()
        except Exception:  # noqa: BLE001 - progress must show even if the bank is broken
            bank = None
    if bank is not None:
        report.never = sorted(set(bank.topics) - set(report.topics))
    weakest = report.weakest(1)
    if weakest and weakest[0].recent < 3.0:
        report.suggestion = (
            f"practise {weakest[0].topic} (recent score {weakest[0].recent:.1f}): `viva ask --topic {weakest[0].topic}`"
        )
    elif report.never:
        report.suggestion = (
            f"try a topic you have not practised yet, such as {report.never[0]}: `viva ask --topic {report.never[0]}`"
        )
    elif weakest:
        report.suggestion = (
            f"everything is at 3.0 or better; push depth with `viva ask --level {LEVEL_IDS[-1]} --topic {weakest[0].topic}`"
        )
    else:
        report.suggestion = "start with `viva` or `viva ask`"
    return report
