"""A turn's grade is a typed ``rubrics.grade.Grade`` from the engine to the store and back.

Dicts appear only at the edge (``Turn.to_dict`` / ``Turn.from_dict``, by rubrics' own
``Grade.to_dict`` / ``Grade.from_dict``): a turn read back equals the turn in memory, a
record written before a grade field existed still reads, and an import whose grade
holds a value of the wrong type is refused naming the field (never a traceback).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import REPO
from helpers import finished_record

from agent.export import from_json, to_json
from agent.record import Decision, Question, SessionRecord, Turn
from agent.store import GRADE_KEYS
from core.errors import DataError
from rubrics.grade import RUNG, ContradictionResult, Focus, Grade, MisconceptionResult, PointResult


def a_turn() -> Turn:
    """A turn whose grade uses every field (values at stored precision, spans as tuples)."""
    grade = Grade(
        3.25,
        0.6123,
        [
            PointResult("a", "A.", 2.0, 0.7, 0.8, True, "said a", (0, 6), True),
            PointResult("b", "B.", 1.0, 0.1, 0.0, False, asked=False),
        ],
        [MisconceptionResult("m", "M.", "C.", 0.8, "said m", (7, 13))],
        ["misconception"],
        "said a said m",
        [ContradictionResult("b", "B.", "says the opposite", "not b", (0, 5), "number")],
        0.55,
        Focus("key-point", "a"),
        "the point asked about: A.",
    )
    question = Question("alpha", "d1", 1, "probe", "What is it?", "So what is it?", key_point="a")
    return Turn(0, question, "said a said m", grade, 2.25, 3.0, Decision("deeper", "strong"), hinted=True, at=1.7e9)


def test_a_turn_with_a_grade_round_trips_through_its_dict_and_json() -> None:
    turn = a_turn()
    data = turn.to_dict()
    assert data["grade"] == turn.grade.to_dict()  # rubrics' shape, not dataclasses.asdict's
    back = Turn.from_dict(json.loads(json.dumps(data)))
    assert back == turn
    assert isinstance(back.grade, Grade) and back.grade.focus == Focus("key-point", "a")
    assert back.grade.points[0].span == (0, 6) and back.grade.contradictions[0].kind == "number"


def test_a_session_in_memory_equals_itself_read_back() -> None:
    """The engine keeps each grade at stored precision, so nothing shifts on a reload."""
    record = finished_record()
    assert all(isinstance(t.grade, Grade) for t in record.turns)
    assert SessionRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record
    assert from_json(to_json(record)) == record


def test_a_skipped_turn_keeps_an_empty_grade_answer() -> None:
    turn = a_turn()
    turn.skipped, turn.answer = True, ""
    turn.grade = Grade(0.0, 0.0, [], [], ["empty"], "")
    assert Turn.from_dict(turn.to_dict()) == turn


def test_an_old_grade_reads_with_neutral_defaults() -> None:
    """A record from before focus, contradictions, gist, weights or credits were stored."""
    old = {"flags": [], "key_points": [{"id": "a", "text": "A.", "hit": True}, {"id": "b", "text": "B.", "hit": False}],
           "misconceptions": [{"id": "m", "text": "M.", "correction": "C.", "evidence": "e"}]}  # fmt: skip
    g = Grade.from_dict(old, "an answer")
    assert (g.score, g.raw, g.gist, g.focus, g.judged_on, g.contradictions) == (0.0, 0.0, 0.0, RUNG, "the whole question", [])
    assert [(p.weight, p.credit, p.similarity, p.span, p.asked) for p in g.points] == [
        (1.0, 1.0, 0.0, None, True), (1.0, 0.0, 0.0, None, True),
    ]  # fmt: skip
    assert g.misconceptions[0].span == (0, 0) and g.answer == "an answer"
    assert Grade.from_dict({}).points == [] and Grade.from_dict({}).flags == []


def test_an_old_shaped_export_imports() -> None:
    data = json.loads(to_json(finished_record()))
    for t in data["turns"]:
        g = t["grade"]
        for key in ("gist", "focus", "judged_on", "contradictions", "raw"):
            g.pop(key, None)
        for p in g["key_points"]:
            for key in ("asked", "weight", "credit", "similarity", "span", "evidence"):
                p.pop(key, None)
    record = from_json(json.dumps(data))
    assert record.turns[0].grade.focus == RUNG and record.turns[0].grade.points[0].weight == 1.0


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("score",), "4", "turns[0].grade.score"),
        (("focus", "kind"), "anything", "turns[0].grade.focus.kind"),
        (("key_points", 0, "similarity"), "0.5", "turns[0].grade.key_points[0].similarity"),
        (
            ("misconceptions",),
            [{"id": "m", "text": "M.", "correction": 1, "evidence": "e"}],
            "turns[0].grade.misconceptions[0].correction",
        ),
        (("contradictions",), [{"point": "a", "reason": None}], "turns[0].grade.contradictions[0].reason"),
    ],
)
def test_an_import_with_a_bad_grade_field_is_refused_by_name(path: tuple, value: object, field: str) -> None:
    data = json.loads(to_json(finished_record()))
    node = data["turns"][0]["grade"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(DataError, match=rf"^bad\.json: {re.escape(field)}: "):
        from_json(json.dumps(data), "bad.json")


def test_the_store_checks_every_key_a_grade_writes() -> None:
    assert set(a_turn().grade.to_dict()) == GRADE_KEYS


def test_the_record_and_the_verdict_stay_light() -> None:
    """``viva history`` and ``viva show`` read records: no numpy, no grader, no models."""
    script = (
        "import sys, agent.record, agent.verdict, agent.export\n"
        "heavy = [m for m in ('numpy', 'torch', 'sentence_transformers', 'faiss', 'rubrics.grader') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
