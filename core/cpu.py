"""How many threads a small encode may take right now: the cores nobody else is running on.

Why: an answer's windows (20-160 short texts) and the judge's pairs are encoded in tens
of milliseconds.  On 2 cores, two OpenMP threads beside a busy process spin-wait on each
other and a 20-window answer took 130-730 ms instead of ~40 ms, so small batches ran on
one thread; but with the other core idle, two threads grade a 40-word answer in ~43 ms
instead of ~63 (600 words: ~160 against ~230 ms; the vectors are bit-identical).  The
kernel's count of tasks running *now* (``/proc/loadavg``, fourth field) tells the two
cases apart at the moment the batch starts: a busy process, another viva thread (the LLM
loading or writing a reaction) or a test worker beside us all count; this process's own
OpenMP workers, still spinning for a moment after the last batch, do not (without that
rule a grading loop saw them and ran on one thread half the time).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

LOADAVG = Path("/proc/loadavg")
TASKS = Path("/proc/self/task")


def running_elsewhere(loadavg: str | None = None) -> int | None:
    """Tasks running on the machine besides the calling thread, or None where unknown
    (not Linux, an unreadable or odd ``/proc/loadavg``)."""
    try:
        text = LOADAVG.read_text(encoding="ascii") if loadavg is None else loadavg
        running = int(text.split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    running -= 1  # the caller is running (it is reading this)
    if running > 0 and loadavg is None:
        running -= _own_workers_running()
    return max(0, running)


def _own_workers_running() -> int:
    """This process's running threads that are not Python threads: the OpenMP workers
    of the batch before, spinning before they sleep.  A Python thread that runs (the LLM
    in the background) is real competition and stays counted."""
    python = {t.native_id for t in threading.enumerate()}
    count = 0
    try:
        for task in TASKS.iterdir():
            if int(task.name) in python:
                continue
            stat = (task / "stat").read_text(encoding="ascii", errors="replace")
            if stat[stat.rindex(")") + 2 :].startswith("R"):
                count += 1
    except (OSError, ValueError):
        return 0  # a thread that ended while we looked: count none
    return count


def usable_cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def thread_cap() -> int:
    """The most threads viva's own choices may take: ``OMP_NUM_THREADS`` where it is set
    (the test suite runs one thread per worker), else the usable cores.  Not torch's
    current setting: the LLM sets that process-wide for its own work."""
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return usable_cores()


def spare_threads(
    limit: int | None = None, cores: int | None = None, loadavg: str | None = None, unknown: int = 1
) -> int:
    """Threads for a small batch: the cores free at this moment, at least 1 and at most
    ``limit`` (:func:`thread_cap` by default).  Unknown load (not Linux): ``unknown``, by
    default 1, the choice that is never slow."""
    limit = thread_cap() if limit is None else limit
    others = running_elsewhere(loadavg)
    if others is None:
        return max(1, min(limit, unknown))
    free = (usable_cores() if cores is None else cores) - others
    return max(1, min(limit, free))
