"""The transcript store: every interview in SQLite, committed turn by turn.

Why SQLite (stdlib ``sqlite3``) in WAL mode: one file in the user data dir, atomic
commits (a ``kill -9`` mid-session loses at most the answer being typed), several
processes may write at once (a CLI session beside the TUI), and a history of 10,000
sessions lists in milliseconds from the ``sessions`` summary table.

Schema versions live in ``PRAGMA user_version``; :data:`MIGRATIONS` upgrades an older
database in place, forward only.  A file at the database path that is not an SQLite
database (or is corrupt) is never overwritten: opening it raises :class:`StoreError`
naming the file.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from agent.record import SessionRecord, Turn
from viva.errors import DataError

DB_NAME = "transcripts.sqlite3"
SCHEMA_VERSION = 2


class StoreError(DataError):
    """The database cannot be used; the message names the file."""


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run several statements inside the caller's transaction (``executescript`` would commit)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            started_at REAL NOT NULL,
            ended_at REAL,
            status TEXT NOT NULL,
            track TEXT NOT NULL,
            level TEXT NOT NULL,
            topics TEXT NOT NULL,
            config TEXT NOT NULL,
            models TEXT NOT NULL,
            closing TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE turns (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            at REAL NOT NULL,
            topic TEXT NOT NULL,
            rung TEXT NOT NULL,
            score REAL NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (session_id, idx)
        );
        """
    )


def _v2(db: sqlite3.Connection) -> None:
    """Summary columns so the history list never has to read turns."""
    _script(
        db,
        """
        ALTER TABLE sessions ADD COLUMN overall REAL;
        ALTER TABLE sessions ADD COLUMN duration_s REAL NOT NULL DEFAULT 0;
        ALTER TABLE sessions ADD COLUMN n_turns INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX sessions_started ON sessions(started_at DESC);
        CREATE INDEX turns_topic ON turns(topic);
        """
    )
    # Back-fill the summaries of sessions written by version 1.
    for (sid,) in db.execute("SELECT id FROM sessions").fetchall():
        row = db.execute("SELECT COUNT(*), MAX(at) FROM turns WHERE session_id = ?", (sid,)).fetchone()
        db.execute("UPDATE sessions SET n_turns = ? WHERE id = ?", (row[0], sid))


MIGRATIONS = {1: _v1, 2: _v2}


@dataclass
class SessionSummary:
    """One row of the history list."""

    id: str
    started_at: float
    status: str
    track: str
    level: str
    topics: list[str]
    overall: float | None
    duration_s: float
    n_turns: int

    def to_dict(self) -> dict:
        return self.__dict__.copy()


class Store:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._check_file()
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable viva database ({exc}); move it aside to start a new one") from exc

    @classmethod
    def open(cls, directory: Path | None = None) -> Store:
        from viva.paths import data_dir

        return cls((directory or data_dir()) / DB_NAME)

    def _check_file(self) -> None:
        if not self.path.exists():
            return
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, expected the transcript database")
        with self.path.open("rb") as fh:
            head = fh.read(16)
        if head and head != b"SQLite format 3\x00":
            raise StoreError(f"{self.path}: not an SQLite database; viva will not overwrite it (move it aside to start a new one)")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer viva (schema {version} > {SCHEMA_VERSION}); upgrade viva")
        while version < SCHEMA_VERSION:
            version += 1
            with self._tx():
                MIGRATIONS[version](self.db)
                self.db.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    # -- writing ---------------------------------------------------------------------

    def save(self, record: SessionRecord) -> None:
        """Upsert the session and every turn not yet stored, in one transaction."""
        with self._tx():
            self._write_session(record)
            have = self.db.execute("SELECT COUNT(*) FROM turns WHERE session_id = ?", (record.id,)).fetchone()[0]
            for turn in record.turns[have:]:
                self._write_turn(record.id, turn)

    def _write_session(self, r: SessionRecord) -> None:
        self.db.execute(
            """INSERT INTO sessions (id, started_at, ended_at, status, track, level, topics, config, models, closing,
                                     overall, duration_s, n_turns)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(id) DO UPDATE SET ended_at=excluded.ended_at, status=excluded.status,
                   topics=excluded.topics, models=excluded.models, closing=excluded.closing,
                   overall=excluded.overall, duration_s=excluded.duration_s, n_turns=excluded.n_turns""",
            (
                r.id, r.started_at, r.ended_at, r.status, r.config.track, r.config.level, json.dumps(r.topics),
                json.dumps(r.config.to_dict()), json.dumps(r.models), r.closing, r.overall, r.duration_s, len(r.turns),
            ),
        )

    def _write_turn(self, session_id: str, t: Turn) -> None:
        from dataclasses import asdict

        self.db.execute(
            "INSERT OR REPLACE INTO turns (session_id, idx, at, topic, rung, score, data) VALUES (?,?,?,?,?,?,?)",
            (session_id, t.index, t.at, t.question.topic, t.question.rung, t.score, json.dumps(asdict(t), ensure_ascii=False)),
        )

    def set_status(self, session_id: str, status: str) -> None:
        with self._tx():
            self.db.execute("UPDATE sessions SET status = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ?", (status, time.time(), session_id))

    def delete(self, session_id: str) -> bool:
        with self._tx():
            cur = self.db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        return cur.rowcount > 0

    # -- reading ---------------------------------------------------------------------------

    def list(self, limit: int | None = None, status: str | None = None) -> list[SessionSummary]:
        sql = "SELECT id, started_at, status, track, level, topics, overall, duration_s, n_turns FROM sessions"
        args: list = []
        if status:
            sql += " WHERE status = ?"
            args.append(status)
        sql += " ORDER BY started_at DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [
            SessionSummary(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8])
            for r in self.db.execute(sql, args)
        ]

    def resolve(self, prefix: str) -> str:
        """A full session id from a unique prefix (as `viva history` shows them)."""
        rows = self.db.execute("SELECT id FROM sessions WHERE id LIKE ? || '%' LIMIT 2", (prefix,)).fetchall()
        if not rows:
            raise DataError(f"no session '{prefix}' (see `viva history`)")
        if len(rows) > 1:
            raise DataError(f"'{prefix}' matches several sessions; give more of the id")
        return rows[0][0]

    def load(self, session_id: str) -> SessionRecord:
        sid = self.resolve(session_id)
        row = self.db.execute(
            "SELECT id, started_at, ended_at, status, topics, config, models, closing FROM sessions WHERE id = ?", (sid,)
        ).fetchone()
        turns = [json.loads(d) for (d,) in self.db.execute("SELECT data FROM turns WHERE session_id = ? ORDER BY idx", (sid,))]
        return SessionRecord.from_dict(
            {
                "id": row[0], "started_at": row[1], "ended_at": row[2], "status": row[3], "topics": json.loads(row[4]),
                "config": json.loads(row[5]), "models": json.loads(row[6]), "closing": row[7], "turns": turns,
            }
        )

    def unfinished(self) -> list[SessionSummary]:
        """Sessions left active by a crash or a closed terminal: offer to resume them."""
        return self.list(status="active")

    def topic_history(self) -> dict[str, list[tuple[float, float]]]:
        """Per topic: (time, score) of every answered turn, oldest first."""
        out: dict[str, list[tuple[float, float]]] = {}
        for topic, at, score in self.db.execute("SELECT topic, at, score FROM turns ORDER BY at"):
            out.setdefault(topic, []).append((at, score))
        return out
