"""The interview engine and its escalation policy, driven by scripted answers.

A scripted grader turns answers like ``"strong"`` or ``"wrong:on-at-inference"`` into
grades, so these tests pin the *policy* down exactly; the real grader and real model
are exercised end to end in ``test_ask.py``.
"""

from __future__ import annotations

import pytest
from helpers import FakeEncoder, interview, make_bank, run

from agent.config import SessionConfig
from agent.engine import plan_topics
from agent.record import SessionRecord
from agent.voice import check_question, tidy
from core.errors import VivaError


def path(turns) -> list[tuple[str, str, str]]:  # noqa: ANN001
    return [(t.question.kind, t.question.ref, t.decision.action) for t in turns]


# --- the policy -------------------------------------------------------------------


def test_a_strong_candidate_climbs_the_ladder() -> None:
    iv = interview(SessionConfig(track="applied-nlp", level="junior", topics=("alpha",), max_follow_ups=5))
    turns = run(iv, ["strong"] * 6)
    assert [t.question.depth for t in turns] == [1, 2, 3]  # junior ceiling is depth 3
    assert [t.decision.action for t in turns] == ["deeper", "deeper", "next-topic"]
    assert "deepest rung" in turns[-1].decision.reason
    assert iv.done


def test_a_senior_starts_deeper_than_a_junior() -> None:
    junior = interview(SessionConfig(track="applied-nlp", level="junior", topics=("alpha",)))
    senior = interview(SessionConfig(track="applied-nlp", level="senior", topics=("alpha",)))
    assert junior.pending.depth == 1 and senior.pending.depth == 3


def test_a_weak_candidate_gets_one_hint_then_moves_on() -> None:
    iv = interview(SessionConfig(track="applied-nlp", level="middle", topics=("alpha", "beta")))
    turns = run(iv, ["weak", "weak", "weak"])
    assert path(turns) == [
        ("opening", "alpha:d2", "simpler"),
        ("simpler", "alpha:d2", "next-topic"),
        ("opening", "beta:d2", "simpler"),
    ]
    assert turns[1].question.text == "What is the easy depth 2 question about alpha?"


def test_no_answer_gets_a_hint_not_a_rephrase() -> None:
    iv = interview(SessionConfig(track="applied-nlp", level="middle", topics=("alpha",)))
    turns = run(iv, ["", ""])
    assert path(turns) == [("opening", "alpha:d2", "hint"), ("hint", "alpha:d2", "next-topic")]
    assert "Think about depth 2." in turns[1].question.text
    assert turns[0].grade.flags == ["empty"]


def test_a_partial_answer_is_probed_on_the_missed_point() -> None:
    iv = interview(SessionConfig(track="applied-nlp", level="middle", topics=("alpha",)))
    turns = run(iv, ["partial", "b"])
    assert turns[0].decision.action == "probe" and turns[0].decision.key_point == "b"
    assert turns[1].question.kind == "probe" and turns[1].question.key_point == "b"
    assert "second thing at depth 2" in turns[1].question.text
    # The probe filled the gap: the rung as a whole is now strong, so go deeper.
    assert turns[1].decision.action == "deeper"
    assert turns[1].rung_score > turns[0].rung_score


def test_a_misconception_is_challenged_once() -> None:
    iv = interview(SessionConfig(track="applied-nlp", level="middle", topics=("alpha",), max_follow_ups=5))
    turns = run(iv, ["wrong", "wrong", "strong"])
    assert turns[0].decision.action == "challenge" and turns[0].decision.misconception == "wrong"
    assert turns[1].question.kind == "challenge"
    assert "Are you sure that holds at depth 2?" in turns[1].question.text
    assert turns[1].decision.action != "challenge"  # not challenged twice


def test_product_analytics_never_goes_past_its_ceiling() -> None:
    for level in ("junior", "middle", "senior"):
        iv = interview(SessionConfig(track="product-analytics", level=level, n_topics=3, seed=1, max_follow_ups=10))
        turns = run(iv, ["strong"] * 30)
        assert turns and max(t.question.depth for t in turns) <= 2
        assert "deep-only" not in iv.record.topics


def test_the_follow_up_cap_holds() -> None:
    # Unbounded, this script earns a challenge, a probe, then two deeper rungs.
    for cap in (0, 1, 2, 3):
        iv = interview(SessionConfig(track="applied-nlp", level="junior", topics=("alpha",), max_follow_ups=cap))
        turns = run(iv, ["wrong", "partial", "strong", "strong", "strong"])
        assert len(turns) == cap + 1
        assert turns[-1].decision.action == "next-topic" and "cap" in turns[-1].decision.reason


def test_skip_and_hint() -> None:
    iv = interview(SessionConfig(track="applied-nlp", level="middle", topics=("alpha", "beta"), hint_penalty=1.0))
    list(iv.speak())
    assert iv.hint() == "Think about depth 2."
    hinted = iv.submit("partial")
    assert hinted.hinted and hinted.score == pytest.approx(2.8 - 1.0)
    list(iv.speak())
    skipped = iv.skip()
    assert skipped.skipped and skipped.score == 0 and skipped.decision.action == "next-topic"
    assert iv.pending.topic == "beta"


def test_every_decision_keeps_its_reason() -> None:
    iv = interview(SessionConfig(track="applied-nlp", level="middle", n_topics=3, seed=3))
    turns = run(iv, ["strong", "partial", "wrong", "", "weak", "b", "strong", "partial"] * 2)
    assert all(t.decision.reason for t in turns)


# --- topics ---------------------------------------------------------------------------


def test_plan_topics_validates_and_respects_the_track() -> None:
    bank = make_bank()
    with pytest.raises(VivaError, match="unknown topic"):
        plan_topics(bank, SessionConfig(topics=("nope",)))
    with pytest.raises(VivaError, match="not on the product-analytics track"):
        plan_topics(bank, SessionConfig(track="product-analytics", topics=("deep-only",)))
    picked = plan_topics(bank, SessionConfig(n_topics=2, seed=7))
    assert len(picked) == 2 and picked == plan_topics(bank, SessionConfig(n_topics=2, seed=7))


def test_bad_config_is_refused_clearly() -> None:
    with pytest.raises(VivaError, match="unknown track 'sales'"):
        SessionConfig(track="sales")  # type: ignore[arg-type]
    with pytest.raises(VivaError, match="number of topics"):
        SessionConfig(n_topics=0)


# --- the voice: checks and fallback ------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok", "reason"),
    [
        ("Question: What happens to dropout at inference? And also", True, ""),
        ("Dropout is a regularizer.", False, "not a question"),
        ("Why?", False, "1 words"),
        ("What does [bold]dropout[/] do at inference?", False, "markup in the output"),
        ("What happens when the model makes predictions and dropout is disabled?", False, "leaks the rubric's answer"),
        ("Which pizza topping would you order for lunch?", False, "off the intended question"),
    ],
)
def test_check_question(raw: str, ok: bool, reason: str) -> None:
    check = check_question(
        raw, INTENDED, FakeEncoder(),
        forbidden=["Dropout is disabled when the model makes predictions and dropout is disabled."],
        min_similarity=0.3,
    )
    assert check.ok is ok and check.reason.startswith(reason)


INTENDED = "What happens to dropout at inference?"


def test_check_question_cases_are_far_from_the_similarity_threshold() -> None:
    """The on-topic case is identical to the intended question and the off-topic one
    shares no word with it, so neither sits near ``min_similarity`` (0.3), where one
    hash bucket more or less would flip the result."""
    enc = FakeEncoder()
    words = {w for t in (INTENDED, "Which pizza topping would you order for lunch?") for w in enc.words(t)}
    assert len({enc.bucket(w) for w in words}) == len(words)  # no two words share a bucket
    on = check_question("Question: What happens to dropout at inference? And also", INTENDED, enc, min_similarity=0.3)
    off = check_question("Which pizza topping would you order for lunch?", INTENDED, enc, min_similarity=0.3)
    assert on.similarity > 0.99 and off.similarity < 0.01


def test_the_fake_encoder_is_the_same_in_every_process() -> None:
    """Python's ``hash()`` of a str changes with ``PYTHONHASHSEED``; the fake encoder must not."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/tests']\n"
        "import helpers\n"
        "v = helpers.FakeEncoder().encode(['What is your favourite pizza topping at lunch?'])[0]\n"
        "print([int(i) for i in v.nonzero()[0]])"
    )
    root = str(Path(__file__).resolve().parents[1])
    outs = set()
    for seed in ("0", "1", "8", "19"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code, root], env=env, capture_output=True, text=True, check=True)
        outs.add(done.stdout.strip())
    assert len(outs) == 1, outs


def test_tidy_keeps_the_first_question_only() -> None:
    assert tidy(' Follow-up question: "Why warmup? Also explain Adam."') == "Why warmup?"


# --- the record and its sink -------------------------------------------------------


def test_every_turn_reaches_the_sink_before_the_next_question() -> None:
    seen: list[int] = []
    iv = interview(
        SessionConfig(track="applied-nlp", level="middle", n_topics=2, seed=2), sink=lambda r: seen.append(len(r.turns))
    )
    for i, answer in enumerate(["partial", "strong", "weak", "weak"]):
        if iv.done:
            break
        list(iv.speak())
        iv.submit(answer)
        assert seen[-1] == i + 1  # stored before speak() phrases the next question


def test_a_record_round_trips_and_resumes_where_it_stopped() -> None:
    config = SessionConfig(track="applied-nlp", level="junior", topics=("alpha", "beta"), max_follow_ups=4)
    iv = interview(config)
    run(iv, ["strong", "partial"])
    pending = (iv.pending.ref, iv.pending.kind, iv.pending.key_point)
    data = iv.record.to_dict()
    restored = SessionRecord.from_dict(data)
    assert restored.to_dict() == data
    resumed = interview(config, record=restored)
    assert (resumed.pending.ref, resumed.pending.kind, resumed.pending.key_point) == pending
    # And it carries on with the same policy state (the probe filled the gap: deeper).
    list(resumed.speak())
    assert resumed.submit("b").decision.action == "deeper"


def test_scores_summarise_per_topic() -> None:
    iv = interview(SessionConfig(track="applied-nlp", level="junior", topics=("alpha", "beta"), max_follow_ups=1))
    run(iv, ["strong", "strong", "weak", "weak"])
    scores = iv.record.topic_scores()
    assert scores["alpha"] > scores["beta"]
    assert iv.record.deepest() == {"alpha": 2, "beta": 1}
    assert iv.record.status == "finished" and iv.done
    closing = "".join(iv.speak())
    assert closing and iv.record.closing == closing
