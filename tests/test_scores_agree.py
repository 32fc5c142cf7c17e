"""One score per turn and per topic: results, history, progress, review and exports agree."""

from __future__ import annotations

from pathlib import Path

from helpers import interview, run

from agent.config import SessionConfig
from agent.export import to_markdown
from agent.progress import progress
from agent.store import Store
from agent.verdict import verdict


def test_every_place_shows_the_same_scores(tmp_path: Path) -> None:
    iv = interview(SessionConfig(track="applied-nlp", level="junior", topics=("alpha", "beta"), max_follow_ups=2))
    # "partial" then "b": the probe fills the gap, so the rung's score is above either answer's.
    run(iv, ["partial", "b", "strong", "weak", "weak"])
    record = iv.record
    topic_scores = record.topic_scores()
    assert any(t.rung_score > t.score for t in record.turns), "the script must make a follow-up raise a rung"

    store = Store.open(tmp_path)
    store.save(record)
    # History's list and the stored record.
    (summary,) = store.list()
    assert summary.overall == record.overall
    # Progress per topic: the latest session's score is the topic's score, not the mean of its answers.
    report = progress(store)
    for topic, score in topic_scores.items():
        assert report.topics[topic].scores[-1][1] == score
    # The Markdown export's topic table and each turn's line.
    md = to_markdown(store.load(record.id))
    for topic, score in topic_scores.items():
        assert f"| {topic} | {score:.1f} |" in md
    for t in record.turns:
        if not t.skipped:
            assert f"**Score:** {verdict(t).score:.1f} / 5" in md and verdict(t).score == t.score
    store.close()
