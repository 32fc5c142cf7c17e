"""The judged set: 84 (context, output) cases - openings, deeper rungs, probes and
challenges - built from the rubric bank and the labelled answers, with the raw lines
SmolLM2-135M wrote for them in the old voice (rephrase the question) and the new one
(one reaction sentence, then the curated question), shipped in
``tests/data/voice/judged.json`` (``python -m benchmarks.bench_interviewer
--write-judged [--new-only]`` regenerates it); ``new_raw`` is the default model with
the shipped reaction adapter, ``base_raw`` the same prompt on the base model.  The tests re-run today's checks on those raw lines
and judge what the candidate would hear; one test runs the real model on a handful.
"""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.bench_interviewer import JUDGED, Case, build_cases, generate, judge, judged_rows, load_cases, new_line, old_line


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases()


@pytest.fixture(scope="module")
def stats(cases, encoder):  # noqa: ANN001
    return judged_rows(cases, encoder)


def test_the_judged_set_covers_every_kind_of_line(cases) -> None:
    kinds = Counter(c.kind for c in cases)
    assert len(cases) >= 80
    assert all(kinds[k] >= 15 for k in ("opening", "deeper", "probe", "challenge")), kinds
    assert len({c.topic for c in cases}) >= 20
    assert all(c.old_raw for c in cases) and all(c.new_raw for c in cases if c.kind != "opening")


def test_the_cases_are_rebuilt_the_same_from_the_bank(cases) -> None:
    from rubrics.bank import load_bank

    rebuilt = build_cases(load_bank())
    assert [(c.id, c.intended, c.answer) for c in rebuilt] == [(c.id, c.intended, c.answer) for c in cases]


def test_every_new_line_passes_the_judge(cases, encoder) -> None:  # noqa: ANN001
    """Whatever the new voice says - a kept reaction plus the question, or the question
    alone - obeys every rule: nothing that passed its checks breaks one."""
    bad = []
    for c in cases:
        text, kept, _ = new_line(c, c.new_raw, encoder)
        words = text[: -len(c.intended)].strip() if kept else ""
        verdict = judge(c, text, words)
        if not all(verdict.values()):
            bad.append((c.id, text, {k: v for k, v in verdict.items() if not v}))
    assert not bad, bad


def test_the_new_voice_keeps_most_model_lines_and_the_old_one_few(stats) -> None:
    old, new = stats["old"], stats["new"]
    new_share = new["kept"] / new["asked"]
    old_share = old["kept"] / old["asked"]
    print(f"kept: old {old['kept']}/{old['asked']} ({old_share:.0%}), new {new['kept']}/{new['asked']} ({new_share:.0%})")
    base = stats.get("new, base model")
    if base:
        print(f"new voice without the adapter: {base['kept']}/{base['asked']}")
    assert new["asked"] == 64 and old["asked"] == 84
    assert new_share >= 0.8  # with the shipped reaction adapter: 61/64 when written
    assert old_share <= 0.2 and old["kept_good"] <= 1  # 9/84, none of which passes the judge
    assert new["good"] == new["lines"]  # every new line passes the judge
    assert new["kept_good"] == new["kept"]


def test_the_judge_catches_what_it_should() -> None:
    c = Case(
        "x",
        "probe",
        "dropout",
        "Dropout",
        "What happens to dropout when the model serves predictions?",
        answer="it switches off random neurons while training",
        missed=["Dropout is used only during training; at inference all units are kept."],
    )
    ok = judge(c, "So random neurons get switched off. " + c.intended, "So random neurons get switched off.")
    assert all(ok.values()), ok
    leak = judge(c, "So at inference all units are kept. " + c.intended, "So at inference all units are kept.")
    assert not leak["no missed key point told"] and not leak["names something the candidate said"]
    two = judge(c, "Why is that? " + c.intended, "Why is that?")
    assert not two["one question"]
    praise = judge(c, "Great, neurons switched off. " + c.intended, "Great, neurons switched off.")
    assert not praise["no unsupported judgement"]
    dropped = Case(
        "y", "deeper", "dropout", "Dropout", "What does dropout do while it trains, and why does that reduce overfitting?"
    )
    half = judge(dropped, "What does dropout do while it trains?", "What does dropout do while it trains?")
    assert not half["keeps every part of the question"]


def test_the_adapter_never_saw_a_judged_rung(cases) -> None:
    """The reaction adapter's training lines come from rungs the judged follow-ups do not use."""
    from evaluation.train_voice import examples, held_out_rungs

    judged = {c.topic + ":" + c.id.split(":")[1] for c in cases if c.kind != "opening"}
    assert held_out_rungs() == judged
    lines = examples(judged)
    assert len(lines) >= 100
    assert not {ref for ref, _, _ in lines} & judged


def test_the_training_lines_pass_the_judge() -> None:
    from evaluation.train_voice import examples, held_out_rungs

    for ref, answer, line in examples(held_out_rungs()):
        c = Case(ref, "probe", ref.split(":")[0], "", "What next?", answer=answer)
        assert all(judge(c, f"{line} What next?", line).values()), (ref, line)


@pytest.mark.slow
def test_the_real_model_on_a_handful_of_cases(cases, chat_model, encoder) -> None:  # noqa: ANN001
    """SmolLM2 now, on 6 follow-ups: the shipped raw lines are what it writes (greedy),
    and every final line passes the judge."""
    few = [c for k in ("deeper", "probe", "challenge") for c in [c for c in cases if c.kind == k][:2]]
    fresh = [Case(**{**c.__dict__, "old_raw": "", "new_raw": ""}) for c in few]
    generate(fresh, chat_model, old=False)
    same = sum(f.new_raw.strip() == c.new_raw.strip() for f, c in zip(fresh, few))
    assert same >= 4, [(f.new_raw, c.new_raw) for f, c in zip(fresh, few)]  # greedy; tolerate float drift
    for f in fresh:
        text, kept, _ = new_line(f, f.new_raw, encoder)
        words = text[: -len(f.intended)].strip() if kept else ""
        assert all(judge(f, text, words).values()), (f.id, text)
    _ = (old_line, JUDGED)
