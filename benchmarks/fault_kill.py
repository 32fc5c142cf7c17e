"""Fault harness: SIGKILL ``viva ask`` at random moments, then check the transcript store.

    python -m benchmarks.fault_kill [--kills N] [--seed S] [--llm default|none ...] [--jobs J]

For each interviewer model (the real default one and ``--llm none`` unless told) a
chain of ``viva ask`` processes runs on its own temporary data dir, fed scripted
answers (long, multi-line, Unicode, markup, escapes, empty, ``/skip``).  Each process
is killed with SIGKILL at a moment drawn from a seeded RNG: while the models load,
while an answer is being typed, right after an answer was sent (while it is graded
and stored, before the next question appears), or while a question waits.  The next
process resumes the killed session with ``--resume``.

After every process the store is read back and checked:

* every answer whose next question (or the closing remark) had appeared on stdout is
  stored, byte-exact, under the question that was printed for it; answers sent later
  may be stored or not, but never altered, and nothing earlier changes;
* a resume works: it is not refused (the killed process's lease ended with it) and
  its first question is the one that was pending when the process died.

It prints answered turns, turns lost and resumes that worked per model, notes any
question line that breaks the protocol (no final '?'), and exits 1 on a lost or
altered turn, a failed resume, or a process it did not kill exiting non-zero.  Timing is wall-clock by nature (that is the point);
the RNG fixes the plan: which moment, how many answers first, which answers.  Not
part of the pytest suite.
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.record import Status

REPO = Path(__file__).resolve().parents[1]

TOPICS = ("dropout", "optimizers", "normalization")

# What a candidate might type.  Each is stored exactly as read_answers() yields it.
ANSWERS = [
    "um so dropout is like, it randomly switches off some of the neurons on every training step, and at inference it's off",
    "adam keeps running averages of the gradient and of its square, so every weight gets its own step size",
    "uh I think it normalises the activations so each layer sees a stable distribution, you know",
    "no idea, sorry",
    "",  # no answer (a blank line)
    "/skip",
    "two lines:\n  an indented second line with émoji 🧠, a tab\there and a right-to-left mark \u202e",
    "[bold]markup[/] [link=http://e.vil]x[/link] `code` **md** <b>html</b> 'single' \"double\" \x1b[31mred\x1b[0m",
    "so basically " + "the model keeps learning and the loss goes down and " * 60 + "that's it",
]

MOMENTS = ("loading", "typing", "grading", "waiting")
MOMENT_WEIGHTS = (1, 2, 5, 2)


def stored_form(answer: str) -> str:
    return "" if answer == "/skip" else answer


def feed(answer: str) -> str:
    if answer == "/skip":
        return "/skip\n"
    return (answer + "\n\n") if answer else "\n"


def one_line(text: str) -> str:
    return " ".join(text.split())


def is_prompt(line: str) -> bool:
    """A line from the interviewer that waits for an answer: a question (or the closing
    remark, which is followed by the end of output).  Feedback is "(...)", hints "Hint: ...".
    The protocol says questions end in '?'; the harness does not rely on it (a rubric
    probe worded as an instruction would otherwise stall it) but counts those that do not."""
    line = line.strip()
    return bool(line) and not (line.startswith("(") and line.endswith(")")) and not line.startswith("Hint: ")


class Process:
    """One ``viva ask``: stdout read line by line in a thread, so it can be killed at any moment."""

    def __init__(self, args: list[str], data: Path, log: Path) -> None:
        env = os.environ | {"VIVA_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        self.stderr_path = log
        self.stderr = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "viva", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=REPO,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.questions: list[str] = []  # every question line (and the closing remark) read so far
        self.eof = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        self.lines.put(None)

    def _take(self, timeout: float | None) -> bool:
        """Read one line (False on timeout or end of output)."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return False
        if line is None:
            self.eof = True
            return False
        if is_prompt(line):
            self.questions.append(line)
        return True

    def next_question(self, deadline: float) -> str | None:
        """Wait for the next question line; None if the output ends first."""
        have = len(self.questions)
        while len(self.questions) == have:
            if self.eof:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"viva ask printed no question in time; see {self.stderr_path}")
            self._take(remaining)
        return self.questions[-1]

    def write(self, text: str) -> None:
        assert self.proc.stdin
        try:
            self.proc.stdin.write(text.encode("utf-8"))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def kill(self) -> None:
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.finish()

    def finish(self) -> int:
        """Wait for exit, read what it printed before dying."""
        try:
            assert self.proc.stdin  # a pipe: Popen(stdin=PIPE)
            self.proc.stdin.close()
        except OSError:
            pass
        rc = self.proc.wait()
        while not self.eof:
            self._take(None)
        self.stderr.close()
        return rc

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def session_id(self) -> str | None:
        for line in self.stderr_text().splitlines():
            if line.startswith("viva: session "):
                return line.split()[-1]
        return None


@dataclass
class Sent:
    answer: str  # as stored
    question: str  # the question line it answered
    questions_before: int  # question lines seen when it was sent (this one included)


@dataclass
class Stats:
    mode: str
    kills: int = 0
    runs: int = 0
    mid_grading: int = 0  # killed after an answer was sent, before its next question appeared
    mid_grading_stored: int = 0  # ... and it had been committed anyway
    answered: int = 0  # answers whose next question had appeared: they must be stored
    lost: int = 0
    altered: int = 0  # stored, but not byte-exact, under another question, or an earlier turn changed
    resumes: int = 0
    resumes_ok: int = 0
    sessions: int = 0
    no_question_mark: list[str] = field(default_factory=list)  # questions not ending in '?' (protocol)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problems.append(text)


def _store_turns(data: Path, sid: str) -> tuple[Status, list[tuple[str, str]]] | None:
    """The stored session's status and its turns as (answer, question text); None if not stored."""
    from agent.store import DB_NAME, Store

    if not (data / DB_NAME).exists():
        return None
    store = Store(data / DB_NAME)
    try:
        if not store.exists(sid):
            return None
        record = store.load(sid)
        return record.status, [(t.answer, one_line(t.question.text)) for t in record.turns]
    finally:
        store.close()


def chain(mode: str, kills: int, seed: int, work: Path, log: Callable[[str], object] = print) -> Stats:
    """Kill ``viva ask`` ``kills`` times on one data dir, resuming each killed session."""
    rng = random.Random(f"{seed}:{mode}")
    data = work / mode
    stats = Stats(mode)
    llm = ["--llm", "none"] if mode == "none" else []
    grade_window = 0.8 if mode == "none" else 2.0  # seconds from an answer to the next question, roughly
    session: str | None = None  # the session the next process resumes
    stored: list[tuple[str, str]] = []  # its stored turns: (answer, question)
    pending: str | None = None  # the question a resume must ask first, when known
    while stats.runs < 4 * kills + 4:
        final = stats.kills >= kills
        if final and session is None:
            break
        stats.runs += 1
        resuming = session is not None
        args = [*llm, "ask", "--level", "junior"]
        args += ["--resume", session] if resuming else [a for t in TOPICS for a in ("--topic", t)]
        moment = "end" if final else rng.choices(MOMENTS, MOMENT_WEIGHTS)[0]
        before = rng.randint(0, 2)  # answers given in full before the moment
        proc = Process(args, data, work / f"{mode}-{stats.runs:03d}.stderr")
        sent: list[Sent] = []
        killed = False
        deadline = time.monotonic() + 300  # for the whole run: model loading and every question
        try:
            if moment == "loading":
                time.sleep(rng.uniform(0.0, 8.0))
                killed = True
            else:
                for i in range(10_000):
                    q = proc.next_question(deadline)
                    if q is None:
                        break  # the interview ended (or the process failed)
                    if final:
                        proc.write("/end\n")
                        continue
                    answer = rng.choice(ANSWERS)
                    if i < before:
                        proc.write(feed(answer))
                        sent.append(Sent(stored_form(answer), q, len(proc.questions)))
                        continue
                    if moment == "typing":
                        text = answer or "half an ans"
                        proc.write(text[: rng.randint(1, max(1, len(text) - 1))])
                        time.sleep(rng.uniform(0.0, 0.3))
                    elif moment == "grading":
                        proc.write(feed(answer))
                        sent.append(Sent(stored_form(answer), q, len(proc.questions)))
                        time.sleep(rng.uniform(0.0, grade_window))
                    else:  # waiting
                        time.sleep(rng.uniform(0.0, 0.5))
                    killed = True
                    break
        except TimeoutError as exc:
            stats.problem(f"run {stats.runs}: {exc}")
            killed = True
        if killed:
            proc.kill()
            stats.kills += not final
            rc = -signal.SIGKILL
        else:
            rc = proc.finish()
        sid = session or proc.session_id()
        err = proc.stderr_text()
        shown = proc.questions

        # -- the resume: not refused, and it asked the pending question -------------------
        if resuming and (shown or not killed):
            stats.resumes += 1
            if not shown:
                stats.problem(f"run {stats.runs}: resume of {session} asked nothing (exit {rc}): {err.strip()[-300:]}")
            elif pending is not None and one_line(shown[0]) != one_line(pending):
                stats.problem(f"run {stats.runs}: resume asked {shown[0]!r}, expected {pending!r}")
            else:
                stats.resumes_ok += 1
        if not killed and rc != 0:
            stats.problem(f"run {stats.runs}: viva ask exited {rc}: {err.strip()[-300:]}")

        # -- the store -------------------------------------------------------------------------
        got = _store_turns(data, sid) if sid else None
        status, turns = got if got else ("absent", [])
        if got is None and resuming:
            stats.problem(f"run {stats.runs}: session {sid} vanished")
        if turns[: len(stored)] != stored:
            stats.altered += 1
            stats.problem(f"run {stats.runs}: earlier turns of {sid} changed")
        new = turns[len(stored):]
        if status == "finished":
            # The line after the last stored turn was the closing remark: what was "answered" to it is no turn.
            sent = sent[: len(new)]
            shown = shown[: len(new) + 1]
            asked = shown[: len(new)]
        else:
            asked = shown
        stats.no_question_mark += [q for q in asked if not q.endswith("?") and q not in stats.no_question_mark]
        for j, s in enumerate(sent):
            confirmed = (not killed and rc == 0) or len(shown) > s.questions_before
            stats.answered += confirmed
            if j < len(new):
                if new[j] != (s.answer, one_line(s.question)):
                    stats.altered += 1
                    stats.problem(
                        f"run {stats.runs}: turn {len(stored) + j} stored as {new[j]!r:.120}, "
                        f"sent {s.answer!r:.60} to {s.question!r:.60}"
                    )
            elif confirmed:
                stats.lost += 1
                stats.problem(
                    f"run {stats.runs}: answer {len(stored) + j} ({s.answer!r:.60}) "
                    "was followed by its next question but not stored"
                )
        if len(new) > len(sent):
            stats.altered += 1
            stats.problem(f"run {stats.runs}: {len(new) - len(sent)} turn(s) stored that were never answered")
        if killed and moment == "grading" and sent and len(shown) == sent[-1].questions_before:
            stats.mid_grading += 1  # killed between the answer and its next question
            stats.mid_grading_stored += len(new) == len(sent)

        if shown:  # next, the first printed question with no stored answer (unknown if all are answered)
            pending = shown[len(new)] if len(new) < len(shown) else None
        if status == "active":
            stats.sessions += not resuming
            session, stored = sid, turns
        else:
            stats.sessions += not resuming and status != "absent"
            session, stored, pending = None, [], None
        log(
            f"  [{mode}] run {stats.runs:>2}: {'resume' if resuming else 'new   '} {moment:<7} "
            f"{'killed' if killed else f'exit {rc}'}; {len(sent)} sent, {len(new)} stored; session {status}"
        )
        if final:
            break
    if stats.kills < kills:
        stats.problem(f"only {stats.kills} of {kills} kills in {stats.runs} runs")
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fault_kill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=30, help="SIGKILLs in all, shared by the models (default 30)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--llm", action="append", choices=["default", "none"], help="interviewer model(s) (default: both)")
    parser.add_argument("--jobs", type=int, default=2, help="chains run side by side (one per model; default 2)")
    parser.add_argument("--keep", metavar="DIR", help="keep the data dirs and logs here")
    parser.add_argument("--quiet", action="store_true", help="no line per run")
    args = parser.parse_args(argv)
    modes = args.llm or ["default", "none"]
    shares = [args.kills // len(modes) + (i < args.kills % len(modes)) for i in range(len(modes))]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="viva-fault-"))
    work.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def log(line: str) -> None:
        if not args.quiet:
            with lock:
                print(line, file=sys.stderr, flush=True)

    start = time.monotonic()
    print(
        f"fault_kill: {args.kills} SIGKILLs of `viva ask` (seed {args.seed}; models: {', '.join(modes)}); work dir {work}",
        file=sys.stderr,
        flush=True,
    )
    results: dict[str, Stats] = {}
    threads = []
    for mode, n in zip(modes, shares):
        def one(mode: str = mode, n: int = n) -> None:
            results[mode] = chain(mode, n, args.seed, work, log)

        t = threading.Thread(target=one)
        threads.append(t)
        t.start()
        if len(threads) >= max(1, args.jobs):
            threads.pop(0).join()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start

    rows = [results[m] for m in modes if m in results]
    header = ("model", "kills", "mid-grading", "answered turns", "turns lost", "altered", "resumes ok", "runs")
    table = [header] + [
        (
            s.mode,
            str(s.kills),
            f"{s.mid_grading} ({s.mid_grading_stored} stored)",
            str(s.answered),
            str(s.lost),
            str(s.altered),
            f"{s.resumes_ok}/{s.resumes}",
            str(s.runs),
        )
        for s in rows
    ]
    total = Stats("total")
    for s in rows:
        for name in (
            "kills",
            "mid_grading",
            "mid_grading_stored",
            "answered",
            "lost",
            "altered",
            "resumes",
            "resumes_ok",
            "runs",
        ):
            setattr(total, name, getattr(total, name) + getattr(s, name))
        total.problems += [f"[{s.mode}] {p}" for p in s.problems]
    if len(rows) > 1:
        table.append(
            (
                "total",
                str(total.kills),
                f"{total.mid_grading} ({total.mid_grading_stored} stored)",
                str(total.answered),
                str(total.lost),
                str(total.altered),
                f"{total.resumes_ok}/{total.resumes}",
                str(total.runs),
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for n, r in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(
        f"\n{total.kills} kills: {total.answered} answered turns, {total.lost} lost, {total.altered} altered; "
        f"resumes that worked: {total.resumes_ok} of {total.resumes}; {elapsed:.0f} s"
    )
    for p in total.problems:
        print(f"problem: {p}")
    odd = sorted({q for s in rows for q in s.no_question_mark})
    for q in odd:
        print(f"note: a question line that does not end in '?' (the `viva ask` protocol says it should): {q!r}")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 1 if total.problems or total.kills < args.kills else 0


if __name__ == "__main__":
    raise SystemExit(main())
