"""Grading latency once the embedder is loaded (target: under 50 ms per answer).

Answers of three shapes, each graded against a different rung so the per-rung
embedding cache is warm only where the app would have it warm (the rung's vectors are
computed once, when its question is asked): short, typical spoken, and a 600-word
ramble that hits the window cap.
"""

from __future__ import annotations

from benchmarks.common import Result, latency_rows, time_calls

SHORT = "it turns off random neurons"
TYPICAL = (
    "um so basically the idea is like, during training you randomly switch off some of the units and "
    "uh that stops them from relying on each other too much and then at test time you use all of them"
)
RAMBLE = " ".join([TYPICAL] * 16)


def run(quick: bool = False) -> list[Result]:
    from rubrics.bank import load_bank
    from rubrics.grader import Grader
    from viva.embedding import Embedder

    grader = Grader(Embedder.load())
    rungs = [r for _, r in load_bank().all_rungs()]
    n = 30 if quick else 200
    for rung in rungs:  # the app embeds a rung when it asks it, before the answer arrives
        grader.grade(rung, "warm")
    rows: list[Result] = []
    for label, answer in (("short answer", SHORT), ("typical spoken answer", TYPICAL), ("600-word ramble", RAMBLE)):
        secs = time_calls(lambda i, a=answer: grader.grade(rungs[i % len(rungs)], a), n)
        rows += latency_rows("grading", f"{label} ({len(answer.split())} words)", secs, target="< 50 ms" if label != "short answer" else "")
    return rows
