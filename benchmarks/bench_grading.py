"""Grading latency and memory once the models are loaded, old graders beside the new one in one run.

Targets (issue: grader v2): p50 <= 60 ms for a 40-word spoken answer and <= 250 ms for
a 600-word one, on 2 cores.  Each answer is graded against a different rung so the
per-rung cache is warm only where the app has it warm (a rung's vectors are computed
once, when its question is asked).  v2 also runs the judge (a cross-encoder) on the
windows it needs; v1 is the similarity-only grader of the commit before the rewrite
(:mod:`benchmarks.legacy`), with its own calibration; "v2 fp32 (before)" is v2 with the
encoders in fp32, as before bfloat16 (and as on a CPU without AMX or AVX-512 BF16);
"v2 one thread (before)" is the same v2 with every small batch on one thread, as before
the encoders took the cores that are free (:mod:`core.cpu`).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from benchmarks.common import Result, latency_rows

if TYPE_CHECKING:
    from rubrics.grader import Grader

SHORT = "it turns off random neurons"
TYPICAL = (
    "um so basically the idea is like, during training you randomly switch off some of the units and "
    "uh that stops them from relying on each other too much and then at test time you use all of them"
)
RAMBLE_PARTS = [
    "so during training dropout zeroes a random subset of the neurons on every step, and the mask changes each time.",
    "i remember we had a model at work that overfit badly and adding dropout of point three fixed most of it.",
    "the reason it helps is that no neuron can count on any particular other neuron, so features get redundant.",
    "you can also think of it as training a big ensemble of thinned networks that share their weights.",
    "and at inference you switch it off, model eval in pytorch, every unit is used and nothing is random.",
    "honestly i also tried it with batch norm and it was a bit fiddly, the variance shifts between train and eval.",
]


def _ramble(words: int) -> str:
    out: list[str] = []
    i = 0
    while sum(len(s.split()) for s in out) < words:
        out.append(RAMBLE_PARTS[i % len(RAMBLE_PARTS)])
        i += 1
    return " ".join(" ".join(out).split()[:words])


def _load_v2(bf16: bool) -> Grader:
    """Grader v2 with its encoder and judge loaded in fp32 or bfloat16 (core.models.encoder_bf16)."""
    import os

    from core.embedding import Embedder
    from core.models import BF16_ENV
    from rubrics.grader import Grader
    from rubrics.judge import Judge

    before = os.environ.get(BF16_ENV)
    os.environ[BF16_ENV] = "1" if bf16 else "0"
    try:
        return Grader(Embedder.load(), judge=Judge.load())
    finally:
        if before is None:
            os.environ.pop(BF16_ENV, None)
        else:
            os.environ[BF16_ENV] = before


ONE_THREAD = "v2 one thread (before)"


@contextmanager
def _one_thread() -> Iterator[None]:
    """Small batches on one thread whatever the load: the encoders before core.cpu."""
    import core.cpu

    saved = core.cpu.spare_threads
    core.cpu.spare_threads = lambda *a, **k: 1
    try:
        yield
    finally:
        core.cpu.spare_threads = saved


def run(quick: bool = False) -> list[Result]:
    from benchmarks.legacy import load_grader
    from core.models import encoder_bf16
    from rubrics.bank import load_bank

    # v2 as it runs here (bfloat16 encoders where the CPU has native bfloat16: AMX or AVX-512 BF16) beside v2 in fp32, the
    # path before bfloat16 and the one a CPU without AMX takes, and v1: calls interleaved,
    # so a change in the machine's load lands on every grader alike.
    graders: dict[str, Any] = {}
    if encoder_bf16():
        graders["v2"] = _load_v2(bf16=True)
        graders["v2 fp32 (before)"] = _load_v2(bf16=False)
    else:
        graders["v2"] = _load_v2(bf16=False)
    graders[ONE_THREAD] = graders["v2"]  # the same models, graded under _one_thread
    old = load_grader(graders["v2"].encoder)
    if old is not None:
        graders["v1"] = old
    rungs = [r for _, r in load_bank().all_rungs()]
    n = 20 if quick else 120
    cases = [
        ("short", SHORT),
        ("typical", TYPICAL),
        ("40 words", _ramble(40)),
        ("600 words", _ramble(600)),
        ("1000 words", _ramble(1000)),
    ]
    targets = {"40 words": "<= 60 ms", "600 words": "<= 250 ms", "1000 words": "well under 1 s"}
    for grader in graders.values():
        for rung in rungs:  # the app embeds a rung when it asks it, before the answer arrives
            grader.grade(rung, "warm")
    rows: list[Result] = []
    for label, answer in cases:
        calls = n if "1000" not in label else n // 3
        secs: dict[str, list[float]] = {name: [] for name in graders}
        for i in range(-3, calls):  # three warm-up rounds
            for name, grader in graders.items():
                # Each call a fresh answer text, so no cache of the judge is reused across calls.
                with _one_thread() if name == ONE_THREAD else nullcontext():
                    start = time.perf_counter()
                    grader.grade(rungs[i % len(rungs)], f"{answer} ({i})")
                if i >= 0:
                    secs[name].append(time.perf_counter() - start)
        for name in graders:
            rows += latency_rows(
                f"grading {name}", f"{label} ({len(answer.split())} words)", secs[name],
                target=targets.get(label, "") if name == "v2" else "",
            )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    models = ", ".join(name for name in graders if name != ONE_THREAD)
    rows.append(Result("grading", f"peak RSS of this process ({models}, their models)", "max", rss_mb, "MB"))
    return rows
