"""The transcript store: every interview in SQLite, committed turn by turn.

Why SQLite (stdlib ``sqlite3``) in WAL mode: one file in the user data dir, atomic
commits (a ``kill -9`` mid-session loses at most the answer being typed), several
processes may write at once (a CLI session beside the TUI), and a history of 10,000
sessions lists in milliseconds from the ``sessions`` summary table.

This module owns every SQL statement viva runs; the rest of viva gets typed values
(:class:`SessionSummary`, :class:`TopicSessionScore`, :class:`SessionRecord`).

Opening is safe when several processes start at once on a new data dir: the schema is
checked and created (or migrated, forward only, through :data:`MIGRATIONS`; versions
live in ``PRAGMA user_version``) inside one ``BEGIN IMMEDIATE`` transaction, so one
process does it and the others wait (busy timeout) and then find it done.

Files viva did not write stay byte-exact: before anything is changed (the switch to
WAL included) the file is checked to be viva's.  A file that is not SQLite, another
program's SQLite database, or one written by a newer viva is refused with
:class:`StoreError` naming the file.  Problems of the place rather than the file - a
read-only or full data dir, a database held locked, a disk error - get their own
messages, never the "move it aside" advice.

Everything stored is validated first (:func:`validate_session`: the import of an
export goes through it too): known status, finite scores within 0-5, sane ids, the
right types.  A session being run is leased to the process running it (an ``flock``
on a small file beside the database, which the kernel releases when the process dies,
``kill -9`` included), so a second ``--resume`` of the same session is refused while
the first runs, and works again the moment it has exited or crashed.
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import json
import math
import os
import re
import sqlite3
import time
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.config import SessionConfig
from agent.record import RECORD_VERSION, Decision, Question, QuestionKind, SessionRecord, Status, Turn
from core.errors import DataError, VivaError
from core.tracks import FOLLOW_UP_LIMITS, LEVEL_IDS, TOPIC_LIMITS, TRACK_IDS
from rubrics.grade import FOCUS_KINDS

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, leases are not enforced
    HAVE_FLOCK = False
else:
    HAVE_FLOCK = True

DB_NAME = "transcripts.sqlite3"
SCHEMA_VERSION = 2
VIVA_TABLES = frozenset({"sessions", "turns"})


class StoreError(DataError):
    """The database cannot be used; the message names the file."""


class SessionInUse(StoreError):
    """The session is being run by another viva process."""


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


# -- validation -------------------------------------------------------------------------

STATUSES: tuple[str, ...] = typing.get_args(Status)
KINDS: tuple[str, ...] = typing.get_args(QuestionKind)
ACTIONS: tuple[str, ...] = typing.get_args(typing.get_type_hints(Decision)["action"])
# What Grade.to_dict writes (and Grade.from_dict reads); each has its own rule in _validate_grade.
GRADE_KEYS = {"score", "raw", "gist", "flags", "focus", "judged_on", "key_points", "misconceptions", "contradictions"}
SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # topic, rung, key point, misconception ids
MAX_TEXT = 1_000_000  # characters in one answer, question or remark
MAX_NAME = 200  # a passage id, a model name, a flag
MAX_ITEMS = 1_000  # turns in a session, key points in a grade...
LATEST_TIME = 32_503_680_000.0  # 3000-01-01, seconds since the epoch


def _show(value: object) -> str:
    """A value quoted for an error message: control characters escaped, bounded length."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Checker:
    """Checks one session dict, naming the field of the first problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, problem: str) -> DataError:
        return DataError(f"{self.source}: {field}: {problem}")

    def obj(self, v: object, field: str, allowed: set[str], required: set[str] | frozenset[str] = frozenset()) -> dict:
        if not isinstance(v, dict):
            raise self.fail(field, f"expected an object, got {_show(v)}")
        for key in v:
            if key not in allowed:
                raise self.fail(f"{field}.{key}" if field else str(key), "unknown field")
        for key in sorted(required):
            if key not in v:
                raise self.fail(f"{field}.{key}" if field else key, "missing")
        return v

    def list(self, v: object, field: str) -> list:
        if not isinstance(v, list):
            raise self.fail(field, f"expected a list, got {_show(v)}")
        if len(v) > MAX_ITEMS:
            raise self.fail(field, f"more than {MAX_ITEMS} items")
        return v

    def text(self, v: object, field: str, max_len: int = MAX_TEXT, optional: bool = False) -> str | None:
        if v is None and optional:
            return None
        if not isinstance(v, str):
            raise self.fail(field, f"expected text, got {_show(v)}")
        if len(v) > max_len:
            raise self.fail(field, f"longer than {max_len:,} characters")
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise self.fail(field, "not valid Unicode text (it holds a lone surrogate)") from None
        return v

    def name(self, v: object, field: str, optional: bool = False) -> str | None:
        """A short label (passage id, model name, flag): printable, bounded."""
        s = self.text(v, field, MAX_NAME, optional)
        if s is not None and not s.isprintable():
            raise self.fail(field, f"{_show(s)} holds control characters")
        return s

    def slug(self, v: object, field: str, optional: bool = False, pattern: re.Pattern = SLUG) -> str | None:
        if v is None and optional:
            return None
        if not isinstance(v, str) or not pattern.fullmatch(v):
            limit = 64 if pattern is SESSION_ID else 100
            raise self.fail(
                field, f"{_show(v)} is not a valid id (1-{limit} letters, digits, '-' or '_', starting with a letter or digit)"
            )
        return v

    def number(self, v: object, field: str, lo: float, hi: float, optional: bool = False) -> float | None:
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(field, f"expected a number, got {_show(v)}")
        if not math.isfinite(v) or not lo <= v <= hi:
            raise self.fail(field, f"{_show(v)} is not a number between {lo:g} and {hi:g}")
        return v

    @typing.overload
    def integer(self, v: object, field: str, lo: int, hi: int) -> int: ...
    @typing.overload
    def integer(self, v: object, field: str, lo: int, hi: int, optional: bool) -> int | None: ...
    def integer(self, v: object, field: str, lo: int, hi: int, optional: bool = False) -> int | None:
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(field, f"expected a whole number, got {_show(v)}")
        if not lo <= v <= hi:
            raise self.fail(field, f"{v} is not between {lo} and {hi}")
        return v

    def flag(self, v: object, field: str) -> bool:
        if not isinstance(v, bool):
            raise self.fail(field, f"expected true or false, got {_show(v)}")
        return v

    def choice(self, v: object, field: str, options: tuple[str, ...] | dict) -> str:
        if not isinstance(v, str) or v not in options:
            raise self.fail(field, f"{_show(v)} is not one of: {', '.join(options)}")
        return v

    def when(self, v: object, field: str, optional: bool = False) -> float | None:
        """A time: seconds since the epoch, or an ISO 8601 date (converted to seconds)."""
        if v is None and optional:
            return None
        if isinstance(v, str):
            try:
                v = datetime.fromisoformat(v).timestamp()
            except (ValueError, OverflowError, OSError):
                raise self.fail(field, f"{_show(v)} is not a time (seconds since 1970 or an ISO 8601 date)") from None
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(field, f"expected a time (seconds since 1970 or an ISO 8601 date), got {_show(v)}")
        if not math.isfinite(v) or not 0 <= v <= LATEST_TIME:
            raise self.fail(field, f"{_show(v)} is not a time between 1970 and 3000")
        return float(v)


def _fields(cls: type) -> tuple[set[str], set[str]]:
    """A record dataclass's field names, and those without a default (the JSON must have them)."""
    names = {f.name for f in dataclasses.fields(cls)}
    required = {
        f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    return names, required


def _plain(c: _Checker, v: Any, field: str, depth: int = 0) -> None:
    """A field this check has no rule for (one a newer record added): plain, finite, bounded JSON."""
    if v is None or isinstance(v, bool):
        return
    if isinstance(v, (int, float)):
        c.number(v, field, -1e15, 1e15)
    elif isinstance(v, str):
        c.text(v, field)
    elif isinstance(v, (list, dict)) and depth < 8:
        items = v.items() if isinstance(v, dict) else enumerate(c.list(v, field))
        if len(v) > MAX_ITEMS:
            raise c.fail(field, f"more than {MAX_ITEMS} items")
        for k, x in items:
            _plain(c, x, f"{field}.{k}" if isinstance(v, dict) else f"{field}[{k}]", depth + 1)
    else:
        raise c.fail(field, f"unexpected value {_show(v)}")


def validate_session(data: Any, source: str = "session", first_turn: int = 0) -> dict:
    """Check a session in :meth:`SessionRecord.to_dict` shape (as exported); return it cleaned.

    Raises :class:`DataError` naming ``source`` and the field of the first problem.  Times
    may be given as ISO 8601 dates; they come back as seconds since the epoch.  The
    export's ``format`` key is dropped.  ``first_turn`` is the index the first turn
    listed must have (a store saving only the turns it does not have yet).
    """
    c = _Checker(source)
    names, _ = _fields(SessionRecord)
    c.obj(data, "", names | {"version", "format"}, {"version", "id", "started_at", "status", "config"})
    version = c.integer(data["version"], "version", 1, 10**9)
    if version > RECORD_VERSION:
        raise DataError(f"{source}: written by a newer viva (version {version} > {RECORD_VERSION}); upgrade viva")
    out: dict[str, Any] = {
        "id": c.slug(data["id"], "id", pattern=SESSION_ID),
        "started_at": c.when(data["started_at"], "started_at"),
        "ended_at": c.when(data.get("ended_at"), "ended_at", optional=True),
        "status": c.choice(data["status"], "status", STATUSES),
        "topics": [c.slug(t, f"topics[{i}]") for i, t in enumerate(c.list(data.get("topics", []), "topics"))],
        "closing": c.text(data.get("closing", ""), "closing"),
    }
    models = data.get("models", {})
    c.obj(models, "models", set(models) if isinstance(models, dict) else set())
    out["models"] = {c.name(k, "models"): c.name(v, f"models.{k}") for k, v in models.items()}

    names, _ = _fields(SessionConfig)
    cfg = c.obj(data["config"], "config", names)
    config = dict(cfg)
    for key in names - {"track", "level", "n_topics", "topics", "max_follow_ups", "hint_penalty", "seed", "show_scores"}:
        if key in cfg:
            _plain(c, cfg[key], f"config.{key}")
    if "track" in cfg:
        c.choice(cfg["track"], "config.track", TRACK_IDS)
    if "level" in cfg:
        c.choice(cfg["level"], "config.level", LEVEL_IDS)
    if "n_topics" in cfg:
        c.integer(cfg["n_topics"], "config.n_topics", *TOPIC_LIMITS)
    if "topics" in cfg:
        config["topics"] = [c.slug(t, f"config.topics[{i}]") for i, t in enumerate(c.list(cfg["topics"], "config.topics"))]
    if "max_follow_ups" in cfg:
        c.integer(cfg["max_follow_ups"], "config.max_follow_ups", *FOLLOW_UP_LIMITS)
    if "hint_penalty" in cfg:
        c.number(cfg["hint_penalty"], "config.hint_penalty", 0, 5)
    if "seed" in cfg:
        c.integer(cfg["seed"], "config.seed", -(2**63), 2**63 - 1, optional=True)
    if "show_scores" in cfg:
        c.flag(cfg["show_scores"], "config.show_scores")
    out["config"] = config

    out["turns"] = [
        _validate_turn(c, t, f"turns[{i}]", first_turn + i) for i, t in enumerate(c.list(data.get("turns", []), "turns"))
    ]
    for key in _fields(SessionRecord)[0] - set(out) - {"config"}:
        if key in data:  # a field a newer record added
            _plain(c, data[key], key)
            out[key] = data[key]
    return out


def _obj_of(c: _Checker, v: Any, field: str, cls: type, checked: set[str]) -> dict:
    """An object holding the fields of record dataclass ``cls``: unknown keys refused,
    required ones present, and the ones without a rule of their own checked as plain JSON."""
    names, required = _fields(cls)
    c.obj(v, field, names, required)
    for key in names - checked:
        if key in v:
            _plain(c, v[key], f"{field}.{key}")
    return v


def _validate_turn(c: _Checker, t: Any, f: str, index: int) -> dict:
    _obj_of(
        c,
        t,
        f,
        Turn,
        {
            "index",
            "question",
            "answer",
            "grade",
            "score",
            "rung_score",
            "decision",
            "hinted",
            "skipped",
            "answer_s",
            "grade_ms",
            "at",
        },
    )
    if c.integer(t["index"], f"{f}.index", 0, MAX_ITEMS) != index:
        raise c.fail(f"{f}.index", f"is {t['index']}, expected {index} (turns are numbered 0, 1, 2, ... in order)")
    q = _obj_of(c, t["question"], f"{f}.question", Question, {
        "topic", "rung", "depth", "kind", "intended", "text", "fell_back", "fallback_reason", "key_point", "passage",
        "generation_s", "first_token_s",
    })  # fmt: skip
    c.slug(q["topic"], f"{f}.question.topic")
    c.slug(q["rung"], f"{f}.question.rung")
    c.integer(q["depth"], f"{f}.question.depth", 1, 10)
    c.choice(q["kind"], f"{f}.question.kind", KINDS)
    c.text(q["intended"], f"{f}.question.intended")
    c.text(q.get("text", ""), f"{f}.question.text")
    c.flag(q.get("fell_back", False), f"{f}.question.fell_back")
    c.text(q.get("fallback_reason", ""), f"{f}.question.fallback_reason", 10_000)
    c.slug(q.get("key_point"), f"{f}.question.key_point", optional=True)
    c.name(q.get("passage"), f"{f}.question.passage", optional=True)
    c.number(q.get("generation_s", 0.0), f"{f}.question.generation_s", 0, 1e7)
    c.number(q.get("first_token_s"), f"{f}.question.first_token_s", 0, 1e7, optional=True)

    c.text(t["answer"], f"{f}.answer")
    _validate_grade(c, t["grade"], f"{f}.grade")
    c.number(t["score"], f"{f}.score", 0, 5)
    c.number(t["rung_score"], f"{f}.rung_score", 0, 5)
    d = _obj_of(c, t["decision"], f"{f}.decision", Decision, {"action", "reason", "rung", "key_point", "misconception"})
    c.choice(d["action"], f"{f}.decision.action", ACTIONS)
    c.text(d["reason"], f"{f}.decision.reason", 10_000)
    for key in ("rung", "key_point", "misconception"):
        c.slug(d.get(key), f"{f}.decision.{key}", optional=True)
    c.flag(t.get("hinted", False), f"{f}.hinted")
    c.flag(t.get("skipped", False), f"{f}.skipped")
    c.number(t.get("answer_s", 0.0), f"{f}.answer_s", 0, 1e7)
    c.number(t.get("grade_ms", 0.0), f"{f}.grade_ms", 0, 1e9)
    out = dict(t)
    if "at" in t:
        out["at"] = c.when(t["at"], f"{f}.at")
    return out


def _validate_grade(c: _Checker, g: Any, f: str) -> None:
    """Every key :meth:`rubrics.grade.Grade.from_dict` reads, with the type it reads it as.

    ``Grade.from_dict`` gives a missing key its neutral default and trusts the types of
    the rest, so a value of the wrong type must be refused here, naming the field,
    rather than surface as a traceback when the turn is read back.  Keys it does not
    read (a newer grader's) are checked as plain JSON.
    """
    c.obj(g, f, set(g) if isinstance(g, dict) else set(), {"key_points", "misconceptions", "flags"})
    c.number(g.get("score", 0.0), f"{f}.score", 0, 5)
    for key in ("raw", "gist"):
        c.number(g.get(key, 0.0), f"{f}.{key}", -1e6, 1e6)
    for i, flag in enumerate(c.list(g["flags"], f"{f}.flags")):
        c.name(flag, f"{f}.flags[{i}]")
    c.text(g.get("judged_on"), f"{f}.judged_on", 10_000, optional=True)
    focus = g.get("focus")
    if focus is not None:
        c.obj(focus, f"{f}.focus", {"kind", "id"})
        c.choice(focus.get("kind", "rung"), f"{f}.focus.kind", FOCUS_KINDS)
        c.slug(focus.get("id"), f"{f}.focus.id", optional=True)
    for i, p in enumerate(c.list(g["key_points"], f"{f}.key_points")):
        pf = f"{f}.key_points[{i}]"
        c.obj(p, pf, set(p) if isinstance(p, dict) else set(), {"id", "text", "hit"})
        c.slug(p["id"], f"{pf}.id")
        c.text(p["text"], f"{pf}.text", 10_000)
        c.flag(p["hit"], f"{pf}.hit")
        for key in ("weight", "similarity", "credit"):
            if key in p:
                c.number(p[key], f"{pf}.{key}", -1e6, 1e6)
        c.text(p.get("evidence"), f"{pf}.evidence", optional=True)
        _validate_span(c, p.get("span"), f"{pf}.span", optional=True)
        c.flag(p.get("asked", True), f"{pf}.asked")
        _plain_rest(c, p, pf, {"id", "text", "hit", "weight", "similarity", "credit", "evidence", "span", "asked"})
    for i, m in enumerate(c.list(g["misconceptions"], f"{f}.misconceptions")):
        mf = f"{f}.misconceptions[{i}]"
        c.obj(m, mf, set(m) if isinstance(m, dict) else set(), {"id", "text", "correction", "evidence"})
        c.slug(m["id"], f"{mf}.id")
        for key in ("text", "correction", "evidence"):
            c.text(m[key], f"{mf}.{key}", 10_000 if key != "evidence" else MAX_TEXT)
        if "similarity" in m:
            c.number(m["similarity"], f"{mf}.similarity", -1e6, 1e6)
        _validate_span(c, m.get("span"), f"{mf}.span", optional=True)
        _plain_rest(c, m, mf, {"id", "text", "correction", "evidence", "similarity", "span"})
    for i, x in enumerate(c.list(g.get("contradictions", []), f"{f}.contradictions")):
        xf = f"{f}.contradictions[{i}]"
        c.obj(x, xf, set(x) if isinstance(x, dict) else set(), {"point"})
        c.slug(x["point"], f"{xf}.point")
        for key in ("text", "reason"):
            c.text(x.get(key, ""), f"{xf}.{key}", 10_000)
        c.text(x.get("evidence", ""), f"{xf}.evidence")
        _validate_span(c, x.get("span"), f"{xf}.span", optional=True)
        c.name(x.get("kind", "opposite"), f"{xf}.kind")
        _plain_rest(c, x, xf, {"point", "text", "reason", "evidence", "span", "kind"})
    _plain_rest(c, g, f, GRADE_KEYS)


def _plain_rest(c: _Checker, v: dict, f: str, checked: set[str]) -> None:
    """The keys of ``v`` no rule above covers (a newer grader's): plain, finite, bounded JSON."""
    for key in sorted(set(v) - checked, key=str):
        _plain(c, v[key], f"{f}.{key}")


def _validate_span(c: _Checker, v: Any, f: str, optional: bool) -> None:
    if v is None and optional:
        return
    if not isinstance(v, list) or len(v) != 2:
        raise c.fail(f, f"expected [start, end], got {_show(v)}")
    for x in v:
        c.integer(x, f, 0, MAX_TEXT)


# -- typed results ------------------------------------------------------------------------


_D = typing.TypeVar("_D", float, "float | None")


def _finite(x: Any, default: _D, lo: float = -math.inf, hi: float = math.inf) -> float | _D:
    """A number from the database, or ``default`` if it is missing, infinite or out of range
    (rows written before everything was validated: ``history --json`` must stay valid JSON)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or not lo <= x <= hi:
        return default
    return float(x)


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


@dataclass(frozen=True)
class TopicSessionScore:
    """One topic in one session: the mean score of its answers there."""

    session_id: str
    track: str
    topic: str
    started_at: float  # the session's start
    score: float


# -- leases ------------------------------------------------------------------------------


class _Lease:
    """An exclusive ``flock`` on one file, held for as long as the file descriptor is open."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def take(cls, path: Path) -> _Lease | None:
        """The lease, or ``None`` if another process (or another store) holds it."""
        if not HAVE_FLOCK:  # pragma: no cover - no flock: leases are not enforced
            return cls(path, -1)
        path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return None
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return cls(path, fd)
            os.close(fd)  # its holder released it (and removed the file) while we waited: retry

    @staticmethod
    def held(path: Path) -> bool:
        """Whether some process holds the lease at ``path`` now."""
        if not HAVE_FLOCK:  # pragma: no cover
            return False
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)
        return False

    @staticmethod
    def holder(path: Path) -> str:
        try:
            pid = path.read_text().strip()
        except OSError:
            return ""
        return pid if pid.isdigit() else ""

    def release(self) -> None:
        if self.fd < 0:
            return
        try:
            self.path.unlink()  # while still locked: a waiter that opened it retries on the new file
        except OSError:
            pass
        os.close(self.fd)
        self.fd = -1

    def __del__(self) -> None:  # a store dropped without close() lets its sessions go
        try:
            self.release()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


# -- the store ----------------------------------------------------------------------------


class Store:
    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._leases: dict[str, _Lease] = {}
        self._check_place()
        self._check_file()
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            self.db: sqlite3.Connection = db  # set once open: every method after __init__ has it
            self._open()
        except BaseException as exc:
            if db is not None:
                db.close()
            if isinstance(exc, sqlite3.Error):
                raise self._explain(exc, "open the transcript database") from exc
            raise

    @classmethod
    def open(cls, directory: Path | None = None) -> Store:
        if directory is None:
            from core.paths import DATA_ENV, data_dir

            try:
                directory = data_dir()
            except OSError as exc:
                where = os.environ.get(DATA_ENV) or "the data dir"
                raise StoreError(
                    f"{where}: cannot create the data dir ({exc.strerror or exc}); choose another with --data-dir"
                ) from exc
        return cls(Path(directory) / DB_NAME)

    # -- opening ------------------------------------------------------------------------

    def _check_place(self) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{folder}: cannot create the data dir ({exc.strerror or exc}); choose another with --data-dir"
            ) from exc
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(
                f"{folder}: the data dir is read-only; viva keeps your transcripts there. "
                "Make it writable or choose another with --data-dir"
            )
        if self.path.is_file() and not os.access(self.path, os.R_OK | os.W_OK):
            raise StoreError(
                f"{self.path}: the transcript database is read-only; make it writable or choose another data dir with --data-dir"
            )

    def _check_file(self) -> None:
        if not self.path.exists():
            return
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, expected the transcript database")
        with self.path.open("rb") as fh:
            head = fh.read(16)
        if head and head != b"SQLite format 3\x00":
            raise StoreError(
                f"{self.path}: not an SQLite database; viva will not overwrite it (move it aside to start a new one)"
            )

    def _open(self) -> None:
        """Check the file is viva's, create or migrate the schema, then switch to WAL.

        Nothing is written until the file is known to be viva's (or empty): a newer
        viva's database or another program's keeps every byte.
        """
        db = self.db
        db.execute("PRAGMA foreign_keys=ON")
        if self._inspect() < SCHEMA_VERSION:
            with self._tx():
                # Again under the write lock: another process may have created it meanwhile.
                version = self._inspect()
                while version < SCHEMA_VERSION:
                    version += 1
                    MIGRATIONS[version](db)
                    db.execute(f"PRAGMA user_version = {version}")
        self._use_wal()
        db.execute("PRAGMA synchronous=NORMAL")

    def _use_wal(self) -> None:
        """Switch to WAL (once per file).  SQLite answers this with SQLITE_BUSY at once, without
        its busy handler, while another connection holds a lock - as when several processes
        start on a new data dir together - so it is retried here until ``timeout``."""
        db = self.db
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                busy = (getattr(exc, "sqlite_errorname", "") or "").startswith("SQLITE_BUSY") or "locked" in str(exc)
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(0.02)

    def _inspect(self) -> int:
        """The schema version, after checking the tables are viva's (reads only)."""
        db = self.db
        # One statement, one snapshot: another process may create the schema between two reads.
        rows = db.execute(
            "SELECT v.user_version, m.name FROM pragma_user_version AS v LEFT JOIN sqlite_master AS m ON m.type = 'table'"
        ).fetchall()
        version = rows[0][0]
        tables = {n for _, n in rows if n is not None and not n.startswith("sqlite_")}
        if version > SCHEMA_VERSION:
            ours = not tables or bool(VIVA_TABLES & tables)  # a newer viva may have added or renamed tables
        else:
            ours = VIVA_TABLES <= tables if version > 0 else not tables
        if not ours:
            names = ", ".join(_show(n) for n in sorted(tables)[:6]) or "none"
            raise StoreError(
                f"{self.path}: an SQLite database that is not viva's (schema version {version}, tables: {names}); "
                "viva will not change it. Move it aside or choose another data dir with --data-dir"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer viva (schema {version} > {SCHEMA_VERSION}); upgrade viva")
        return version

    def _explain(self, exc: sqlite3.Error, doing: str, outcome: str = "", then: str = "try again") -> StoreError:
        """A message for an SQLite error that says whether the file or its place is the problem.

        ``outcome`` (what was and was not kept) goes between the cause and the advice.
        """
        code = getattr(exc, "sqlite_errorname", "") or ""
        msg = str(exc)
        if code.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "malformed" in msg or "not a database" in msg:
            return StoreError(
                f"{self.path}: not a usable viva database ({msg}); viva will not overwrite it: move it aside to start a new one"
            )
        if code.startswith("SQLITE_FULL") or "disk is full" in msg:
            cause, advice = "the disk is full", "free some space"
        elif (
            code.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"))
            or "readonly" in msg
            or "unable to open" in msg
        ):
            cause, advice = (
                f"the file or its folder is read-only or cannot be opened ({msg})",
                "make it writable or choose another data dir with --data-dir",
            )
        elif code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in msg:
            cause, advice = f"another program holds the database locked ({msg})", "wait until it is done"
        elif code.startswith("SQLITE_IOERR") or "I/O error" in msg:
            cause, advice = f"the disk reported an error ({msg})", "check the disk"
        else:
            cause, advice = f"SQLite: {msg}", "check the data dir"
        return StoreError(
            f"{self.path}: {cause}, so viva could not {doing}{outcome}. {advice[0].upper()}{advice[1:]}, then {then}"
        )

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._explain(exc, doing) from exc

    @contextmanager
    def _tx(self) -> Iterator[None]:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite may already have rolled back (a full disk does)
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise

    def close(self) -> None:
        for sid in list(self._leases):
            self._release(sid)
        self.db.close()

    # -- leases --------------------------------------------------------------------------

    def _lease_path(self, session_id: str) -> Path:
        name = session_id if SESSION_ID.fullmatch(session_id) else hashlib.sha1(session_id.encode("utf-8", "replace")).hexdigest()
        return self.path.with_name(self.path.name + ".leases") / f"{name}.lock"

    def claim(self, session_id: str) -> None:
        """Lease a session to this process until :meth:`release`, :meth:`close` or exit.

        Raises :class:`SessionInUse` if another process (or another open store) has it.
        """
        if session_id in self._leases:
            return
        path = self._lease_path(session_id)
        try:
            lease = _Lease.take(path)
        except OSError as exc:
            raise StoreError(
                f"{path}: cannot lock session {session_id} ({exc.strerror or exc}); is the data dir writable?"
            ) from exc
        if lease is None:
            pid = _Lease.holder(path)
            who = f"another viva (process {pid})" if pid else "another viva"
            raise SessionInUse(
                f"session {session_id} is open in {who}; finish or quit it there first "
                "(if that viva was killed, its hold ends with it: just try again)"
            )
        self._leases[session_id] = lease

    def _release(self, session_id: str) -> None:
        lease = self._leases.pop(session_id, None)
        if lease is not None:
            lease.release()

    def in_use(self, session_id: str) -> bool:
        """Whether another process (not this store) is running the session now."""
        return session_id not in self._leases and _Lease.held(self._lease_path(session_id))

    # -- writing ---------------------------------------------------------------------

    def save(self, record: SessionRecord) -> None:
        """Upsert the session and every turn not yet stored, in one transaction.

        The first save of a session leases it to this process; it is released once the
        session is no longer active.
        """
        self.claim(record.id)
        try:
            validate_session(record.to_dict(), f"session {record.id}")
        except DataError as exc:
            raise StoreError(f"cannot store {exc}") from exc
        have: int | None = None
        try:
            with self._tx():
                self._write_session(record)
                have = self.db.execute("SELECT COUNT(*) FROM turns WHERE session_id = ?", (record.id,)).fetchone()[0]
                for turn in record.turns[have:]:
                    self._write_turn(record.id, turn)
        except sqlite3.Error as exc:
            raise self._unsaved(exc, record, have) from exc
        if record.status != "active":
            self._release(record.id)

    def _unsaved(self, exc: sqlite3.Error, record: SessionRecord, have: int | None) -> StoreError:
        """Say what was not saved: the answer just graded must never be lost silently."""
        if have is None:
            try:
                have = self.db.execute("SELECT COUNT(*) FROM turns WHERE session_id = ?", (record.id,)).fetchone()[0]
            except sqlite3.Error:
                have = None
        unsaved = record.turns[have:] if have is not None else record.turns[-1:]
        then = f"continue with `viva ask --resume {record.id}`" if record.status == "active" or unsaved else "try again"
        if not unsaved:
            return self._explain(exc, f"save session {record.id}", " (every answer is kept)", then)
        t = unsaved[-1]
        kept = {None: "earlier answers are kept", 0: "there are none before it", 1: "the 1 answer before it is kept"}.get(
            have, f"the {have} answers before it are kept"
        )
        return self._explain(
            exc, f"save your answer to question {t.index + 1} ({t.question.topic})", f": that answer is NOT saved; {kept}", then
        )

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
        self.db.execute(
            "INSERT OR REPLACE INTO turns (session_id, idx, at, topic, rung, score, data) VALUES (?,?,?,?,?,?,?)",
            (session_id, t.index, t.at, t.question.topic, t.question.rung, t.score, json.dumps(t.to_dict(), ensure_ascii=False)),
        )

    def import_record(self, record: SessionRecord, source: str = "import") -> None:
        """Store a session read from an export; refused if its id is already in the history."""
        try:
            validate_session(record.to_dict(), source)
        except DataError as exc:
            raise StoreError(str(exc)) from exc
        with self._errors(f"import session {record.id}"):
            with self._tx():
                if self.db.execute("SELECT 1 FROM sessions WHERE id = ?", (record.id,)).fetchone():
                    raise StoreError(f"{source}: session {record.id} is already in your history")
                self._write_session(record)
                for turn in record.turns:
                    self._write_turn(record.id, turn)

    def set_status(self, session_id: str, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        own = session_id in self._leases
        self.claim(session_id)
        try:
            with self._errors(f"mark session {session_id} {status}"), self._tx():
                self.db.execute(
                    "UPDATE sessions SET status = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ?",
                    (status, time.time(), session_id),
                )
        finally:
            if not own or status != "active":
                self._release(session_id)

    def delete(self, session_id: str) -> bool:
        self.claim(session_id)  # never delete a session another viva is running
        try:
            with self._errors(f"delete session {session_id}"), self._tx():
                cur = self.db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        finally:
            self._release(session_id)
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
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._errors("read the history"):
            rows = self.db.execute(sql, args).fetchall()
        return [
            SessionSummary(
                str(r[0]), _finite(r[1], 0.0, 0, LATEST_TIME), str(r[2]), str(r[3]), str(r[4]), _topics(r[5]),
                _finite(r[6], None, 0, 5), _finite(r[7], 0.0, 0), int(r[8]) if isinstance(r[8], int) else 0,
            )
            for r in rows
        ]

    def exists(self, session_id: str) -> bool:
        with self._errors("read the history"):
            return self.db.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is not None

    def resolve(self, prefix: str) -> str:
        """A full session id from a unique prefix (as `viva history` shows them).

        The prefix is matched literally (``%`` and ``_`` are just characters), and an
        exact id wins over longer ids it is a prefix of.
        """
        if not isinstance(prefix, str) or not prefix.strip():
            raise DataError("give a session id, or a unique start of one (see `viva history`)")
        with self._errors("read the history"):
            if self.db.execute("SELECT 1 FROM sessions WHERE id = ?", (prefix,)).fetchone():
                return prefix
            rows = self.db.execute(
                "SELECT id FROM sessions WHERE substr(id, 1, ?) = ? LIMIT 2", (len(prefix), prefix)
            ).fetchall()
        if not rows:
            raise DataError(f"no session {_show(prefix)} (see `viva history`)")
        if len(rows) > 1:
            raise DataError(f"{_show(prefix)} matches several sessions; give more of the id")
        return rows[0][0]

    def load(self, session_id: str) -> SessionRecord:
        sid = self.resolve(session_id)
        with self._errors(f"read session {sid}"):
            row = self.db.execute(
                "SELECT id, started_at, ended_at, status, topics, config, models, closing FROM sessions WHERE id = ?", (sid,)
            ).fetchone()
            turns = [
                json.loads(d) for (d,) in self.db.execute("SELECT data FROM turns WHERE session_id = ? ORDER BY idx", (sid,))
            ]
        return SessionRecord.from_dict(
            {
                "id": row[0], "started_at": row[1], "ended_at": row[2], "status": row[3], "topics": json.loads(row[4]),
                "config": json.loads(row[5]), "models": json.loads(row[6]), "closing": row[7], "turns": turns,
            }
        )

    def resume(self, session_id: str) -> SessionRecord:
        """Load an unfinished session to continue it, leasing it to this process.

        Raises :class:`SessionInUse` while another viva runs it (two resumes at once
        would each think the session is theirs), and :class:`VivaError` if it is over.
        """
        sid = self.resolve(session_id)
        self.claim(sid)
        try:
            record = self.load(sid)  # after the claim: what the last holder stored
            if record.status != "active":
                raise VivaError(f"session {record.id} is {record.status}; only an unfinished session can be resumed")
        except BaseException:
            self._release(sid)
            raise
        return record

    def unfinished(self) -> builtins.list[SessionSummary]:
        """Sessions left active by a crash or a closed terminal: offer to resume them.

        A session another viva is running right now is not offered.
        """
        return [s for s in self.list(status="active") if not self.in_use(s.id)]

    def topic_session_scores(self) -> builtins.list[TopicSessionScore]:
        """Per session and topic, the topic's score; oldest session first.

        The same number as :meth:`SessionRecord.topic_scores` (the results screen, the
        review, the exports): the mean over the topic's rungs of each rung's score after
        its last turn (a follow-up can raise it), not the mean of single answers.
        """
        with self._errors("read your scores"):
            rows = self.db.execute(
                """SELECT s.id, s.track, t.topic, s.started_at, AVG(json_extract(t.data, '$.rung_score'))
                   FROM turns t JOIN sessions s ON s.id = t.session_id
                   WHERE t.idx = (SELECT MAX(l.idx) FROM turns l
                                  WHERE l.session_id = t.session_id AND l.topic = t.topic AND l.rung = t.rung)
                     AND json_extract(t.data, '$.rung_score') BETWEEN 0 AND 5
                   GROUP BY t.session_id, t.topic ORDER BY s.started_at, s.id, t.topic"""
            ).fetchall()
        return [
            TopicSessionScore(str(sid), str(track), str(topic), _finite(started, 0.0, 0, LATEST_TIME), float(score))
            for sid, track, topic, started, score in rows
        ]


def _topics(raw: Any) -> list[str]:
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return []
    return [str(t) for t in value] if isinstance(value, list) else []
