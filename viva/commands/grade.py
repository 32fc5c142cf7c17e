"""``viva grade``: score answers against a rubric rung or an ad-hoc reference answer.

One answer (an argument or standard input), or a whole class file with ``--batch``:
JSON Lines in, JSON Lines out, one output line per input line in the same order, so a
teacher can grade a file and an evaluation can run in one process with batched encodes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # the types only: each command imports what it runs
    from rubrics.grade import Grade
    from rubrics.grader import Grader
    from rubrics.schema import Rung

BATCH_CHUNK = 256  # answers embedded together; output streams chunk by chunk


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "grade",
        help="score an answer (or a JSON Lines file of answers) against a rubric or a reference, and explain the score",
        description="Score an answer 0-5 against a rubric rung, or against --question/--reference "
        "with no rubric file. The answer is the argument, or standard input when it is '-' or omitted. "
        "--batch FILE grades JSON Lines: each line {\"question\", \"reference\", \"answer\"} or "
        "{\"rubric\": \"TOPIC:RUNG\", \"answer\"}; one JSON line out per line in.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--rubric", metavar="TOPIC[:RUNG]", help="a rung of the bank, e.g. dropout:inference")
    src.add_argument("--reference", metavar="TEXT", help="an ad-hoc reference answer (split into key points)")
    src.add_argument("--batch", metavar="FILE", help="grade a JSON Lines file ('-' for standard input)")
    p.add_argument("--question", metavar="TEXT", help="the question asked (with --reference; used to spot restating it)")
    p.add_argument("answer", nargs="?", default="-", help="the answer text; '-' or omitted reads standard input")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p.set_defaults(handler=run_grade)


def _read_answer(arg: str) -> str:
    if arg != "-":
        from core.terminal import valid_text

        return valid_text(arg)
    if sys.stdin.isatty():
        print("Type the answer, then Ctrl-D:", file=sys.stderr)
    data = sys.stdin.buffer.read()
    return data.decode("utf-8", errors="replace")


def _grader(args: argparse.Namespace) -> Grader:
    from core.embedding import Embedder
    from rubrics.grader import Grader
    from rubrics.judge import Judge

    return Grader(Embedder.load(args.embedder), judge=Judge.load())


def run_grade(args: argparse.Namespace) -> int:
    from core.errors import VivaError

    if args.question and not (args.reference or args.batch):
        raise VivaError("--question needs --reference (or use --rubric TOPIC[:RUNG])")
    if args.batch:
        return run_batch(args)
    answer = _read_answer(args.answer)
    if args.rubric:
        from rubrics.bank import load_bank

        topic, rung = load_bank().rung(args.rubric)
        ref = f"{topic.topic}:{rung.id}"
    else:
        from rubrics.schema import adhoc_rung

        rung = adhoc_rung(args.reference, args.question)
        ref = "ad-hoc"

    grade = _grader(args).grade(rung, answer)
    if args.json:
        out = {"rubric": ref, "question": rung.question, **grade.to_dict()}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(explain(ref, rung, grade))
    return 0


# -- batch -------------------------------------------------------------------------------


@dataclass
class _Item:
    line: int
    rung: Any  # rubrics.schema.Rung
    ref: str
    answer: str
    id: Any = None


def run_batch(args: argparse.Namespace) -> int:
    """Grade every line; a bad line becomes an error line naming its number and the rest go on."""
    from core.errors import VivaError

    if args.batch == "-":
        stream: IO[bytes] = sys.stdin.buffer
    else:
        try:
            stream = open(args.batch, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise VivaError(f"cannot read {args.batch}: {exc.strerror or exc}") from exc
    grader = None
    bad = 0
    try:
        for chunk in _chunks(_parse(stream), BATCH_CHUNK):
            items = [c for c in chunk if isinstance(c, _Item)]
            if items and grader is None:
                grader = _grader(args)
            grades = iter(_grade_items(grader, items)) if items else iter(())
            for c in chunk:
                if isinstance(c, _Item):
                    out = _result(c, next(grades))
                else:
                    out = c
                    bad += 1
                sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if bad:
        print(f"viva: {bad} line(s) could not be graded (see their \"error\")", file=sys.stderr)
    return 1 if bad else 0


def _parse(stream: IO[bytes]) -> Iterator[_Item | dict[str, Any]]:
    """Each input line as an item to grade, or an error line for the output."""
    from pydantic import ValidationError

    from core.errors import VivaError
    from core.terminal import valid_text
    from rubrics.bank import load_bank
    from rubrics.schema import adhoc_rung

    bank = None
    adhoc: dict[tuple[str, str], Any] = {}
    for n, raw in enumerate(stream, start=1):
        text = valid_text(raw.decode("utf-8", errors="replace")).strip()

        def error(msg: str, n: int = n) -> dict[str, Any]:
            return {"line": n, "error": msg}

        if not text:
            yield error("empty line")
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield error(f"not JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            yield error("not a JSON object")
            continue
        answer = data.get("answer")
        if not isinstance(answer, str):
            yield error('"answer" must be a string' if "answer" in data else 'no "answer"')
            continue
        try:
            if "rubric" in data:
                if not isinstance(data["rubric"], str):
                    raise VivaError('"rubric" must be a string such as "dropout:what-it-does"')
                bank = bank or load_bank()
                topic, rung = bank.rung(data["rubric"])
                ref = f"{topic.topic}:{rung.id}"
            elif "reference" in data:
                reference, question = data["reference"], data.get("question")
                if not isinstance(reference, str) or not (question is None or isinstance(question, str)):
                    raise VivaError('"reference" and "question" must be strings')
                key = (reference, question or "")
                if key not in adhoc:
                    adhoc[key] = adhoc_rung(reference, question)
                rung, ref = adhoc[key], "ad-hoc"
            else:
                raise VivaError('each line needs "rubric" or "reference"')
        except (VivaError, ValidationError) as exc:
            yield error(str(exc).splitlines()[0])
            continue
        yield _Item(n, rung, ref, answer, data.get("id"))


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _grade_items(grader: Any, items: list[_Item]) -> list[Any]:
    embedded = grader.embed([(i.rung, i.answer, None) for i in items])
    return [grader.grade_embedded(i.rung, e) for i, e in zip(items, embedded)]


def _result(item: _Item, grade: Grade) -> dict[str, Any]:
    """One output line: read from the typed grade (at stored precision), not from its dict."""
    g = grade.rounded()
    out: dict[str, Any] = {"line": item.line}
    if item.id is not None:
        out["id"] = item.id
    out |= {
        "rubric": item.ref,
        "score": g.score,
        "flags": list(g.flags),  # "truncated" past rubrics.grade.MAX_GRADED_CHARS: one line cannot stall a batch
        "hits": [p.id for p in g.points if p.hit],
        "missed": [p.id for p in g.points if not p.hit],
        "key_points": [
            {"id": p.id, "text": p.text, "hit": p.hit, "credit": p.credit, "evidence": p.evidence} for p in g.points
        ],
        "misconceptions": [{"id": m.id, "text": m.text, "evidence": m.evidence} for m in g.misconceptions],
        "contradictions": [{"point": c.point, "reason": c.reason, "evidence": c.evidence} for c in g.contradictions],
    }
    return out


# -- explaining one grade ----------------------------------------------------------------------


def explain(ref: str, rung: Rung, grade: Grade) -> str:
    """The plain-text explanation a person reads: score, each point, evidence, misconceptions."""
    lines = [f"{ref}: {rung.question}", f"Score: {grade.score:.1f} / 5"]
    if grade.flags:
        lines.append("Flags: " + ", ".join(grade.flags))
    lines.append("")
    for p in grade.points:
        mark = "HIT " if p.hit else "MISS"
        lines.append(f"  [{mark}] {p.text}  (weight {p.weight:g})")
        if p.hit and p.evidence:
            lines.append(f"         you said: \"{_one_line(p.evidence)}\"")
    for c in grade.contradictions:
        lines.append(f"  [OPPOSITE] \"{_one_line(c.evidence)}\"")
        lines.append(f"          {c.reason}; the point is: {c.text}")
    for m in grade.misconceptions:
        lines.append(f"  [WRONG] \"{_one_line(m.evidence)}\"")
        lines.append(f"          sounds like: {m.text}")
        lines.append(f"          in fact: {m.correction}")
    lines += ["", "A strong answer says:", f"  {rung.reference}"]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    from core.terminal import visible

    text = visible(" ".join(text.split()))
    return text if len(text) <= 160 else text[:157] + "..."
