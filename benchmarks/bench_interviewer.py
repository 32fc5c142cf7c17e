"""The interviewer, measured: latency, threads, and the judged set of lines (old voice v new).

* ``run()`` (``make bench``): answer -> first interviewer word and -> complete
  follow-up (p50 / p95), Start -> first question, and the kept share of model lines
  of the old voice (rephrase the question) and the new one (a checked reaction, then
  the curated question) on the same cases in the same run.
* ``python -m benchmarks.bench_interviewer --decode``: time to first token and tok/s of
  each decoding engine (``generate``, the lean decoder in fp32 and with int8 weights),
  interleaved on one prompt (also part of ``run()``).
* ``python -m benchmarks.bench_interviewer --threads``: generation speed with 1 and 2
  torch threads (why :func:`agent.llm.generation_threads` picks per reply on 2 cores).
* ``python -m benchmarks.bench_interviewer --write-judged``: regenerate
  ``tests/data/voice/judged.json`` (both voices' raw lines for every case), which the
  tests judge without running the model.

The judge (:func:`judge`) is a set of rules written for what the candidate hears,
separate from the voice's own checks: one question (and at most one reaction sentence,
with no question of its own); every part of the intended question kept; no missed key
point, reference answer or correction told; the model's words name something the
candidate said; no praise the grade does not support, no criticism.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.common import Result, latency_rows

if TYPE_CHECKING:  # the types only: the models load in run()
    from agent.llm import ChatModel, TransformersChatModel
    from agent.session import Components
    from core.embedding import Encoder
    from rubrics.bank import Bank

JUDGED = Path(__file__).resolve().parents[1] / "tests" / "data" / "voice" / "judged.json"
PER_KIND = {"opening": 20, "deeper": 22, "probe": 22, "challenge": 20}


# --- the cases ----------------------------------------------------------------------------------


@dataclass
class Case:
    """One interviewer line to say: what to ask, after which answer, and what must not be told."""

    id: str
    kind: str  # opening | deeper | probe | challenge
    topic: str
    title: str
    intended: str  # the curated question
    answer: str = ""  # the candidate's words the line follows ("" for an opening)
    strong: bool = False  # the grade was strong
    secrets: list[str] = field(default_factory=list)  # reference, missed key points, corrections
    missed: list[str] = field(default_factory=list)  # missed key points (the judge's leak list)
    lead: str = ""
    old_raw: str = ""
    new_raw: str = ""  # the default model (with the reaction adapter when it ships)
    base_raw: str = ""  # the base model without the adapter (pre-filled "So you")


def build_cases(bank: Bank, per_kind: dict[str, int] = PER_KIND) -> list[Case]:
    """Cases from the rubric bank and the labelled answers, the same on every run."""
    import yaml

    root = Path(__file__).resolve().parents[1] / "tests" / "data" / "graded_answers"
    labelled = []
    for f in sorted(root.glob("*.yaml")):
        labelled += yaml.safe_load(f.read_text()) or []
    by_kind: dict[str, list[Case]] = {k: [] for k in per_kind}
    seen_open: set[str] = set()
    for i, row in enumerate(labelled):
        topic_id, _, rung_id = row["rung"].partition(":")
        if topic_id not in bank.topics:
            continue
        topic = bank.topic(topic_id)
        rungs = {r.id: r for r in topic.rungs}
        rung = rungs.get(rung_id)
        if rung is None:
            continue
        kps = rung.effective_key_points()
        hits = set(row.get("hits") or [])
        missed = [k for k in kps if k.id not in hits]
        base = dict(topic=topic_id, title=topic.title, answer=" ".join(str(row["answer"]).split()))

        def secrets_of(*rs, rung=rung, hits=hits):
            return [
                s
                for r in rs
                for s in (
                    r.reference,
                    *(t for k in r.effective_key_points() if r is not rung or k.id not in hits for t in (k.text, *k.paraphrases)),
                    *(m.correction for m in r.misconceptions),
                )
            ]

        if rung.id not in seen_open:
            seen_open.add(rung.id)
            by_kind["opening"].append(
                Case(
                    f"{topic_id}:{rung.id}:opening",
                    "opening",
                    topic_id,
                    topic.title,
                    rung.question,
                    lead=f"Let's talk about {topic.title.lower()}.",
                    secrets=secrets_of(rung),
                    missed=[k.text for k in kps],
                )
            )
        kind = row.get("kind")
        if kind == "strong":
            deeper = [r for r in topic.rungs if r.depth == rung.depth + 1]
            if deeper:
                nxt = deeper[0]
                by_kind["deeper"].append(
                    Case(
                        f"{row['rung']}:{i}:deeper",
                        "deeper",
                        intended=nxt.question,
                        strong=True,
                        secrets=secrets_of(rung, nxt),
                        missed=[k.text for k in missed] + [k.text for k in nxt.effective_key_points()],
                        **base,
                    )
                )
        elif kind in {"partial", "rambling"} and missed:
            kp = max(missed, key=lambda k: k.weight)
            if kp.probe:
                by_kind["probe"].append(Case(f"{row['rung']}:{i}:probe", "probe", intended=kp.probe, secrets=secrets_of(rung),
                                             missed=[k.text for k in missed], **base))
        elif kind == "misconception" and row.get("misconceptions"):
            mc = next((m for m in rung.misconceptions if m.id == row["misconceptions"][0]), None)
            if mc is not None and mc.challenge:
                by_kind["challenge"].append(
                    Case(
                        f"{row['rung']}:{i}:challenge",
                        "challenge",
                        intended=mc.challenge,
                        secrets=secrets_of(rung),
                        missed=[k.text for k in missed] + [mc.correction],
                        **base,
                    )
                )
    out: list[Case] = []
    for kind, n in per_kind.items():
        pool = by_kind[kind]
        # Spread over topics: one per topic in turn, in a fixed order.
        random.Random(12).shuffle(pool)
        picked, used = [], set()
        while len(picked) < min(n, len(pool)):
            fresh = [c for c in pool if c not in picked and (c.topic not in used or len(used) >= len({p.topic for p in pool}))]
            c = fresh[0] if fresh else next(c for c in pool if c not in picked)
            picked.append(c)
            used.add(c.topic)
            if len(used) >= len({p.topic for p in pool}):
                used = set()
        out += picked
    return out


# --- the two voices ---------------------------------------------------------------------------

# The old voice (before issue 12): the model rephrases the whole question.
OLD_SYSTEM = "You are a calm, friendly interviewer for a machine learning job. You ask one short question at a time."
OLD_EXAMPLES = [
    (
        'Topic: dropout. Candidate said: "it switches off random neurons". '
        "Ask: What happens to dropout when the model serves predictions?",
        "Okay, random neurons switched off. And what happens to dropout once the model is serving predictions?",
    ),
    (
        'Topic: batch size. Candidate said: "bigger batches train faster". '
        "Ask: What goes wrong with batch norm on very small batches?",
        "Right, speed is one side. What goes wrong with batch norm when each batch holds only four examples?",
    ),
]


def old_prompt(case: Case) -> list[dict]:
    from agent.voice import _quote

    messages = [{"role": "system", "content": OLD_SYSTEM}]
    for u, a in OLD_EXAMPLES:
        messages += [{"role": "user", "content": u}, {"role": "assistant", "content": f"Question: {a}"}]
    said = _quote(case.answer) if case.answer else "(nothing yet)"
    messages.append({"role": "user", "content": f'Topic: {case.title}. Candidate said: "{said}". Ask: {case.intended}'})
    return messages


def old_line(case: Case, raw: str, encoder: Encoder) -> tuple[str, bool, str]:
    """The old voice's final line for ``raw``: (text, model words kept, reason)."""
    from agent.voice import check_question

    rubric_q = case.kind in {"opening", "deeper"}
    check = check_question(raw, case.intended, encoder, case.secrets, min_similarity=0.8 if rubric_q else 0.6,
                           min_coverage=0.6 if rubric_q else 0.0)
    body = check.text if check.ok else case.intended
    return (f"{case.lead} {body}".strip(), check.ok, check.reason)


def new_line(case: Case, raw: str, encoder: Encoder) -> tuple[str, bool, str]:
    """The new voice's final line: an opening is curated; a follow-up gets the reaction if it passes."""
    from agent.voice import NOT_ASKED, check_reaction

    if case.kind == "opening":
        return (f"{case.lead} {case.intended}".strip(), False, NOT_ASKED["opening"])
    check = check_reaction(raw, case.answer, encoder, case.secrets, strong=case.strong, question=case.intended)
    return ((f"{check.text} {case.intended}" if check.ok else case.intended), check.ok, check.reason)


def generate(
    cases: list[Case], model: ChatModel, *, old: bool = True, new: bool = True,
    log: Callable[[str], object] | None = None, old_model: ChatModel | None = None,
) -> None:
    """Fill in each case's raw lines: ``old_model`` (default ``model``) for the old voice."""
    from agent.voice import Voice

    voice = Voice(model, None)  # only its generation is used: no encoder
    base_voice = Voice(old_model, None) if old_model is not None and old_model is not model else None
    for n, case in enumerate(cases):
        if old:
            case.old_raw = "".join(
                (old_model or model).stream(old_prompt(case), prefix="Question:", max_new_tokens=44, stop=("?", "\n"))
            )
        if new and case.kind != "opening":
            case.new_raw = voice.raw_reaction(case.answer)
            if base_voice is not None:
                case.base_raw = base_voice.raw_reaction(case.answer)
        if log:
            log(f"{n + 1}/{len(cases)} {case.id}")


# --- the judge ----------------------------------------------------------------------------------


def _clauses(question: str) -> list[str]:
    parts = re.split(
        r",\s*(?:and\s+)?(?=(?:what|why|how|when|which|where|who|is|are|does|do|can|would)\b)|\band\s+(?=(?:what|why|how|when|which|where)\b)",
        question.rstrip("?"),
        flags=re.I,
    )
    return [p for p in (s.strip(" ,") for s in parts) if p]


def judge(case: Case, text: str, model_words: str) -> dict[str, bool]:
    """Rules for a line as the candidate hears it; ``model_words``: the part the model wrote ("" if none)."""
    from agent.voice import _GENERIC, CRITICISM, PRAISE, _stems, _words

    out: dict[str, bool] = {}
    out["one question"] = text.count("?") == 1 and text.rstrip().endswith("?")
    reaction = model_words if model_words and "?" not in model_words else ""
    if case.kind != "opening" and model_words and text.endswith(case.intended):
        out["one question"] = out["one question"] and "?" not in model_words
        out["one reaction sentence"] = len(re.findall(r"[.!](\s|$)", model_words)) == 1 and len(model_words.split()) <= 20
    if text.endswith(case.intended):
        out["keeps every part of the question"] = True
    else:
        said = _stems(text)
        out["keeps every part of the question"] = all(
            len(_stems(c) & said) >= 0.75 * len(_stems(c)) for c in _clauses(case.intended) if _stems(c)
        )
    if model_words:
        new = _stems(model_words) - _stems(case.answer) - _stems(case.intended) - _GENERIC
        out["no missed key point told"] = all(len(new & _stems(m)) < 2 for m in case.missed)
        if case.answer:
            out["names something the candidate said"] = bool((_stems(model_words) & _stems(case.answer)) - _GENERIC)
        words = set(_words(model_words))
        bad = (words & CRITICISM) | (set() if case.strong else words & PRAISE)
        out["no unsupported judgement"] = not bad
    _ = reaction
    return out


def judged_rows(cases: list[Case], encoder: Encoder) -> dict[str, dict]:
    """Per voice: lines, model lines kept, kept lines passing every rule, and rule failures."""
    stats: dict[str, dict] = {}
    voices = [("old", old_line, lambda c: c.old_raw), ("new", new_line, lambda c: c.new_raw)]
    if any(c.base_raw for c in cases):
        voices.append(("new, base model", new_line, lambda c: c.base_raw))
    for voice, line, raw_of in voices:
        s = {"lines": 0, "asked": 0, "kept": 0, "kept_good": 0, "good": 0, "fails": {}, "by_kind": {}}
        for c in cases:
            text, kept, reason = line(c, raw_of(c), encoder)
            asked = not (voice != "old" and c.kind == "opening")
            model_words = ""
            if kept:
                model_words = text[len(c.lead):].strip() if voice == "old" else text[: -len(c.intended)].strip()
            verdict = judge(c, text, model_words)
            good = all(verdict.values())
            s["lines"] += 1
            s["asked"] += asked
            s["kept"] += kept
            s["kept_good"] += kept and good
            s["good"] += good
            k = s["by_kind"].setdefault(c.kind, {"lines": 0, "kept": 0})
            k["lines"] += 1
            k["kept"] += kept
            for rule, ok in verdict.items():
                if not ok:
                    s["fails"][rule] = s["fails"].get(rule, 0) + 1
        stats[voice] = s
    return stats


def save_cases(cases: list[Case], path: Path = JUDGED) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(c) for c in cases], indent=1, ensure_ascii=False) + "\n")


def load_cases(path: Path = JUDGED) -> list[Case]:
    return [Case(**d) for d in json.loads(path.read_text())]


# --- timings ------------------------------------------------------------------------------------


def thread_speed(model: TransformersChatModel, reps: int = 3, tokens: int = 12) -> dict[int, list[float]]:
    """tok/s of a short generation with 1 and 2 torch threads, interleaved."""
    import torch

    from agent.voice import Voice

    messages = Voice(model, None).prompt("it switches off random neurons on every batch")
    saved = model.threads
    out: dict[int, list[float]] = {1: [], 2: []}
    try:
        for _ in range(reps):
            for n in (1, 2):
                model.threads = n
                torch.set_num_threads(n)
                t = time.perf_counter()
                "".join(model.stream(messages, max_new_tokens=tokens))
                out[n].append(model.last.new_tokens / (time.perf_counter() - t))
    finally:
        model.threads = saved
    return out


DECODE_PROMPT = "Explain, in a long paragraph, how dropout works while training and what changes at inference."


def decode_speed(model: TransformersChatModel, reps: int = 5, tokens: int = 48) -> dict[str, dict[str, list[float]]]:
    """Per decoding engine (``agent.llm.DECODE_ENGINES``), interleaved on the same prompt:
    time to the first token and tok/s after it, on ``model.threads`` threads (``DECODE_THREADS`` from decode_rows)."""
    from agent.lean_decode import int8_available, supports
    from agent.llm import DECODE_ENGINES

    engines = [e for e in DECODE_ENGINES if e == "generate" or (supports(model.model) and (e != "lean-int8" or int8_available()))]
    messages = [{"role": "user", "content": DECODE_PROMPT}]
    saved = model.engine
    out: dict[str, dict[str, list[float]]] = {e: {"first": [], "tok/s": []} for e in engines}
    try:
        for rep in range(reps + 1):
            for engine in engines:
                model.engine = engine
                model.prefix_cache = False  # the whole prompt each time: the same work for every engine
                t = time.perf_counter()
                "".join(model.stream(messages, max_new_tokens=tokens))
                total = time.perf_counter() - t
                first = model.last.first_token_s or total
                if rep:  # the first round warms each engine (the lean decoder is built on first use)
                    out[engine]["first"].append(first)
                    out[engine]["tok/s"].append((model.last.new_tokens - 1) / max(total - first, 1e-9))
    finally:
        model.engine, model.prefix_cache = saved, True
    return out


REFERENCE = "llama.cpp"  # the reference engine's row in decode_speed's result
DECODE_THREADS = 1  # the decode comparison's thread count (an interview's replies choose theirs: generation_threads)
REFERENCE_INSTALL = "make bench-reference"


def reference_speed(model: TransformersChatModel, reps: int, tokens: int) -> dict[str, list[float]] | None:
    """llama.cpp (``llama-cpp-python``, an optional bench extra) on the same GGUF, prompt,
    thread count, greedy choice and repetition penalty; None when it is not installed or
    the model is not a GGUF."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    from core.models import resolve_llm_path

    gguf = resolve_llm_path(None)
    if not gguf.is_file() or "SmolLM2" not in model.name:
        return None
    llm = Llama(model_path=str(gguf), n_ctx=1024, n_threads=model.threads or 1, n_batch=256, verbose=False)
    text = model.tokenizer.apply_chat_template(
        [{"role": "user", "content": DECODE_PROMPT}], add_generation_prompt=True, tokenize=False
    )
    ids = llm.tokenize(text.encode(), add_bos=False, special=True)
    out: dict[str, list[float]] = {"first": [], "tok/s": []}
    for rep in range(reps + 1):
        llm.reset()  # the whole prompt each time, as for ours
        t = time.perf_counter()
        first, n = 0.0, 0
        for token in llm.generate(ids, top_k=1, temp=0.0, repeat_penalty=model.repetition_penalty, reset=True):
            n += 1
            if n == 1:
                first = time.perf_counter() - t
            if n >= tokens or token == llm.token_eos():
                break
        total = time.perf_counter() - t
        if rep:
            out["first"].append(first)
            out["tok/s"].append((n - 1) / max(total - first, 1e-9))
    return out


def decode_rows(model: TransformersChatModel, quick: bool = False) -> list[Result]:
    reps = 2 if quick else 5
    saved = model.threads
    model.threads = DECODE_THREADS  # ours and llama.cpp on the same fixed count, whatever the load
    try:
        speed = decode_speed(model, reps=reps)
        reference = reference_speed(model, reps, 48)
    finally:
        model.threads = saved
    rows = []

    def median(v: list[float]) -> float:
        return sorted(v)[len(v) // 2]

    base = median(speed["generate"]["tok/s"])
    ref = median(reference["tok/s"]) if reference else None
    for engine, v in [*speed.items(), *([(REFERENCE, reference)] if reference else [])]:
        tps, first = median(v["tok/s"]), median(v["first"])
        note = "(before)" if engine == "generate" else f"({tps / base:.2f}x generate)"
        if ref and engine != REFERENCE:
            note += f", {tps / ref:.2f}x llama.cpp"
        target = ">= 0.5x llama.cpp" if engine == "lean-int8" else ""
        rows.append(Result("interviewer", f"decode, {engine} {note}", "median tok/s", tps, "tok/s", target))
        rows.append(Result("interviewer", f"first token, {engine}", "median, 40-token prompt", first * 1000, "ms"))
    if reference is None:
        missing = f"decode, {REFERENCE}: not installed ({REFERENCE_INSTALL})"
        rows.append(Result("interviewer", missing, "median tok/s", float("nan")))
    return rows


def run(quick: bool = False) -> list[Result]:
    from agent.session import load_components

    components = load_components()
    llm = components.voice.model
    rows = latency(components, quick)
    from agent.llm import TransformersChatModel

    if isinstance(llm, TransformersChatModel):
        rows += decode_rows(llm, quick)
    rows += judged_set_rows(components, quick)
    if not quick:
        assert isinstance(llm, TransformersChatModel)  # load_components() loads the default LLM
        speed = thread_speed(llm)
        for n, v in speed.items():
            v.sort()
            rows.append(Result("interviewer", f"decode with {n} torch thread(s)", "median tok/s", v[len(v) // 2], "tok/s"))
    return rows


def latency(components: Components, quick: bool = False) -> list[Result]:
    """Start -> first question, answer -> first interviewer word / complete follow-up."""
    from agent.config import SessionConfig
    from agent.personas import PERSONAS

    rows: list[Result] = []

    # Start -> first question on screen (models loaded), answer -> first word / whole follow-up.
    to_start, to_first, to_whole, to_grade, to_react = [], [], [], [], []
    rng = random.Random(0)
    for seed in range(2 if quick else 6):
        t = time.perf_counter()
        iv = components.interview(SessionConfig(track="applied-nlp", level="middle", n_topics=3, seed=seed))
        first = None
        for _ in iv.speak():
            if first is None:
                first = time.perf_counter()
        to_start.append((first or time.perf_counter()) - t)
        persona = list(PERSONAS.values())[seed % 3]  # strong, partial, rambling: the follow-ups people get
        while not iv.done:
            q, topic = iv.pending, iv.topic
            assert q is not None and topic is not None  # not done: a question of a topic is pending
            rung = next(r for r in topic.rungs if r.id == q.rung)
            start = time.perf_counter()
            iv.submit(persona(q, rung, rng))
            graded = time.perf_counter()
            first = None
            for _ in iv.speak():
                if first is None:
                    first = time.perf_counter()
            end = time.perf_counter()
            nq = iv.pending
            if nq is None or nq.kind not in {"deeper", "probe", "challenge"} or first is None:
                continue
            to_first.append(first - start)
            to_whole.append(end - start)
            to_grade.append(graded - start)
            to_react.append(nq.generation_s)
    rows += latency_rows("interviewer", "Start -> first question", to_start, target="<= 1000 ms")
    rows += latency_rows("interviewer", "answer -> first interviewer word (follow-ups)", to_first, target="<= 300 ms")
    rows += latency_rows("interviewer", "answer -> complete question (follow-ups)", to_whole, target="<= 1000 ms")
    rows += latency_rows("interviewer", "  of which: grading the answer (submit)", to_grade)
    rows += latency_rows("interviewer", "  of which: the reaction, generated and checked", to_react)
    return rows


def judged_set_rows(components: Components, quick: bool = False) -> list[Result]:
    """The judged set, both voices generated now, on the same cases."""
    llm = components.voice.model
    rows: list[Result] = []
    cases = build_cases(components.bank)
    if quick:
        cases = [c for k in PER_KIND for c in [c for c in cases if c.kind == k][:3]]
    from agent.llm import TransformersChatModel, adapter_path

    base = TransformersChatModel.load(None, adapter=False) if adapter_path() is not None else llm
    assert llm is not None  # load_components() loads the default LLM
    generate(cases, llm, old_model=base)  # the old voice ran on the base model
    stats = judged_rows(cases, components.grader.encoder)
    for voice, s in stats.items():
        rows.append(
            Result(
                "voice",
                f"{voice} voice: model lines kept",
                f"of {s['asked']} asked",
                s["kept"] / max(1, s["asked"]),
                target=">= 0.8" if voice == "new" else "",
            )
        )
        rows.append(
            Result("voice", f"{voice} voice: kept lines passing the judge", f"of {s['kept']}", s["kept_good"] / max(1, s["kept"]))
        )
        rows.append(
            Result("voice", f"{voice} voice: lines passing the judge", f"of {s['lines']}", s["good"] / max(1, s["lines"]))
        )
    return rows


def main(argv: list[str]) -> int:
    from agent.llm import TransformersChatModel

    if "--decode" in argv:
        for r in decode_rows(TransformersChatModel.load(None), quick="--quick" in argv):
            print(f"{r.case:<44} {r.metric:<26} {r.value:8.1f} {r.unit}")
        return 0
    if "--threads" in argv:
        speed = thread_speed(TransformersChatModel.load(None))
        for n, v in speed.items():
            print(f"{n} thread(s): tok/s {', '.join(f'{x:.1f}' for x in v)}")
        return 0
    if "--write-judged" in argv:
        from rubrics.bank import load_bank

        cases = build_cases(load_bank())
        if "--new-only" in argv and JUDGED.is_file():  # keep the old voice's lines, regenerate the new
            old = {c.id: c.old_raw for c in load_cases()}
            for c in cases:
                c.old_raw = old.get(c.id, "")
        model = TransformersChatModel.load(None)
        from agent.llm import adapter_path

        base = TransformersChatModel.load(None, adapter=False) if adapter_path() is not None else None
        generate(cases, model, old="--new-only" not in argv, old_model=base, log=lambda m: print(m, file=sys.stderr, flush=True))
        save_cases(cases)
        print(f"wrote {len(cases)} cases to {JUDGED}")
        return 0
    if "--latency" in argv:
        from agent.session import load_components
        from benchmarks.__main__ import print_table

        print_table(latency(load_components(), quick="--quick" in argv))
        return 0
    if "--judge" in argv:
        from core.embedding import Embedder

        print(json.dumps(judged_rows(load_cases(), Embedder.load(None)), indent=1))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
