"""The interviewer's latency with the default model: answer submitted -> first streamed
token of the follow-up, and -> the whole follow-up (targets: <= 0.5 s and <= 2.5 s p50),
plus generation speed.  Persona runs report mean score and fallback rate per persona.

Only questions the LLM phrases count (openings, deeper rungs, probes, challenges);
hints and rephrases are the rubric's own text and appear at once.
"""

from __future__ import annotations

import random
import time

from benchmarks.common import Result, latency_rows


class _Timed:
    """Wraps a ChatModel to timestamp its first chunk of each call."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner = inner
        self.name = inner.name
        self.first_at: float | None = None

    def stream(self, messages, **kwargs):  # noqa: ANN001, ANN201
        self.first_at = None
        for chunk in self.inner.stream(messages, **kwargs):
            if self.first_at is None:
                self.first_at = time.perf_counter()
            yield chunk


def run(quick: bool = False) -> list[Result]:
    from agent.config import SessionConfig
    from agent.personas import PERSONAS, simulate
    from agent.session import load_components

    components = load_components()
    llm = components.voice.model
    timed = _Timed(llm)
    components.voice.model = timed
    to_first, to_model_first, to_whole, tok_s, prompt_tokens = [], [], [], [], []
    rng = random.Random(0)
    n_sessions = 2 if quick else 6
    for seed in range(n_sessions):
        iv = components.interview(SessionConfig(track="applied-nlp", level="middle", n_topics=3, seed=seed))
        persona = list(PERSONAS.values())[seed % 3]  # strong, partial, rambling: the follow-ups people get
        list(iv.speak())
        while not iv.done:
            q = iv.pending
            rung = next(r for r in iv.topic.rungs if r.id == q.rung)
            start = time.perf_counter()
            iv.submit(persona(q, rung, rng))
            first = None
            for _ in iv.speak():
                if first is None:
                    first = time.perf_counter()
            end = time.perf_counter()
            nq = iv.pending
            if nq is None or nq.kind in {"hint", "simpler"} or first is None:
                continue
            to_first.append(first - start)
            if timed.first_at:
                to_model_first.append(timed.first_at - start)
            to_whole.append(end - start)
            stats = llm.last
            if stats.new_tokens and stats.total_s and stats.first_token_s is not None:
                tok_s.append(stats.new_tokens / max(1e-6, stats.total_s - stats.first_token_s))
                prompt_tokens.append(stats.prompt_tokens)
    rows = latency_rows("interviewer", "answer -> first token on screen", to_first, target="<= 500 ms")
    rows += latency_rows("interviewer", "answer -> first model token", to_model_first, target="<= 500 ms")
    rows += latency_rows("interviewer", "answer -> whole follow-up", to_whole, target="<= 2500 ms")
    tok_s.sort()
    rows.append(Result("interviewer", f"decode speed ({llm.name})", "median tok/s", tok_s[len(tok_s) // 2] if tok_s else 0.0, "tok/s", "llama.cpp: ~145"))
    prompt_tokens.sort()
    rows.append(Result("interviewer", "prompt size", "median tokens", prompt_tokens[len(prompt_tokens) // 2] if prompt_tokens else 0.0))

    # Personas with the real model: mean score and how often the rubric wording stood in.
    components.voice.model = llm
    for persona in PERSONAS if not quick else ("strong", "empty"):
        runs = [simulate(components, persona, SessionConfig(track="applied-nlp", level="middle", n_topics=3, seed=s), seed=s) for s in range(2 if quick else 3)]
        scores = [x for r in runs for x in r.scores]
        phrased = sum(r.phrased for r in runs)
        fell = sum(r.fallbacks for r in runs)
        rows.append(Result("personas", persona, "mean score", sum(scores) / max(1, len(scores))))
        rows.append(Result("personas", persona, "fallback rate", fell / phrased if phrased else 0.0))
    return rows
