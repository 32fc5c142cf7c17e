"""The transcript store: opening the history list with 10,000 stored sessions (target < 200 ms)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import Result, latency_rows, time_calls


def run(quick: bool = False) -> list[Result]:
    from agent.config import SessionConfig
    from agent.record import Decision, Question, SessionRecord, Turn
    from agent.store import DB_NAME, Store
    from rubrics.grade import Grade

    n = 1_000 if quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / DB_NAME
        store = Store(path)
        start = time.perf_counter()
        store.db.execute("BEGIN")
        for i in range(n):
            rec = SessionRecord(SessionConfig(), started_at=1.7e9 + i * 3600)
            rec.topics = ["dropout", "optimizers", "attention"]
            for j in range(6):
                q = Question("dropout", "what", 1, "opening", "What does dropout do?", "What does dropout do?")
                rec.turns.append(
                    Turn(
                        j,
                        q,
                        "an answer " * 40,
                        Grade(3.0, 0.0, [], [], [], "an answer " * 40),
                        3.0,
                        3.0,
                        Decision("deeper", "strong"),
                    )
                )
            rec.status, rec.ended_at = "finished", rec.started_at + 900
            store._write_session(rec)
            for t in rec.turns:
                store._write_turn(rec.id, t)
        store.db.execute("COMMIT")
        fill = time.perf_counter() - start
        store.close()

        def open_and_list(_: int) -> None:
            s = Store(path)  # a cold start of the history screen: connect, check schema, list
            rows = s.list()
            assert len(rows) == n
            s.close()

        secs = time_calls(open_and_list, 5 if quick else 20, warmup=1)
        rows = [Result("store", f"{n:,} sessions x 6 turns", "fill", fill, "s")]
        rows += latency_rows("store", f"open + list {n:,} sessions", secs, target="< 200 ms")
        s = Store(path)
        rows += latency_rows("store", "load one session", time_calls(lambda i: s.load(s.list(limit=1)[0].id), 20))
        return rows
