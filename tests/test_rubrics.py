"""Rubric schema, bank loading, the grader's behaviour and the rubric/grade commands."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import venv_bin

from rubrics.bank import RubricError, load_bank, load_topic_file, parse_topic
from rubrics.schema import adhoc_rung
from rubrics.spoken import drop_fillers, echo_ratio, tokenize, windows

GOOD = textwrap.dedent(
    """\
    topic: toy-dropout
    title: Toy dropout
    rungs:
      - id: what
        depth: 1
        tracks: [applied-nlp]
        question: What does dropout do during training?
        hint: Think about individual units.
        reference: Dropout switches off a random fraction of units on each training step. It is disabled at inference.
        key_points:
          - id: random-off
            text: Each training step randomly switches off a fraction of the units.
            weight: 2
          - id: off-at-inference
            text: Dropout is disabled when the model makes predictions.
        misconceptions:
          - id: on-at-inference
            text: Dropout stays switched on when the model serves predictions.
            correction: Dropout is only used in training; inference uses every unit.
    """
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- schema and bank --------------------------------------------------------------


def test_a_valid_rubric_parses() -> None:
    topic = parse_topic(GOOD, "toy.yaml")
    assert topic.topic == "toy-dropout"
    assert [kp.id for kp in topic.rungs[0].key_points] == ["random-off", "off-at-inference"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ("weight: 2", "rungs[0] (id 'what') > key_points[0] (id 'random-off') > weight", "less than or equal to 3"),
        ("depth: 1", "rungs[0] (id 'what') > depth", "less than or equal to 4"),
        ("question: What does dropout do during training?", "rungs[0] (id 'what') > question", "?"),
        ("tracks: [applied-nlp]", "rungs[0] (id 'what') > tracks", "applied-nlp"),
    ],
)
def test_a_broken_rubric_names_the_file_and_the_field(tmp_path: Path, change: str, field: str, message: str) -> None:
    broken = {
        "weight: 2": "weight: 7",
        "depth: 1": "depth: 9",
        "question: What does dropout do during training?": "question: Dropout during training",
        "tracks: [applied-nlp]": "tracks: [applied-nlp, sales]",
    }[change]
    path = write(tmp_path, "broken.yaml", GOOD.replace(change, broken))
    with pytest.raises(RubricError) as info:
        load_topic_file(path)
    text = str(info.value)
    assert str(path) in text and field in text and message in text


def test_missing_required_field_and_unknown_field_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", GOOD.replace("    reference: Dropout", "    referense: Dropout"))
    with pytest.raises(RubricError) as info:
        load_topic_file(path)
    text = str(info.value)
    assert "rungs[0] (id 'what') > reference: Field required" in text
    assert "referense" in text


def test_invalid_yaml_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", GOOD.replace("title: Toy dropout", "title: [unclosed"))
    with pytest.raises(RubricError, match=r"r\.yaml: not valid YAML \(line \d+"):
        load_topic_file(path)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", GOOD.replace("id: off-at-inference", "id: random-off"))
    with pytest.raises(RubricError, match=r"rungs\[0\] \(id 'what'\): key_points ids must be unique; repeated: random-off"):
        load_topic_file(path)


def test_a_duplicate_topic_id_is_refused(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", GOOD)
    b = write(tmp_path, "b.yaml", GOOD)
    with pytest.raises(RubricError, match="topic id 'toy-dropout' is already defined in"):
        load_bank([a, b])


def test_the_shipped_bank_meets_the_bar() -> None:
    bank = load_bank()
    rungs = list(bank.all_rungs())
    assert len(bank) >= 30 and len(rungs) >= 90
    for track in ("product-analytics", "applied-nlp", "applied-cv"):
        assert sum(track in r.tracks for _, r in rungs) >= 20, track
    # Product analytics stays on the basics.
    assert all(r.depth <= 2 for _, r in rungs if "product-analytics" in r.tracks)
    # Applied NLP reaches the deep end.
    assert any(r.depth == 4 and "applied-nlp" in r.tracks for _, r in rungs)


def test_every_rung_points_at_real_passages() -> None:
    from knowledge.corpus import load_corpus

    ids = {p.id for p in load_corpus(include_notes=False).passages}
    corpus_topics = {p.topic for p in load_corpus(include_notes=False).passages}
    bank = load_bank()
    for topic, rung in bank.all_rungs():
        assert rung.passages, f"{topic.topic}:{rung.id} cites no passage"
        missing = [p for p in rung.passages if p not in ids]
        assert not missing, f"{topic.topic}:{rung.id} cites unknown passages {missing}"
    # Every primer topic has a rubric.
    assert corpus_topics <= set(bank.topics)


def test_reference_only_rubric_splits_into_points() -> None:
    rung = adhoc_rung("Dropout zeroes random units while training. At inference it is off. It acts like an ensemble.")
    points = rung.effective_key_points()
    assert [p.text for p in points] == [
        "Dropout zeroes random units while training.",
        "At inference it is off.",
        "It acts like an ensemble.",
    ]
    assert rung.question.endswith("?")


# --- spoken-style normalisation -----------------------------------------------------


def test_fillers_and_false_starts_are_dropped_but_offsets_kept() -> None:
    answer = "um so basically dropout is like, it it turns off uh random neurons you know"
    toks = drop_fillers(tokenize(answer))
    assert [t.norm for t in toks] == ["so", "dropout", "is", "it", "turns", "off", "random", "neurons"]
    # Evidence is always the candidate's own words, verbatim.
    assert all(answer[t.start : t.end].strip(",").lower() == t.norm for t in toks)


def test_like_is_kept_when_it_carries_meaning() -> None:
    assert "like" in [t.norm for t in drop_fillers(tokenize("the output looks like a probability"))]


def _covered(text: str, ws) -> bool:  # noqa: ANN001
    """Every word of ``text`` lies inside some window (no gaps, so no point loses its credit)."""
    import re

    return all(any(w.start <= m.start() and m.end() <= w.end for w in ws) for m in re.finditer(r"\S+", text))


def test_windows_cover_run_on_answers_whole_and_stay_linear() -> None:
    from rubrics.spoken import MAX_WINDOWS, SMALL_BUDGET, WINDOW_WORDS

    sentence = "dropout turns off random units during training and that regularizes the network"
    run_on = " ".join([sentence] * 60)  # 720 words, no punctuation
    ws = windows(run_on)
    assert 1 < len(ws) <= MAX_WINDOWS + SMALL_BUDGET
    assert ws[0].start == 0 and ws[-1].end == len(run_on) and _covered(run_on, ws)
    huge = " ".join([sentence] * 600)  # 7,200 words: the stride widens to a window, never leaves a gap
    big = windows(huge)
    assert _covered(huge, big) and len(big) <= len(huge.split()) // WINDOW_WORDS + 2
    assert windows("") == [] and windows("um uh you know") == []


def test_control_characters_do_not_shift_offsets() -> None:
    answer = "dropout\x00 turns\x1b[31m off units"
    ws = windows(answer)
    assert answer[ws[0].start : ws[0].end].startswith("dropout")


def test_echo_ratio_spots_a_question_read_back() -> None:
    q = "What does dropout do to a network while it trains?"
    assert echo_ratio("what does dropout do to a network while it trains", q) == 1.0
    assert echo_ratio("it randomly zeroes units on each step", q) < 0.3


# --- the grader with the real embedder ----------------------------------------------


@pytest.fixture(scope="module")
def toy_rung():
    return parse_topic(GOOD, "toy.yaml").rungs[0]


@pytest.mark.slow
def test_strong_answer_beats_weak_and_reports_evidence(grader, toy_rung) -> None:
    strong = grader.grade(
        toy_rung,
        "um so on every training step it like randomly switches off some fraction of the neurons "
        "and um when the model makes predictions dropout is disabled so every unit is used",
    )
    weak = grader.grade(toy_rung, "it's a thing you add to the network i think, for regularization or whatever")
    assert strong.score > weak.score + 1.5
    assert {p.id for p in strong.hits} == {"random-off", "off-at-inference"}
    for p in strong.hits:
        # The evidence is a verbatim span of the answer.
        assert p.evidence and strong.answer[p.span[0] : p.span[1]] == p.evidence


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answer", "flag"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("um uh", "empty"),
        ("dropout", "too-short"),
        ("the best pizza in naples uses san marzano tomatoes and buffalo mozzarella", "off-topic"),
        ("what does dropout do during training", "restates-question"),
    ],
)
def test_flags(grader, toy_rung, answer: str, flag: str) -> None:
    grade = grader.grade(toy_rung, answer)
    assert flag in grade.flags
    assert grade.score <= 1.0


@pytest.mark.slow
def test_misconception_is_detected_with_its_span_and_never_raises_the_score(grader, toy_rung) -> None:
    good = "each training step randomly switches off a fraction of the units."
    wrong = " and dropout stays on when the model serves predictions in production."
    graded = grader.grade(toy_rung, good + wrong)
    assert [m.id for m in graded.misconceptions] == ["on-at-inference"]
    m = graded.misconceptions[0]
    assert graded.answer[m.span[0] : m.span[1]] == m.evidence and "serves predictions" in m.evidence
    assert "misconception" in graded.flags
    assert graded.score <= grader.grade(toy_rung, good).score


@pytest.mark.slow
def test_repeating_an_answer_does_not_earn_more(grader, toy_rung) -> None:
    once = grader.grade(toy_rung, "each training step randomly switches off some of the units.")
    many = grader.grade(toy_rung, " ".join(["each training step randomly switches off some of the units."] * 40))
    assert many.score <= once.score + 0.01


@pytest.mark.slow
def test_markup_in_an_answer_is_just_text(grader, toy_rung) -> None:
    answer = "[bold] each training step [/] randomly switches off a fraction of the units [link=http://x] *yes* [/link]"
    graded = grader.grade(toy_rung, answer)
    assert graded.answer == answer
    assert "random-off" in {p.id for p in graded.hits}


# --- commands --------------------------------------------------------------------


def run_viva(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([venv_bin("viva"), *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_rubrics_check_reports_file_and_field(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", GOOD)
    bad = write(tmp_path, "bad.yaml", GOOD.replace("weight: 2", "weight: heavy"))
    ok = run_viva("rubrics", "check", str(good))
    assert ok.returncode == 0 and "OK" in ok.stdout
    broken = run_viva("rubrics", "check", str(good), str(bad))
    assert broken.returncode == 1
    assert f"{bad}: rungs[0] (id 'what') > key_points[0] (id 'random-off') > weight" in broken.stdout


def test_rubrics_list_json_matches_the_bank() -> None:
    out = run_viva("rubrics", "list", "--json")
    assert out.returncode == 0
    rows = json.loads(out.stdout)
    bank = load_bank()
    assert {r["topic"] for r in rows} == set(bank.topics)
    pa = json.loads(run_viva("rubrics", "list", "--track", "product-analytics", "--json").stdout)
    assert all(r["depth"] <= 2 and "product-analytics" in r["tracks"] for t in pa for r in t["rungs"])


@pytest.mark.slow
def test_grade_command_rubric_stdin_and_adhoc() -> None:
    bank = load_bank()
    ref = next(f"{t.topic}:{r.id}" for t, r in bank.all_rungs())
    topic, rung = bank.rung(ref)
    by_arg = run_viva("grade", "--rubric", ref, "--json", rung.reference)
    assert by_arg.returncode == 0, by_arg.stderr
    data = json.loads(by_arg.stdout)
    assert data["rubric"] == ref and data["score"] >= 3.5
    assert {"id", "hit", "evidence", "similarity"} <= set(data["key_points"][0])

    by_stdin = run_viva("grade", "--rubric", ref, stdin="um i don't know")
    assert by_stdin.returncode == 0 and "Score:" in by_stdin.stdout and "A strong answer says" in by_stdin.stdout

    ref = "Dropout randomly zeroes units during training. It is switched off at inference."
    good = run_viva("grade", "--question", "What is dropout?", "--reference", ref, "--json",
                    "uh it randomly turns off neurons while training. and at test time it's switched off")
    bad = run_viva("grade", "--question", "What is dropout?", "--reference", ref, "--json",
                   "it's a way of making the learning rate smaller over time")
    assert good.returncode == 0 and bad.returncode == 0, good.stderr + bad.stderr
    good_grade, bad_grade = json.loads(good.stdout), json.loads(bad.stdout)
    assert [p["id"] for p in good_grade["key_points"]] == ["ref-1", "ref-2"]
    # The ad-hoc scale is fitted to SemEval's 2-way grades, where "incorrect" averages ~1.5/5,
    # so an unrelated answer still lands near 2 (README, known weak spots): only the order is sure.
    assert good_grade["score"] > bad_grade["score"]


def test_grade_command_errors_are_clear() -> None:
    unknown = run_viva("grade", "--rubric", "no-such-topic", "answer")
    assert unknown.returncode == 2 and "unknown topic 'no-such-topic'" in unknown.stderr
    bad_rung = run_viva("grade", "--rubric", "mlp:nope", "answer")
    assert bad_rung.returncode == 2 and "has no rung 'nope'" in bad_rung.stderr
    lonely = run_viva("grade", "--question", "Q?", "answer")
    assert lonely.returncode != 0


# The two stopword lists grading uses, word for word as they were calibrated: changing either
# moves scores (spoken: which question words an answer may echo; polarity: which words count as
# a claim's content).  They differ on purpose; rubrics/words.py says why.
SPOKEN_STOPWORDS = {
    "a", "about", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does",
    "for", "from", "how", "i", "if", "in", "into", "is", "it", "it's", "its", "just", "no", "not", "of", "on", "or",
    "should", "so", "than", "that", "the", "them", "then", "there", "these", "they", "this", "those", "to", "was",
    "we", "were", "what", "when", "which", "who", "why", "will", "with", "would", "you", "your",
}
POLARITY_STOPWORDS = {
    "a", "about", "actually", "also", "an", "and", "any", "are", "as", "at", "basically", "be", "because", "been",
    "being", "but", "by", "can", "could", "did", "do", "does", "each", "even", "every", "for", "from", "get", "gets",
    "got", "had", "has", "have", "he", "her", "here", "his", "how", "i", "if", "in", "into", "is", "it", "it's",
    "its", "just", "kind", "know", "like", "made", "make", "makes", "many", "me", "mean", "much", "my", "of", "okay",
    "one", "only", "or", "our", "own", "really", "right", "said", "say", "she", "should", "so", "some", "sort",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "thing", "things", "think", "this",
    "those", "to", "uh", "um", "us", "use", "used", "uses", "using", "very", "was", "way", "we", "well", "were",
    "what", "when", "where", "which", "while", "who", "why", "will", "would", "yeah", "you", "your",
}


def test_the_stopword_lists_are_what_grading_was_calibrated_on() -> None:
    from rubrics import polarity, spoken

    assert len(SPOKEN_STOPWORDS) == 59 and len(POLARITY_STOPWORDS) == 114
    assert set(spoken.STOPWORDS) == SPOKEN_STOPWORDS
    assert set(polarity.STOPWORDS) == POLARITY_STOPWORDS
    assert not polarity.STOPWORDS & polarity.NEGATORS  # a negator is never dropped as a filler word


def test_find_rung_is_rung_or_none() -> None:
    bank = load_bank()
    topic = next(iter(bank))
    first = topic.rungs[0]
    assert bank.find_rung(topic.topic, first.id) is bank.rung(f"{topic.topic}:{first.id}")[1]
    assert bank.find_rung(topic.topic, "no-such-rung") is None
    assert bank.find_rung("no-such-topic", first.id) is None
