"""Reliability of the command line (issue 11): bytes that are not UTF-8 in an answer,
note files whose names map to one id, control characters on the way to a terminal,
and bad model paths reported before anything loads."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest

from agent.config import SessionConfig
from agent.store import Store
from conftest import REPO, venv_bin
from viva.cli import main
from viva.terminal import valid_text, visible

# An answer that tries to clear the screen, retitle the terminal and ring the bell,
# with a NUL, a C1 CSI, a carriage return and a DEL.
NASTY = "it drops units\x1b[2J\x1b]0;pwned\x07 while\x00 training\x9b31m\rover\x7f\ttab\nline 2 🧠"
UNSAFE = {chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def run_viva(data: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = os.environ | {"VIVA_DATA_DIR": str(data)} | (env or {})
    return subprocess.run([venv_bin("viva"), *args], input=stdin, capture_output=True, cwd=REPO, env=full, timeout=600)


# --- 3: an answer that is not valid UTF-8 ---------------------------------------------


def test_valid_text_replaces_what_is_not_utf8_and_keeps_the_rest() -> None:
    assert valid_text("plain 🧠 text") == "plain 🧠 text"
    escaped = b"caf\xe9 \xff ok".decode("utf-8", "surrogateescape")
    assert valid_text(escaped) == "caf\ufffd \ufffd ok"
    assert valid_text("lone \ud800 surrogate") == "lone \ufffd surrogate"


@pytest.mark.parametrize("errors", ["strict", "surrogateescape"])
def test_read_answers_survives_bytes_that_are_not_utf8(errors: str) -> None:
    from viva.commands.ask import answer_stream, read_answers

    data = b"it drops \xff\xfe units\n\nsecond \xc3 answer\n\n"
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors=errors)  # as Python opens stdin
    answers = list(read_answers(answer_stream(stdin)))
    assert answers == ["it drops \ufffd\ufffd units", "second \ufffd answer", None]
    # a text stream that already holds surrogate escapes is cleaned line by line
    text = io.StringIO(b"x \xff y\n\n".decode("utf-8", "surrogateescape"))
    assert list(read_answers(answer_stream(text))) == ["x \ufffd y", None]


def test_ask_keeps_an_answer_with_invalid_utf8_and_goes_on(tmp_path: Path) -> None:
    """The issue's case: stdin in UTF-8 mode keeps bad bytes as surrogates; SQLite
    refused them and `viva ask` died with UnicodeEncodeError, losing the session."""
    stdin = b"it switches off random units \xff\xfe while training\n\num \xc3 at inference every unit is on\n\n"
    out = run_viva(tmp_path, "--llm", "none", "ask", "--topic", "dropout", "--level", "junior", "--topics", "1",
                   stdin=stdin, env={"PYTHONUTF8": "1"})
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    assert b"Traceback" not in out.stderr
    store = Store.open(tmp_path)
    [summary] = store.list()
    record = store.load(summary.id)
    answers = [t.answer for t in record.turns]
    assert answers[0] == "it switches off random units \ufffd\ufffd while training"
    assert len(answers) == 2 and answers[1] == "um \ufffd at inference every unit is on"  # the session went on
    assert summary.status == "finished"
    store.close()


# --- 8: control characters on the way to a terminal or a Markdown file -------------------


def test_visible_escapes_controls_and_keeps_newlines_tabs_and_text() -> None:
    shown = visible(NASTY)
    assert not UNSAFE & set(shown)
    assert shown == "it drops units\\x1b[2J\\x1b]0;pwned\\x07 while\\x00 training\\x9b31m\\x0dover\\x7f\ttab\nline 2 🧠"
    assert visible("naïve café – ok\n\tindented") == "naïve café – ok\n\tindented"


def _record(answers: list[str]):  # noqa: ANN202 - a finished SessionRecord with evidence quoting the answer
    from test_agent import interview, run

    iv = interview(SessionConfig(track="applied-nlp", level="junior", topics=("alpha",)))
    run(iv, ["strong", *answers])
    iv.end()
    record = iv.record
    turn = record.turns[0]
    turn.answer = NASTY
    for p in turn.grade["key_points"]:
        if p["hit"]:
            p["evidence"] = NASTY
    return record


def test_markdown_export_and_show_print_no_control_characters(capsys) -> None:
    from agent.export import to_json, to_markdown

    record = _record([NASTY])
    md = to_markdown(record)
    assert not UNSAFE & set(md)
    assert "it drops units\\x1b[2J\\x1b]0;pwned\\x07" in md and "🧠" in md
    assert json.loads(to_json(record))["turns"][0]["answer"] == NASTY  # JSON stays exact
    store = Store.open()
    store.save(record)
    store.close()
    assert main(["show", record.id]) == 0
    out = capsys.readouterr().out
    assert not UNSAFE & set(out)
    assert "\\x1b[2J" in out
    store = Store.open()
    assert store.load(record.id).turns[0].answer == NASTY  # stored byte-exact
    store.close()


def test_ask_prints_questions_without_control_characters() -> None:
    from viva.commands.ask import _one_line

    assert _one_line("What\x1b[2J does  dropout\ndo?") == "What\\x1b[2J does dropout do?"
