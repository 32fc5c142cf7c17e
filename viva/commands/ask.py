"""``viva ask``: the interview as plain text over stdin/stdout.

For scripts, screen readers and tests.  The protocol:

* every interviewer question is printed on a line of its own, ending in ``?``;
  other interviewer lines (feedback, hints, the closing remark) never end in ``?``;
* an answer is the lines up to a blank line; an empty answer counts as "no answer";
* an answer that is exactly ``/hint``, ``/skip`` or ``/end`` asks for a hint, skips the
  question or ends the interview;
* end of input ends the interview cleanly: what was answered is saved, exit status 0;
* input that is not valid UTF-8 is kept, each undecodable byte as U+FFFD.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from core.tracks import DEFAULT_LEVEL, DEFAULT_TOPICS, DEFAULT_TRACK, LEVEL_IDS, TRACK_IDS, topic_range  # light: plain data

if TYPE_CHECKING:
    from agent.record import Turn


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ask",
        help="run an interview as plain text over stdin/stdout (scripts, screen readers)",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--track", choices=TRACK_IDS, default=DEFAULT_TRACK)
    p.add_argument("--level", choices=LEVEL_IDS, default=DEFAULT_LEVEL)
    p.add_argument(
        "--topics", type=int, default=DEFAULT_TOPICS, metavar="N",
        help=f"how many topics, {topic_range()} (default {DEFAULT_TOPICS})",
    )
    p.add_argument(
        "--topic", action="append", default=[], metavar="ID", help="ask this topic (repeatable); see `viva rubrics list`"
    )
    p.add_argument("--seed", type=int, help="fix the topic order")
    p.add_argument("--resume", metavar="ID", help="continue an unfinished session")
    p.add_argument("--quiet", action="store_true", help="print only the interviewer's questions and closing remark")
    p.set_defaults(handler=run_ask)


def answer_stream(stdin: TextIO) -> TextIO:
    """stdin as text that always decodes: bytes that are not UTF-8 become U+FFFD.

    Python's own stdin either raises on such bytes (strict) or keeps them as lone
    surrogates (``surrogateescape``, in a C/POSIX locale) that SQLite then refuses, so
    one bad byte would end the interview.  Reading the bytes ourselves keeps it going.
    """
    raw = getattr(stdin, "buffer", None)
    if raw is None:  # already a text stream (tests); read_answers still cleans each line
        return stdin
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace")


def read_answers(stream: TextIO) -> Iterator[str | None]:
    """Yield answers (lines up to a blank line); ``None`` at end of input."""
    from core.terminal import valid_text

    lines: list[str] = []
    for line in stream:
        line = valid_text(line.rstrip("\r\n"))
        if line.strip() == "":
            yield "\n".join(lines)
            lines = []
            continue
        lines.append(line)
        if len(lines) == 1 and line.strip() in {"/hint", "/skip", "/end"}:
            yield line.strip()
            lines = []
    if lines:
        yield "\n".join(lines)  # the last answer, not followed by a blank line, still counts
    yield None


def run_ask(args: argparse.Namespace) -> int:
    from agent.config import SessionConfig
    from agent.session import build_interview
    from agent.store import Store

    out = sys.stdout
    config = SessionConfig(
        track=args.track, level=args.level, n_topics=args.topics, topics=tuple(args.topic), seed=args.seed
    )
    store = Store.open()
    record = store.resume(args.resume) if args.resume else None  # leased to this process: a second resume is refused
    if record is not None and record.status != "active":
        from core.errors import VivaError

        raise VivaError(f"session {record.id} is {record.status}; only an unfinished session can be resumed")
    if record is None:
        from agent.engine import plan_topics
        from rubrics.bank import load_bank

        plan_topics(load_bank(), config)  # a bad --topic fails now, not after loading models
    print("viva: loading models...", file=sys.stderr, flush=True)
    interview = build_interview(
        record.config if record else config, llm=args.llm, embedder=args.embedder, sink=store.save, record=record
    )
    print(f"viva: session {interview.record.id}", file=sys.stderr, flush=True)

    answers = read_answers(answer_stream(sys.stdin))
    while not interview.done:
        for _ in interview.speak():
            pass
        assert interview.pending is not None  # not done: a question is waiting
        out.write(_one_line(interview.pending.text) + "\n")
        out.flush()
        while True:
            answer = next(answers)
            if answer == "/hint":
                _say(out, f"Hint: {interview.hint()}", args.quiet)
                continue
            break
        if answer is None:
            interview.end()
            break
        if answer == "/end":
            interview.end()
            break
        turn = interview.skip() if answer == "/skip" else interview.submit(answer)
        if not args.quiet:
            _say(out, _feedback(turn), False)
    closing = "".join(interview.speak())
    _say(out, closing, False)
    store.close()
    return 0


def _one_line(text: str) -> str:
    from core.terminal import visible

    return " ".join(visible(text).split())


def _say(out: TextIO, text: str, quiet: bool) -> None:
    """An interviewer line that is not a question: never let it end in '?'."""
    if quiet:
        return
    text = _one_line(text)
    if text.endswith("?"):
        text = text[:-1] + "."
    out.write(text + "\n")
    out.flush()


def _feedback(turn: Turn) -> str:
    from agent.verdict import verdict

    v = verdict(turn)
    if v.skipped:
        return "(skipped)"
    parts = [f"score {v.score:.1f}/5 on {v.judged_on}"]
    if v.hits:
        parts.append("hit: " + ", ".join(p.id for p in v.hits))
    if v.missed:
        parts.append("missed: " + ", ".join(p.id for p in v.missed))
    if v.wrong:
        parts.append("wrong: " + ", ".join(w.id for w in v.wrong))
    if v.flags:
        parts.append("flags: " + ", ".join(v.flags))
    return "(" + "; ".join(parts) + ")"
