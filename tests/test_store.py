"""The transcript store: durability, concurrency, migration, bad files, exact text."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from helpers import NASTY, finished_record, interview, run

from agent.config import SessionConfig
from agent.store import DB_NAME, SCHEMA_VERSION, Store, StoreError


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path / DB_NAME)
    record = finished_record()
    store.save(record)
    loaded = store.load(record.id[:6])
    assert loaded.to_dict() == record.to_dict()
    [row] = store.list()
    assert row.id == record.id and row.n_turns == len(record.turns) and row.overall == record.overall


def test_each_save_adds_only_new_turns_and_updates_the_summary(tmp_path: Path) -> None:
    store = Store(tmp_path / DB_NAME)
    seen = []
    iv = interview(
        SessionConfig(track="applied-nlp", level="junior", topics=("alpha",)),
        sink=lambda r: (store.save(r), seen.append(store.load(r.id))),
    )
    run(iv, ["partial", "b", "strong", "strong"])
    assert [len(r.turns) for r in seen] == [1, 2, 3, 4]
    assert store.list()[0].status == "finished"


def test_text_is_stored_exactly(tmp_path: Path) -> None:
    store = Store(tmp_path / DB_NAME)
    record = finished_record([NASTY, "strong"])
    store.save(record)
    again = Store(tmp_path / DB_NAME).load(record.id)
    assert again.turns[0].answer == NASTY


def test_a_non_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    path.write_text("my precious notes, not a database\n")
    with pytest.raises(StoreError, match="not an SQLite database; viva will not overwrite it"):
        Store(path)
    assert path.read_text() == "my precious notes, not a database\n"


def test_a_corrupt_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=str(path)):
        Store(path)
    assert path.read_bytes() == before


def test_an_old_schema_migrates(tmp_path: Path) -> None:
    from agent.store import MIGRATIONS

    path = tmp_path / DB_NAME
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    MIGRATIONS[1](db)
    db.execute("PRAGMA user_version = 1")
    db.execute("COMMIT")
    record = finished_record()
    db.execute(
        "INSERT INTO sessions (id, started_at, ended_at, status, track, level, topics, config, models, closing) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            record.id,
            record.started_at,
            record.ended_at,
            "finished",
            "applied-nlp",
            "junior",
            json.dumps(record.topics),
            json.dumps(record.config.to_dict()),
            "{}",
            "",
        ),
    )

    for t in record.turns:
        db.execute(
            "INSERT INTO turns VALUES (?,?,?,?,?,?,?)",
            (record.id, t.index, t.at, t.question.topic, t.question.rung, t.score, json.dumps(t.to_dict())),
        )
    db.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    [row] = store.list()
    assert row.n_turns == len(record.turns)
    assert [t.answer for t in store.load(record.id).turns] == [t.answer for t in record.turns]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(StoreError, match="newer viva"):
        Store(path)


def _writer(path: str, n: int, tag: str) -> None:
    store = Store(Path(path))
    for i in range(n):
        record = finished_record(["strong", tag + str(i)])
        store.save(record)


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    Store(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), 15, tag)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert len(Store(path).list()) == 30


def test_delete_and_unfinished(tmp_path: Path) -> None:
    store = Store(tmp_path / DB_NAME)
    done = finished_record()
    iv = interview(SessionConfig(track="applied-nlp", level="junior", topics=("alpha", "beta")))
    run(iv, ["partial"])
    store.save(done)
    store.save(iv.record)
    assert [s.id for s in store.unfinished()] == [iv.record.id]
    store.set_status(iv.record.id, "abandoned")
    assert store.unfinished() == []
    assert store.delete(done.id) and not store.delete(done.id)
    assert [s.id for s in store.list()] == [iv.record.id]
