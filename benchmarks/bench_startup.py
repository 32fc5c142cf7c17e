"""Launch -> models ready, cold and warm, and the peak memory of a whole interview.

Each figure comes from a fresh process (``python -m benchmarks.bench_startup --child``),
because both are properties of a process's life: what a start imports and loads, and the
most memory it ever held.

* launch -> models ready: from spawning the process to :func:`agent.session.load_components`
  returning as the TUI calls it (the LLM still loading in the background), what a
  candidate waits for before the first question; and to the LLM loaded as well.  *Warm*: the user
  cache holds the model's dense copy and the int8 decoder's weights.  *Cold*: an empty
  cache (``VIVA_CACHE_DIR`` in a temporary folder), so the one-off GGUF conversion and the
  int8 build are in it.
* peak RSS: the models loaded, then two scripted interviews
  (:func:`benchmarks.bench_interviewer.latency`); ``ru_maxrss`` of that process.  The
  default decoder beside ``VIVA_DECODE=generate`` (before), in the same run.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from benchmarks.common import Result, percentile


def _child(interview: bool, via_library: bool = False) -> None:
    if via_library:  # before: the embedder through sentence-transformers (its import in every start)
        import core.mean_pool

        core.mean_pool.mean_pool_spec = lambda path: None
    from agent.llm import loaded_model
    from agent.session import load_components

    components = load_components(background_llm=True)  # as the TUI does
    print(json.dumps({"ready": time.time()}), flush=True)
    loaded_model(components.voice.model)
    print(json.dumps({"llm": time.time()}), flush=True)
    if interview:
        from benchmarks.bench_interviewer import latency

        latency(components, quick=True)
    print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


def _spawn(env: dict[str, str], interview: bool = False, via_library: bool = False) -> tuple[float, float, float]:
    """Seconds from spawn to models ready and to the LLM loaded, and the peak RSS in MiB, of one child."""
    args = [sys.executable, "-m", "benchmarks.bench_startup", "--child"]
    args += (["--interview"] if interview else []) + (["--via-library"] if via_library else [])
    start = time.time()
    out = subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    fields: dict[str, float] = {}
    for line in out.splitlines():
        if line.startswith("{"):
            fields.update(json.loads(line))
    return fields["ready"] - start, fields["llm"] - start, fields["peak_mb"]


def run(quick: bool = False) -> list[Result]:
    rows: list[Result] = []
    reps = 2 if quick else 5
    _spawn({})  # fills the user cache if this is the first start
    warm, before = [], []
    for _ in range(reps):  # interleaved, so a busier minute weighs on both alike
        before.append(_spawn({}, via_library=True))
        warm.append(_spawn({}))
    ready = percentile([w[0] for w in warm], 0.5)
    rows.append(Result(
        "startup", "launch -> models ready, warm, embedder via sentence-transformers (before)", "median",
        percentile([w[0] for w in before], 0.5), "s",
    ))
    rows.append(Result("startup", "launch -> models ready (first question can be asked), warm", "median", ready, "s", "<= 5 s"))
    llm = percentile([w[1] for w in warm], 0.5)
    rows.append(Result("startup", "launch -> LLM loaded too (in the background), warm", "median", llm, "s"))
    with tempfile.TemporaryDirectory(prefix="viva-cold-") as cold_dir:
        cold, cold_llm, cold_peak = _spawn({"VIVA_CACHE_DIR": cold_dir})
    rows.append(Result("startup", "launch -> models ready, cold cache", "one start", cold, "s"))
    rows.append(Result("startup", "launch -> LLM loaded, cold cache (one-off conversion)", "one start", cold_llm, "s"))
    rows.append(Result("startup", "peak RSS of that cold start", "max", cold_peak, "MiB"))
    for engine, label in (("generate", "VIVA_DECODE=generate (before)"), ("", "default decoder")):
        peaks = [_spawn({"VIVA_DECODE": engine}, interview=True)[2] for _ in range(1 if quick else 2)]
        target = "" if engine else "< 1.2 GB"
        rows.append(Result("startup", f"peak RSS, models + two interviews, {label}", "max", max(peaks), "MiB", target))
    return rows


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child("--interview" in sys.argv, "--via-library" in sys.argv)
    else:
        from benchmarks.__main__ import print_table

        print_table(run(quick="--quick" in sys.argv))
