"""The store under attack: concurrent first starts, two resumes at once, a full or
read-only disk, files viva did not write, and imports that lie (issue 11, items 1, 2, 4, 5, 6).

Deterministic: processes meet at barriers and events and are waited for; a full disk
is SQLite's own ``max_page_count`` limit and a read-only one a ``mode=ro`` connection,
so every error here is the one SQLite really raises.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, venv_bin
from helpers import finished_record, interview, run

from agent.config import SessionConfig
from agent.store import DB_NAME, MIGRATIONS, SCHEMA_VERSION, SessionInUse, Store, StoreError
from core.errors import DataError
from viva.cli import main

MOVE_ASIDE = "move it aside"


def active_record(store: Store | None = None, answers: tuple[str, ...] = ("partial",)):  # noqa: ANN201
    """An unfinished session (two topics, some answered), saved if a store is given."""
    iv = interview(
        SessionConfig(track="applied-nlp", level="junior", topics=("alpha", "beta")), sink=store.save if store else None
    )
    run(iv, list(answers))
    assert iv.record.status == "active"
    return iv


def v1_database(path: Path) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    MIGRATIONS[1](db)
    db.execute("PRAGMA user_version = 1")
    db.execute("COMMIT")
    db.close()


# -- 1. concurrent first start ------------------------------------------------------------


def _open_at_barrier(paths: list[str], barrier, results) -> None:  # noqa: ANN001
    for p in paths:
        barrier.wait()
        try:
            Store(Path(p)).close()
            results.put((p, "ok"))
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results.put((p, f"{type(exc).__name__}: {exc}"))


def test_four_processes_starting_at_once_all_succeed(tmp_path: Path) -> None:
    fresh = [tmp_path / f"new{i}" / DB_NAME for i in range(12)]  # a new data dir
    old = [tmp_path / f"old{i}" / DB_NAME for i in range(6)]  # a version-1 database to migrate
    for p in old:
        p.parent.mkdir()
        v1_database(p)
    paths = [str(p) for p in fresh + old]
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4, timeout=600), ctx.Queue()
    procs = [ctx.Process(target=_open_at_barrier, args=(paths, barrier, results), daemon=True) for _ in range(4)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=600) for _ in range(4 * len(paths))]
    for p in procs:
        p.join()
    failed = [o for o in outcomes if o[1] != "ok"]
    assert not failed, f"{len(failed)} of {len(outcomes)} opens failed: {failed[:3]}"
    for p in fresh + old:
        db = sqlite3.connect(p)
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = [r[1] for r in db.execute("PRAGMA table_info(sessions)")]
        assert columns.count("overall") == 1
        db.close()


def test_a_database_held_locked_is_busy_not_broken(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    other = sqlite3.connect(path, isolation_level=None)  # another viva, in the middle of creating it
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StoreError) as err:
        Store(path, timeout=0)
    assert "locked" in str(err.value) and MOVE_ASIDE not in str(err.value)
    other.execute("ROLLBACK")
    other.close()
    Store(path).close()  # and once it is free, it opens


# -- 2. two resumes of one session -------------------------------------------------------------


def test_a_second_resume_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    store = Store(tmp_path / DB_NAME)
    sid = active_record(store).record.id
    store.close()
    first, second = Store(tmp_path / DB_NAME), Store(tmp_path / DB_NAME)
    record = first.resume(sid[:6])
    with pytest.raises(SessionInUse, match=f"session {sid} is open in another viva"):
        second.resume(sid)
    # Nor can it write behind the first one's back (the TUI's path: load, then save).
    with pytest.raises(SessionInUse):
        second.save(second.load(sid))
    assert second.unfinished() == []  # not offered for resume while it runs
    assert first.unfinished()[0].id == sid  # its own holder still sees it
    with pytest.raises(SessionInUse):
        second.delete(sid)
    assert len(record.turns) == 1
    first.close()  # released: now the second may
    assert second.resume(sid).id == sid
    second.close()


def test_a_resume_started_while_another_ends_is_consistent(tmp_path: Path) -> None:
    """The lease is taken before the record is read: a resume sees every turn the last holder stored."""
    store = Store(tmp_path / DB_NAME)
    iv = active_record(store)
    iv.submit("b")  # a second answer, stored by the holder
    store.close()
    again = Store(tmp_path / DB_NAME)
    assert len(again.resume(iv.record.id).turns) == 2


def _hold(path: str, sid: str, report, done) -> None:  # noqa: ANN001
    try:
        store = Store(Path(path))
        store.resume(sid)
        report.put("holding")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        report.put(repr(exc))
    done.wait()  # until killed


def test_resume_works_again_after_the_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    store = Store(path)
    sid = active_record(store).record.id
    store.close()
    ctx = multiprocessing.get_context("spawn")
    report, done = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(path), sid, report, done), daemon=True)
    proc.start()
    try:
        assert report.get() == "holding"
        store = Store(path)
        with pytest.raises(SessionInUse, match=f"process {proc.pid}"):
            store.resume(sid)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # a crash: no chance to clean up
        proc.join()
    assert [s.id for s in store.unfinished()] == [sid]
    assert store.resume(sid).id == sid


def test_viva_ask_refuses_a_second_resume_before_loading_models(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    sid = active_record(store).record.id  # this process is running it
    env = os.environ | {"VIVA_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [venv_bin("viva"), "--llm", "none", "ask", "--resume", sid], input="an answer\n\n",
        capture_output=True, text=True, cwd=REPO, env=env, timeout=600,
    )
    assert out.returncode == 2, out.stderr
    assert f"session {sid} is open in another viva (process {os.getpid()})" in out.stderr
    assert "loading models" not in out.stderr and "Traceback" not in out.stderr
    store.close()


# -- 4. a full or read-only disk ----------------------------------------------------------------


def _cap_pages(store: Store) -> None:
    """Let the database grow no further: SQLite then fails writes with 'database or disk is full'."""
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_mid_interview_says_the_answer_was_not_saved(tmp_path: Path) -> None:
    store = Store(tmp_path / DB_NAME)
    iv = active_record(store)  # the first answer is stored
    list(iv.speak())
    _cap_pages(store)
    with pytest.raises(StoreError) as err:
        iv.submit("strong " + "x" * 50_000)  # needs new pages
    message = str(err.value)
    assert "disk is full" in message and "question 2" in message and "NOT saved" in message
    assert f"--resume {iv.record.id}" in message and MOVE_ASIDE not in message
    assert isinstance(err.value.__cause__, sqlite3.OperationalError)  # SQLite's own error, told as a VivaError
    store.close()
    again = Store(tmp_path / DB_NAME)  # nothing half-written; the session resumes from its first answer
    record = again.resume(iv.record.id)
    assert [t.answer for t in record.turns] == ["partial"]


def test_a_full_disk_in_viva_ask_is_a_message_not_a_traceback(monkeypatch, capsys, tmp_path: Path) -> None:  # noqa: ANN001
    import agent.session

    real_open = Store.open.__func__

    def capped_open(cls, directory=None):  # noqa: ANN001, ANN202
        store = real_open(cls, directory)
        _cap_pages(store)
        return store

    def fake_build(config, *, llm=None, embedder=None, sink=None, record=None):  # noqa: ANN001, ANN202
        return interview(SessionConfig(track="applied-nlp", level="junior", topics=("alpha",)), sink=sink, record=record)

    monkeypatch.setattr(Store, "open", classmethod(capped_open))
    monkeypatch.setattr(agent.session, "build_interview", fake_build)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("partial " + "y" * 50_000 + "\n\n"))
    code = main(["--llm", "none", "ask", "--topic", "dropout", "--level", "junior"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out.splitlines()[0].endswith("?")  # the question was asked ...
    assert (
        "viva: error:" in err and "disk is full" in err and "question 1" in err and "NOT saved" in err
    )  # ... the answer is not lost silently
    assert MOVE_ASIDE not in err


def test_a_full_data_dir_at_open(monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    import agent.store

    real = sqlite3.connect

    def full(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        db = real(*args, **kwargs)
        db.execute("PRAGMA max_page_count = 1")  # no room for the schema
        return db

    monkeypatch.setattr(agent.store.sqlite3, "connect", full)
    with pytest.raises(StoreError) as err:
        Store(tmp_path / DB_NAME)
    assert "disk is full" in str(err.value) and MOVE_ASIDE not in str(err.value)


@pytest.mark.parametrize("existing", [False, True], ids=["new", "old-schema"])
def test_a_read_only_database_at_open(monkeypatch, tmp_path: Path, existing: bool) -> None:  # noqa: ANN001
    import agent.store

    path = tmp_path / DB_NAME
    if existing:
        v1_database(path)
    before = path.read_bytes() if existing else None
    real = sqlite3.connect

    def read_only(database, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        return real(f"file:{database}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(agent.store.sqlite3, "connect", read_only)
    with pytest.raises(StoreError) as err:
        Store(path)
    assert "read-only" in str(err.value) and MOVE_ASIDE not in str(err.value)
    if existing:
        assert path.read_bytes() == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions do not bind root")
def test_a_read_only_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "ro"
    data.mkdir()
    data.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="read-only") as err:
            Store.open(data)
        assert MOVE_ASIDE not in str(err.value)
    finally:
        data.chmod(0o755)


# -- 5. files viva did not write stay byte-exact --------------------------------------------


def test_a_newer_schema_is_refused_before_any_change(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    Store(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=DELETE")  # a newer viva that went back to a rollback journal
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    assert before[18:20] == b"\x01\x01"  # rollback journal
    with pytest.raises(StoreError, match="newer viva"):
        Store(path)
    assert path.read_bytes() == before  # not switched to WAL (bytes 18-19), nothing else either
    assert not path.with_name(DB_NAME + "-wal").exists()


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE recipes (name TEXT, steps TEXT)")
    db.execute("INSERT INTO recipes VALUES ('bread', 'knead')")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not viva's") as err:
        Store(path)
    assert "recipes" in str(err.value)
    assert path.read_bytes() == before
    tables = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["recipes"]


def test_a_database_that_claims_a_viva_version_without_its_tables_is_refused(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE other (x)")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not viva's"):
        Store(path)
    assert path.read_bytes() == before


# -- 6. import validates everything; ids are not patterns -------------------------------------


def export_dict() -> dict:
    from agent.export import to_json

    return json.loads(to_json(finished_record(["strong", "partial", "weak"])))


def _set(data: dict, dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    node: object = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]  # type: ignore[index]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value  # type: ignore[index]


BAD_IMPORTS = [
    ("version", "2", "version: expected a whole number"),
    ("version", 2, "newer viva"),
    ("version", None, "version: expected a whole number"),
    ("turns.0.score", 1e308, "turns[0].score: 1e+308 is not a number between 0 and 5"),
    ("turns.0.score", math.inf, "turns[0].score: inf is not a number between 0 and 5"),
    ("turns.0.score", math.nan, "turns[0].score: nan is not"),
    ("turns.0.score", -5, "turns[0].score: -5 is not a number between 0 and 5"),
    ("turns.0.score", "5", "turns[0].score: expected a number, got '5'"),
    ("turns.0.rung_score", True, "turns[0].rung_score: expected a number"),
    ("started_at", "yesterday", "started_at: 'yesterday' is not a time"),
    ("started_at", 1e300, "started_at: 1e+300 is not a time"),
    ("ended_at", [], "ended_at: expected a time"),
    ("turns.1.at", "2024-13-45", "turns[1].at: '2024-13-45' is not a time"),
    ("status", "hacked", "status: 'hacked' is not one of: active, finished, abandoned"),
    ("id", "%", "id: '%' is not a valid id"),
    ("id", "", "id: '' is not a valid id"),
    ("id", "a" * 100_000, "id: 'aaaa"),
    ("id", "../../etc", "is not a valid id"),
    ("id", 7, "id: 7 is not a valid id"),
    ("topics", ["ok", 3], "topics[1]: 3 is not a valid id"),
    ("turns.0.index", 5, "turns[0].index: is 5, expected 0"),
    ("turns.0.answer", 42, "turns[0].answer: expected text, got 42"),
    ("turns.0.answer", "bad \udc80 text", "turns[0].answer: not valid Unicode"),
    ("turns.0.hinted", "yes", "turns[0].hinted: expected true or false"),
    ("turns.0.question.kind", "interrogation", "turns[0].question.kind: 'interrogation' is not one of"),
    ("turns.0.question.depth", 1.5, "turns[0].question.depth: expected a whole number"),
    ("turns.0.decision.action", "explode", "turns[0].decision.action: 'explode' is not one of"),
    ("turns.0.grade.key_points", "all of them", "turns[0].grade.key_points: expected a list"),
    ("turns.0.grade.key_points.0.hit", 1, "turns[0].grade.key_points[0].hit: expected true or false"),
    # Every key Grade.from_dict reads is checked, so a bad one is named instead of a traceback.
    ("turns.0.grade.score", "high", "turns[0].grade.score: expected a number"),
    ("turns.0.grade.score", 7, "turns[0].grade.score: 7 is not a number between 0 and 5"),
    ("turns.0.grade.gist", "close", "turns[0].grade.gist: expected a number"),
    ("turns.0.grade.judged_on", ["x"], "turns[0].grade.judged_on: expected text"),
    ("turns.0.grade.focus", "rung", "turns[0].grade.focus: expected an object"),
    ("turns.0.grade.focus.kind", "vibes", "turns[0].grade.focus.kind: 'vibes' is not one of: rung, key-point, misconception"),
    ("turns.0.grade.flags", [3], "turns[0].grade.flags[0]: expected text"),
    ("turns.0.grade.key_points.0.weight", "heavy", "turns[0].grade.key_points[0].weight: expected a number"),
    ("turns.0.grade.key_points.0.credit", None, "turns[0].grade.key_points[0].credit: expected a number"),
    ("turns.0.grade.key_points.0.asked", "no", "turns[0].grade.key_points[0].asked: expected true or false"),
    ("turns.0.grade.key_points.0.span", [5], "turns[0].grade.key_points[0].span: expected [start, end]"),
    ("turns.0.grade.contradictions", [{"point": 3}], "turns[0].grade.contradictions[0].point: 3 is not a valid id"),
    ("turns.0.grade.contradictions", [{"text": "x"}], "turns[0].grade.contradictions[0].point: missing"),
    ("turns.0.grade.contradictions", [{"point": "a", "span": "0-5"}], "turns[0].grade.contradictions[0].span: expected"),
    ("turns.0.grade.contradictions", [{"point": "a", "kind": 1}], "turns[0].grade.contradictions[0].kind: expected text"),
    ("turns.0.grade.newer", float("nan"), "turns[0].grade.newer: nan is not a number"),
    ("turns.0.question.surprise", 1, "turns[0].question.surprise: unknown field"),
    ("config.track", "astrology", "config.track: 'astrology' is not one of"),
    ("config.n_topics", "3", "config.n_topics: expected a whole number"),
    ("models.llm", "\x1b]0;pwned\x07", "models.llm: '\\x1b]0;pwned\\x07' holds control characters"),
    ("turns", {"0": 1}, "turns: expected a list"),
    ("extra", 1, "extra: unknown field"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_IMPORTS, ids=[f"{f}={str(v)[:12]}" for f, v, _ in BAD_IMPORTS])
def test_import_refuses_a_bad_field_by_name(capsys, tmp_path: Path, field: str, value: object, message: str) -> None:  # noqa: ANN001
    data = export_dict()
    _set(data, field, value)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")  # NaN and Infinity written as JSON's non-standard literals
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"viva: error: {path}: ") and message in err, err
    assert len(err) < 2000
    assert Store.open().list() == []


@pytest.mark.parametrize(
    "text",
    ['{"format": "viva-session", "version": 1, "id": ' + "[" * 100_000 + "]" * 100_000 + "}", '{"version": 1' + "0" * 5000 + "}"],
    ids=["nested-100k", "5000-digit-number"],
)
def test_import_refuses_json_python_cannot_hold(capsys, tmp_path: Path, text: str) -> None:  # noqa: ANN001
    path = tmp_path / "bad.json"
    path.write_text(text)
    assert main(["import", str(path)]) == 2
    assert "not JSON" in capsys.readouterr().err


def test_import_takes_iso_dates(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    data = export_dict()
    data["started_at"] = "2024-05-01T10:00:00+00:00"
    data["turns"][0]["at"] = "2024-05-01T10:01:00Z"
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(data))
    assert main(["import", str(path)]) == 0, capsys.readouterr().err
    record = Store.open().load(data["id"])
    assert record.started_at == 1714557600.0 and record.turns[0].at == 1714557660.0


def test_history_json_never_prints_infinity_or_nan(capsys) -> None:  # noqa: ANN001
    store = Store.open()
    record = finished_record()
    store.save(record)
    # Rows written before imports were checked: an infinite overall and turn score.
    store.db.execute("UPDATE sessions SET overall = ?, duration_s = ? WHERE id = ?", (math.inf, -math.inf, record.id))
    store.db.execute("UPDATE turns SET score = ? WHERE session_id = ? AND idx = 0", (math.inf, record.id))
    store.close()

    def strict(text: str):  # noqa: ANN202
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))

    assert main(["history", "--json"]) == 0
    [row] = strict(capsys.readouterr().out)
    assert row["id"] == record.id and row["overall"] is None and row["duration_s"] == 0.0
    assert main(["history"]) == 0
    capsys.readouterr()
    assert main(["progress", "--json"]) == 0
    report = strict(capsys.readouterr().out)
    assert all(math.isfinite(s) for t in report["topics"].values() for _, s in t["scores"])


def test_delete_does_not_treat_the_id_as_a_pattern(capsys) -> None:  # noqa: ANN001
    store = Store.open()
    a, b = finished_record(), finished_record()
    a.status = b.status = "finished"
    store.save(a)
    store.save(b)
    for pattern in ("%", "_" * len(a.id), "%%", a.id[:3] + "%", "", " "):
        assert main(["delete", pattern, "--yes"]) == 2, pattern
    err = capsys.readouterr().err
    assert "no session '%'" in err and "give a session id" in err
    assert {s.id for s in store.list()} == {a.id, b.id}
    assert main(["delete", a.id[:8], "--yes"]) == 0  # a real prefix still works
    assert [s.id for s in store.list()] == [b.id]


def test_an_exact_id_wins_over_longer_ids_it_starts(tmp_path: Path) -> None:
    store = Store(tmp_path / DB_NAME)
    short, long = finished_record(), finished_record()
    short.id, long.id = "abc123", "abc1234567"
    short.status = long.status = "finished"
    store.save(short)
    store.save(long)
    assert store.resolve("abc123") == "abc123"
    assert store.resolve("abc1234") == "abc1234567"
    with pytest.raises(DataError, match="matches several"):
        store.resolve("abc")


def test_the_store_refuses_to_store_what_it_could_not_read_back(tmp_path: Path) -> None:
    store = Store(tmp_path / DB_NAME)
    record = finished_record()
    record.turns[0].score = math.nan
    with pytest.raises(StoreError, match=r"turns\[0\].score: nan"):
        store.save(record)
    assert store.list() == []
