"""``viva ask`` end to end: the real default model, stdin/stdout, kill -9 and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, venv_bin

from agent.store import Store


def ask(*args: str, stdin: str, env_dir: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = os.environ | {"VIVA_DATA_DIR": str(env_dir)}
    return subprocess.run(
        [venv_bin("viva"), *args], input=stdin, capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout
    )


@pytest.mark.slow
def test_a_scripted_interview_with_the_real_model(tmp_path: Path, encoder) -> None:
    answers = [
        "um so dropout is like, it randomly switches off some of the neurons on every training step",
        "uh i think at inference you don't use it, every unit is on",
        "",
        "/skip",
    ]
    out = ask("ask", "--track", "applied-nlp", "--level", "junior", "--topic", "dropout", "--topic", "normalization",
              stdin="\n\n".join(answers) + "\n\n", env_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    questions = [line for line in out.stdout.splitlines() if line.endswith("?")]
    assert len(questions) >= 3
    store = Store.open(tmp_path)
    [summary] = store.list()
    record = store.load(summary.id)
    assert record.models["llm"] != "none"
    asked = [t.question for t in record.turns]
    # Every question printed is one the engine asked, one per line, in order.
    assert questions[: len(asked)] == [" ".join(q.text.split()) for q in asked]
    # On the intended topic: the phrasing stays close to the rubric's question.
    vecs = encoder.encode([q.text for q in asked] + [q.intended for q in asked])
    sims = (vecs[: len(asked)] * vecs[len(asked):]).sum(axis=1)
    assert np.all(sims >= 0.55), list(zip([q.text for q in asked], sims))
    assert {q.topic for q in asked} <= {"dropout", "normalization"}


def test_end_of_input_ends_cleanly_and_saves(tmp_path: Path) -> None:
    out = ask("--llm", "none", "ask", "--topic", "dropout", "--level", "junior",
              stdin="it switches off random units while training\n", env_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].endswith("?")
    assert not lines[-1].endswith("?")  # the closing remark
    [summary] = Store.open(tmp_path).list()
    assert summary.n_turns == 1 and summary.status == "finished"


def test_commands_and_bad_input(tmp_path: Path) -> None:
    nasty = "[bold]x[/] \x1b[31m [link=y]z[/link]"
    out = ask("--llm", "none", "ask", "--topic", "dropout", "--topic", "normalization", "--level", "junior",
              stdin=f"/hint\n{nasty}\n\n\n/skip\n/end\n", env_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert any(line.startswith("Hint: ") and not line.endswith("?") for line in out.stdout.splitlines())
    record = Store.open(tmp_path).load(Store.open(tmp_path).list()[0].id)
    assert record.turns[0].answer == nasty and record.turns[0].hinted
    assert record.turns[1].answer == "" and "empty" in record.turns[1].grade.flags
    unknown = ask("--llm", "none", "ask", "--topic", "nope", stdin="", env_dir=tmp_path)
    assert unknown.returncode == 2 and "unknown topic(s): nope" in unknown.stderr


def test_kill_9_mid_interview_keeps_every_answer_and_resumes(tmp_path: Path) -> None:
    env = os.environ | {"VIVA_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [venv_bin("viva"), "--llm", "none", "ask", "--topic", "dropout", "--topic", "normalization", "--level", "junior"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO, env=env,
    )
    assert proc.stdin and proc.stdout

    def next_question() -> str:
        while True:
            line = proc.stdout.readline()
            assert line, "viva ask exited early"
            if line.rstrip().endswith("?"):
                return line.strip()

    next_question()
    proc.stdin.write("it randomly switches off units during training\n\n")
    proc.stdin.flush()
    second = next_question()
    proc.stdin.write("no idea\n\n")
    proc.stdin.flush()
    third = next_question()  # the second answer is graded and stored before this is printed
    proc.stdin.write("half an ans")  # being typed when the terminal dies
    proc.stdin.flush()
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)

    store = Store.open(tmp_path)
    [summary] = store.unfinished()
    record = store.load(summary.id)
    assert [t.answer for t in record.turns] == ["it randomly switches off units during training", "no idea"]
    assert " ".join(record.turns[1].question.text.split()) == second

    resumed = ask("--llm", "none", "ask", "--resume", summary.id[:8], stdin="/end\n", env_dir=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines()[0] == third  # it asks the question that was pending
    assert Store.open(tmp_path).load(summary.id).status == "finished"
