"""The seam between the interview engine and a language model.

The engine only needs one thing from a model: *stream the continuation of a short chat,
token by token, and stop when told*.  :class:`ChatModel` is that protocol.  Tests and
the policy simulator plug in a scripted fake; the app plugs in
:class:`TransformersChatModel`, which wraps whatever :func:`viva.models.load_llm`
loaded (the shipped SmolLM2-135M or a user's ``--llm``).

Streaming matters for the feel of the interview: the first token should reach the
screen in a fraction of a second, and Escape must be able to stop generation.  We run
``model.generate`` in a thread and read a ``TextIteratorStreamer``; a stopping
criterion built once per model checks the stop strings and a cancel flag on every step
(``generate(stop_strings=...)`` would rebuild the tokenizer's vocabulary on every call).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Message = dict[str, str]


@runtime_checkable
class ChatModel(Protocol):
    """Anything that can continue a chat as a stream of text chunks."""

    name: str

    def stream(
        self,
        messages: Sequence[Message],
        *,
        prefix: str = "",
        max_new_tokens: int = 60,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Yield the assistant's continuation after ``prefix`` (not including it)."""
        ...


@dataclass
class GenerationStats:
    """Timing of the last generation, for benchmarks and the transcript."""

    prompt_tokens: int = 0
    new_tokens: int = 0
    first_token_s: float | None = None
    total_s: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.total_s if self.total_s > 0 else 0.0


class _StopOnText:
    """A stopping criterion: stop at any stop string in the new text, or when cancelled.

    It is a plain callable with the ``StoppingCriteria`` signature so one instance per
    call costs nothing to build; it decodes only the generated tail, which stays short.
    """

    def __init__(self, tokenizer: Any, prompt_len: int, stop: Sequence[str], cancel: threading.Event) -> None:
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        self.stop = [s for s in stop if s]
        self.cancel = cancel

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = self.cancel.is_set()
        if not done and self.stop:
            text = self.tokenizer.decode(input_ids[0, self.prompt_len :], skip_special_tokens=True)
            done = any(s in text for s in self.stop)
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


@dataclass
class TransformersChatModel:
    """A :class:`ChatModel` over a transformers causal LM (greedy, so runs are repeatable)."""

    model: Any
    tokenizer: Any
    name: str = "llm"
    repetition_penalty: float = 1.1
    last: GenerationStats = field(default_factory=GenerationStats)
    prefix_cache: bool = True
    _cached: tuple[tuple[int, ...], Any] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, source: str | None = None) -> TransformersChatModel:
        from viva.models import load_llm

        loaded = load_llm(source)
        return cls(model=loaded.model, tokenizer=loaded.tokenizer, name=loaded.name)

    def prompt_ids(self, messages: Sequence[Message], prefix: str = "") -> Any:
        text = self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)
        enc = self.tokenizer(text + prefix, return_tensors="pt", add_special_tokens=False)
        return enc["input_ids"].to(self.model.device)

    def _past_for(self, messages: Sequence[Message], ids: Any) -> Any:
        """The KV cache of the prompt's fixed head (system turn and examples), reused.

        The interviewer's prompts differ only in their last user turn, so prefilling the
        ~200-token head on every question is wasted time (~0.2 s on 2 cores).  We prefill
        it once, keep the cache, and hand generate a copy; the output is the same.
        """
        import copy

        import torch

        if not self.prefix_cache or len(messages) < 2:
            return None
        head_text = self.tokenizer.apply_chat_template(list(messages[:-1]), tokenize=False)
        head = self.tokenizer(head_text, return_tensors="pt", add_special_tokens=False)["input_ids"][0].tolist()
        n = len(head)
        if n == 0 or n >= ids.shape[1] or ids[0, :n].tolist() != head:
            return None
        if self._cached is None or self._cached[0] != tuple(head):
            with torch.inference_mode():
                out = self.model(torch.tensor([head], device=self.model.device), use_cache=True)
            self._cached = (tuple(head), out.past_key_values)
        return copy.deepcopy(self._cached[1])

    def stream(
        self,
        messages: Sequence[Message],
        *,
        prefix: str = "",
        max_new_tokens: int = 60,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        import time

        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        cancel = cancel or threading.Event()
        ids = self.prompt_ids(messages, prefix)
        past = self._past_for(messages, ids)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        criterion = _StopOnText(self.tokenizer, ids.shape[1], stop, cancel)
        stats = GenerationStats(prompt_tokens=int(ids.shape[1]))
        self.last = stats
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    out = self.model.generate(
                        ids,
                        attention_mask=torch.ones_like(ids),
                        max_new_tokens=max_new_tokens,
                        do_sample=False,
                        repetition_penalty=self.repetition_penalty,
                        stopping_criteria=StoppingCriteriaList([criterion]),
                        streamer=streamer,
                        pad_token_id=self.tokenizer.eos_token_id,
                        past_key_values=past,
                    )
                stats.new_tokens = int(out.shape[1] - ids.shape[1])
            except BaseException as exc:  # surfaced in the consumer's thread below
                failure.append(exc)
                streamer.end()

        start = time.perf_counter()
        worker = threading.Thread(target=run, name="viva-generate", daemon=True)
        worker.start()
        try:
            for chunk in streamer:
                if chunk:
                    if stats.first_token_s is None:
                        stats.first_token_s = time.perf_counter() - start
                    yield chunk
        finally:
            cancel.set()  # a consumer that stops early (Escape, a stop string) ends generate too
            worker.join()
            stats.total_s = time.perf_counter() - start
        if failure:
            raise failure[0]


def complete(model: ChatModel, messages: Sequence[Message], **kwargs: Any) -> str:
    """Collect a whole streamed reply (for callers that do not stream)."""
    return "".join(model.stream(messages, **kwargs))
