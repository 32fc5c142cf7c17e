"""Review commands: history, show, export (Markdown/JSON), import, delete, progress."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import REPO, venv_bin
from helpers import NASTY, finished_record

from agent.export import from_json, to_json, to_markdown
from agent.store import Store


def viva(data: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = os.environ | {"VIVA_DATA_DIR": str(data)}
    return subprocess.run([venv_bin("viva"), *args], input=stdin, capture_output=True, text=True, cwd=REPO, env=env, timeout=120)


def test_json_round_trip_is_exact() -> None:
    record = finished_record([NASTY, "strong", "partial"])
    again = from_json(to_json(record))
    assert again.to_dict() == record.to_dict()
    assert again.turns[0].answer == NASTY


def test_markdown_shows_answers_literally() -> None:
    record = finished_record(["```\n# not a heading\n[bold]x[/]", "strong"])
    md = to_markdown(record)
    assert "````text\n```\n# not a heading\n[bold]x[/]\n````" in md  # a longer fence than any inside
    assert "**Score:**" in md and "*Next:*" in md


def test_import_refuses_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    out = viva(tmp_path, "import", str(bad))
    assert out.returncode == 2 and "bad.json: not JSON" in out.stderr
    bad.write_text('{"hello": 1}')
    assert "not a viva session export" in viva(tmp_path, "import", str(bad)).stderr


def test_history_show_export_import_delete(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    record = finished_record([NASTY, "strong", "weak", "weak"])
    store.save(record)
    store.close()  # an active session stays leased to the store that saved it until it closes
    listing = json.loads(viva(tmp_path, "history", "--json").stdout)
    assert [r["id"] for r in listing] == [record.id]
    shown = viva(tmp_path, "show", record.id[:5])
    assert shown.returncode == 0, shown.stderr
    assert "## 1. alpha / d1 (depth 1, opening)" in shown.stdout and NASTY[:40] in shown.stdout
    exported = tmp_path / "s.json"
    assert viva(tmp_path, "export", record.id, "--format", "json", "-o", str(exported)).returncode == 0
    md = viva(tmp_path, "export", record.id, "--format", "md")
    assert md.returncode == 0 and "# viva interview" in md.stdout
    assert viva(tmp_path, "import", str(exported)).returncode == 2  # already there
    assert viva(tmp_path, "delete", record.id).returncode == 2  # no confirmation on a pipe
    assert viva(tmp_path, "delete", record.id, "--yes").returncode == 0
    assert viva(tmp_path, "import", str(exported)).returncode == 0
    back = Store.open(tmp_path).load(record.id)
    # An unfinished session comes back abandoned (it cannot be resumed elsewhere); all else is equal.
    assert record.status == "active" and back.status == "abandoned"
    assert back.to_dict() | {"status": "active"} == record.to_dict()


def test_progress_points_at_the_weakest_topic(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.save(finished_record(["strong", "strong", "strong", "weak", "weak"]))
    out = viva(tmp_path, "progress", "--json")
    report = json.loads(out.stdout)
    assert report["weakest"][0] == "beta"
    assert "beta" in report["suggestion"]
