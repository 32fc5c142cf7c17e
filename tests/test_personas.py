"""Whole interviews with simulated candidates: the real grader and policy, a fake voice."""

from __future__ import annotations

import pytest
from fakes import EchoInterviewer

from agent.config import SessionConfig
from agent.personas import PERSONAS, simulate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results():
    from agent.session import load_components

    components = load_components(llm="none", chat_model=EchoInterviewer())
    out = {}
    for persona in PERSONAS:
        runs = [
            simulate(components, persona, SessionConfig(track="applied-nlp", level="middle", n_topics=4, seed=s), seed=s)
            for s in range(3)
        ]
        scores = [x for r in runs for x in r.scores]
        out[persona] = (sum(scores) / len(scores), runs)
    return out


def test_strong_candidates_score_clearly_above_weak_ones(results) -> None:
    strong = results["strong"][0]
    for weak in ("empty", "gibberish", "repeats-question", "wrong"):
        assert strong >= results[weak][0] + 2.0, (weak, strong, results[weak][0])
    assert strong > results["partial"][0] + 0.5
    assert strong > results["rambling"][0] + 0.5


def test_nothing_usable_scores_near_zero(results) -> None:
    for persona in ("empty", "gibberish", "repeats-question"):
        assert results[persona][0] <= 0.75, (persona, results[persona][0])


def test_strong_candidates_climb_and_weak_ones_get_help(results) -> None:
    strong_actions = sum(r.actions.get("deeper", 0) for r in results["strong"][1])
    assert strong_actions >= 3
    empty_actions = {}
    for r in results["empty"][1]:
        for k, v in r.actions.items():
            empty_actions[k] = empty_actions.get(k, 0) + v
    assert empty_actions.get("hint", 0) >= 1 and "deeper" not in empty_actions
