"""``viva grade``: score one answer against a rubric rung or an ad-hoc reference answer."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "grade",
        help="score an answer against a rubric (or an ad-hoc reference) and explain the score",
        description="Score an answer 0-5 against a rubric rung, or against --question/--reference "
        "with no rubric file. The answer is the argument, or standard input when it is '-' or omitted.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--rubric", metavar="TOPIC[:RUNG]", help="a rung of the bank, e.g. dropout:inference")
    src.add_argument("--reference", metavar="TEXT", help="an ad-hoc reference answer (split into key points)")
    p.add_argument("--question", metavar="TEXT", help="the question asked (with --reference; used to spot restating it)")
    p.add_argument("answer", nargs="?", default="-", help="the answer text; '-' or omitted reads standard input")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p.set_defaults(handler=run_grade)


def _read_answer(arg: str) -> str:
    if arg != "-":
        return arg
    if sys.stdin.isatty():
        print("Type the answer, then Ctrl-D:", file=sys.stderr)
    data = sys.stdin.buffer.read()
    return data.decode("utf-8", errors="replace")


def run_grade(args: argparse.Namespace) -> int:
    from viva.errors import VivaError

    if args.question and not args.reference:
        raise VivaError("--question needs --reference (or use --rubric TOPIC[:RUNG])")
    answer = _read_answer(args.answer)
    if args.rubric:
        from rubrics.bank import load_bank

        topic, rung = load_bank().rung(args.rubric)
        ref = f"{topic.topic}:{rung.id}"
    else:
        from rubrics.schema import adhoc_rung

        if not args.reference.strip():
            raise VivaError("--reference is empty")
        rung = adhoc_rung(args.reference, args.question)
        ref = "ad-hoc"

    from rubrics.grader import Grader
    from viva.embedding import Embedder

    grade = Grader(Embedder.load(args.embedder)).grade(rung, answer)
    if args.json:
        out = {"rubric": ref, "question": rung.question, **grade.to_dict()}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(explain(ref, rung, grade))
    return 0


def explain(ref: str, rung, grade) -> str:  # noqa: ANN001 - rubrics types stay out of the import path
    """The plain-text explanation a person reads: score, each point, evidence, misconceptions."""
    lines = [f"{ref}: {rung.question}", f"Score: {grade.score:.1f} / 5"]
    if grade.flags:
        lines.append("Flags: " + ", ".join(grade.flags))
    lines.append("")
    for p in grade.points:
        mark = "HIT " if p.hit else "MISS"
        lines.append(f"  [{mark}] {p.text}  (similarity {p.similarity:.2f}, weight {p.weight:g})")
        if p.hit and p.evidence:
            lines.append(f"         you said: \"{_one_line(p.evidence)}\"")
    for m in grade.misconceptions:
        lines.append(f"  [WRONG] \"{_one_line(m.evidence)}\"")
        lines.append(f"          sounds like: {m.text}")
        lines.append(f"          in fact: {m.correction}")
    lines += ["", "A strong answer says:", f"  {rung.reference}"]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:157] + "..."
