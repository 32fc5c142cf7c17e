"""The seam between the interview engine and a language model.

The engine only needs one thing from a model: *stream the continuation of a short chat,
token by token, and stop when told*.  :class:`ChatModel` is that protocol.  Tests and
the policy simulator plug in a scripted fake; the app plugs in
:class:`TransformersChatModel`, which wraps whatever :func:`core.models.load_llm`
loaded (the shipped SmolLM2-135M or a user's ``--llm``).

Streaming matters for the feel of the interview: the first token should reach the
screen in a fraction of a second, and Escape must be able to stop generation.  We run
``model.generate`` in a thread and read a ``TextIteratorStreamer``; a stopping
criterion built once per model checks the stop strings and a cancel flag on every step
(``generate(stop_strings=...)`` would rebuild the tokenizer's vocabulary on every call).
The caller's ``cancel`` event is only ever set by the caller: a consumer that stops
reading early ends ``generate`` through a private stop event, so "was it cancelled?"
keeps meaning "did someone press Escape".

Decoding: on the CPU a Llama-family model (the shipped SmolLM2) is decoded by
:mod:`agent.lean_decode` rather than ``generate`` - the same greedy arithmetic with
fused projections and a preallocated cache, and by default int8 weights (a quarter of
the bytes a memory-bound decode reads per token).  ``VIVA_DECODE=generate`` (or
``lean`` for fp32 weights) chooses otherwise; :func:`decode_engine` says which.

Threads: under CPU contention on a 2-core machine, 2 torch threads decoded 5-8x slower
than 1 (measured: 1.0-1.4 tok/s against 6.8-7.8 tok/s for the same 12 tokens,
``python -m benchmarks.bench_interviewer --threads``), and ~1.45x faster with the other
core idle (53 against 37 tok/s), so each reply runs on :func:`generation_threads`
threads: the cores free when it starts (at most 2 on 2 cores, half the cores up to 4
above that), or ``VIVA_LLM_THREADS``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pathlib import Path

Message = dict[str, str]


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def adapter_path() -> Path | None:
    """The shipped reaction adapter (``agent/voice_lora``), if it is there."""
    from pathlib import Path

    path = Path(__file__).resolve().parent / "voice_lora"
    return path if (path / "adapter_config.json").is_file() else None


def _weights_digest(adapter: Path | None) -> str:
    """What a saved int8 build depends on besides the base model: the merged adapter's
    bytes, torch's version (its rounding) and the packing's format."""
    import hashlib

    import torch

    h = hashlib.sha256(f"{torch.__version__}|{INT8_FORMAT}".encode())
    if adapter is not None:
        for f in sorted(adapter.glob("*")):
            if f.is_file():
                h.update(f.name.encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:16]


INT8_FORMAT = 1  # bump when lean_decode's int8 packing changes


def generation_threads() -> int:
    """Torch threads for the reply about to be written: ``VIVA_LLM_THREADS``; else the
    cores free at this moment (:func:`core.cpu.spare_threads`), at most 2 on up to 2 cores
    and half the cores (at most 4) above that.

    Chosen per reply, not once: on 2 cores two threads decode ~1.45x faster than one
    while the other core is idle and 2.8-7x slower while anything else runs there.
    """
    from core.cpu import spare_threads, thread_cap, usable_cores

    env = os.environ.get("VIVA_LLM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    cores = usable_cores()
    # Where the load cannot be read (not Linux), the fixed choice of before: 1 on up to 2
    # cores, half the cores (at most 4) above that.
    fixed = 1 if cores <= 2 else min(4, cores // 2)
    return spare_threads(limit=min(thread_cap(), cores if cores <= 2 else fixed), unknown=fixed)


DECODE_ENGINES = ("lean-int8", "lean", "generate")
# The lean decoder's cache holds this many tokens (47 MB for SmolLM2); the interviewer's
# prompts are a few hundred, and a longer one goes to generate.
LEAN_MAX_LEN = 1024


def decode_engine(model: Any) -> str:
    """``VIVA_DECODE`` if it names an engine that can run ``model``, else the fastest that can:
    ``lean-int8`` (int8 weights), ``lean`` (fp32 weights, the same text as ``generate``),
    ``generate`` (transformers; any model, any device)."""
    from agent import lean_decode

    wanted = os.environ.get("VIVA_DECODE", "").strip().lower()
    if wanted == "int8":
        wanted = "lean-int8"
    if wanted == "generate" or not lean_decode.supports(model):
        return "generate"
    if wanted == "lean" or not lean_decode.int8_available():
        return "lean"
    return "lean-int8"


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


class BackgroundChatModel:
    """The interviewer's LLM, loading in a thread while the candidate reads the first question.

    Why: nothing the interviewer says before the first answer comes from the model (an
    opening is the curated question), and loading it takes 0.3 s of a warm start but
    15 s of a first one, which converts the GGUF (README "Models").  So the models are
    "ready" once the grader and the index are, and the first reaction - at the earliest
    a few seconds later, after an answer - waits for the load if it is still running.  A load that fails raises its error
    there (:class:`core.errors.ModelError`), where the voice falls back to the curated
    wording and says why.

    Not a daemon thread: one still inside torch when the interpreter exits aborts the
    process; an exit waits for the load instead.
    """

    def __init__(self, load: Callable[[], ChatModel], name: str) -> None:
        self.name = name
        self._load = load
        self._done = threading.Event()
        self._model: ChatModel | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name="viva-llm-load", daemon=False).start()

    def _run(self) -> None:
        try:
            self._model = self._load()
        except BaseException as exc:  # noqa: BLE001 - re-raised to whoever needs the model
            self._error = exc
        finally:
            self._done.set()

    @property
    def is_loaded(self) -> bool:
        return self._done.is_set() and self._error is None

    @property
    def loading(self) -> bool:
        """The load's thread is still running."""
        return not self._done.is_set()

    def loaded(self) -> ChatModel:
        """The model, once loaded (waits for the load; raises what it raised)."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._model is not None
        return self._model

    def stream(self, messages: Sequence[Message], **kwargs: Any) -> Iterator[str]:
        return self.loaded().stream(messages, **kwargs)

    def prepare(self, messages: Sequence[Message]) -> None:
        warm = getattr(self.loaded(), "prepare", None)
        if callable(warm):
            warm(messages)


def loaded_model(model: ChatModel | None) -> ChatModel | None:
    """``model`` itself, or the model a :class:`BackgroundChatModel` was loading (waits for it)."""
    return model.loaded() if isinstance(model, BackgroundChatModel) else model


def chat_model_name(source: str | None, adapter: bool) -> str:
    """The name :meth:`TransformersChatModel.load` gives (known before loading: the header shows it)."""
    from core.models import model_name, resolve_llm_path

    return model_name(resolve_llm_path(source)) + ("+voice-lora" if adapter else "")


def wants_adapter(source: str | None, adapter: bool | None = None) -> bool:
    """Whether the shipped reaction LoRA goes with ``source``: asked, or (``None``) the model is
    the default one, ``VIVA_VOICE_ADAPTER`` is not 0 and the adapter is there."""
    if adapter is None:
        adapter = source is None and os.environ.get("VIVA_VOICE_ADAPTER", "1") != "0"
    return adapter and adapter_path() is not None


@dataclass
class GenerationStats:
    """Timing of the last generation, for benchmarks and the transcript."""

    prompt_tokens: int = 0
    new_tokens: int = 0
    first_token_s: float | None = None
    total_s: float = 0.0


class _StopOnText:
    """A stopping criterion: stop at any stop string in the new text, or when cancelled.

    It is a plain callable with the ``StoppingCriteria`` signature so one instance per
    call costs nothing to build; it decodes only the generated tail, which stays short.
    """

    def __init__(
        self, tokenizer: Any, prompt_len: int, stop: Sequence[str], cancel: threading.Event, ended: threading.Event | None = None
    ) -> None:
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        self.stop = [s for s in stop if s]
        self.cancel = cancel
        self.ended = ended or threading.Event()  # the consumer stopped reading

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = self.cancel.is_set() or self.ended.is_set()
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
    threads: int = 0  # torch threads for every reply; 0: chosen per reply (generation_threads)
    engine: str = "generate"  # one of DECODE_ENGINES; load() picks with decode_engine()
    _cached: tuple[tuple[int, ...], Any] | None = field(default=None, repr=False)
    _lean: dict[bool, Any] = field(default_factory=dict, repr=False)  # lean_decode.LeanDecoder by int8, built on first use
    int8_cache: Path | None = None  # where the lean decoder's int8 weights are kept between starts (load() sets it)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _adapter: Path | None = field(default=None, repr=False)  # a LoRA not merged yet (_merge_adapter)
    _merge_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(
        cls, source: str | None = None, *, adapter: bool | None = None, cache_dir: Path | None = None
    ) -> TransformersChatModel:
        """Load ``source`` (default: the shipped SmolLM2-135M).

        ``adapter``: merge the shipped reaction LoRA (:mod:`evaluation.train_voice`) into the
        default model; ``None`` means "when it is there, the model is the default one
        and ``VIVA_VOICE_ADAPTER`` is not 0".  ``cache_dir``: where the int8 decoder's
        weights are kept (default: beside the model's dense copy; tests use their own).
        """
        from core.models import load_llm

        loaded = load_llm(source)
        lora = adapter_path() if wants_adapter(source, adapter) else None
        int8_cache = None
        cache_dir = cache_dir or loaded.cache_dir
        if cache_dir is not None:
            int8_cache = cache_dir / f"lean-int8-{_weights_digest(lora)}.safetensors"
        chat = cls(
            model=loaded.model, tokenizer=loaded.tokenizer, name=chat_model_name(source, lora is not None),
            engine=decode_engine(loaded.model), int8_cache=int8_cache, _adapter=lora,
        )
        if not (chat.engine == "lean-int8" and int8_cache is not None and int8_cache.is_file()):
            chat._merge_adapter()  # the model's own weights will be read: merge now, not mid-reply
        return chat

    def _merge_adapter(self) -> None:
        """Merge the reaction LoRA into the model's weights, once, before they are first read.

        Why lazily: merging writes the attention projections of every layer, 106 MB of
        fresh fp32 that the int8 decoder, loaded from its saved weights (which include
        the adapter), never reads.  Only ``generate``, the fp32 decoder or a first int8
        build read the model's own projections.
        """
        with self._merge_lock:
            if self._adapter is None:
                return
            import warnings

            from peft import PeftModel

            with warnings.catch_warnings():  # peft calls a transformers API deprecated in 5.2x
                warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
                self.model = PeftModel.from_pretrained(self.model, str(self._adapter)).merge_and_unload()
            self.model.eval()
            self._adapter = None

    def _decoder(self) -> Any:
        """The lean decoder of the current engine, built once (a switch of engine keeps both)."""
        int8 = self.engine == "lean-int8"
        if int8 not in self._lean:
            from agent.lean_decode import LeanDecoder

            packed = self._load_packed() if int8 else None
            if packed is None:
                self._merge_adapter()
            self._lean[int8] = decoder = LeanDecoder(self.model, max_len=LEAN_MAX_LEN, int8=int8, packed=packed)
            if int8 and packed is None:
                self._save_packed(decoder.packed())
        return self._lean[int8]

    def _load_packed(self) -> dict[str, Any] | None:
        """The int8 weights saved by an earlier start, if they are there and fit the model.

        Why: quantizing reads every fp32 weight, and a page read stays in the process's
        resident memory while the model is mapped: 540 MB of SmolLM2 that the int8 decoder
        never uses again.  Loaded from this file, the fp32 projections are never touched
        (peak RSS of an interview: README "Models").
        """
        from agent.lean_decode import check_packed

        if self.int8_cache is None or not self.int8_cache.is_file():
            return None
        try:
            from safetensors.torch import load_file

            packed = load_file(self.int8_cache)
        except Exception:  # noqa: BLE001 - a damaged or foreign file: rebuild it (a cache only saves time)
            return None
        return packed if check_packed(self.model, packed) else None

    def _save_packed(self, packed: dict[str, Any]) -> None:
        """Write the int8 weights beside the model's dense copy (atomically; a failure only costs speed)."""
        if self.int8_cache is None or not self.int8_cache.parent.is_dir():
            return
        import tempfile

        from safetensors.torch import save_file

        fd, tmp = tempfile.mkstemp(prefix=self.int8_cache.name + ".", dir=self.int8_cache.parent)
        os.close(fd)
        try:
            save_file({k: v.contiguous() for k, v in packed.items()}, tmp)
            os.replace(tmp, self.int8_cache)
        except Exception:  # noqa: BLE001 - a full disk surfaces as safetensors' own error type, not OSError
            with contextlib.suppress(OSError):
                os.unlink(tmp)

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
        if not self.prefix_cache or len(messages) < 2:
            return None
        with self._lock:
            return self._past_locked(messages, ids)

    def prepare(self, messages: Sequence[Message]) -> None:
        """Prefill the fixed head's cache now (while the candidate answers), not on the first reply."""
        if self.prefix_cache and len(messages) >= 2:
            threads = self.threads or generation_threads()
            if threads != _torch_threads():
                import torch

                torch.set_num_threads(threads)
            if self.engine != "generate":
                if self._lock.acquire(blocking=False):  # a reply being written has the cache: skip
                    try:
                        self._decoder().prepare(self._head_ids(messages))
                    finally:
                        self._lock.release()
                return
            self._past_for(messages, self.prompt_ids(messages))

    def _head_ids(self, messages: Sequence[Message]) -> list[int]:
        head_text = self.tokenizer.apply_chat_template(list(messages[:-1]), tokenize=False)
        return self.tokenizer(head_text, add_special_tokens=False)["input_ids"]

    def _past_locked(self, messages: Sequence[Message], ids: Any) -> Any:
        import copy

        import torch

        head_text = self.tokenizer.apply_chat_template(list(messages[:-1]), tokenize=False)
        head = self.tokenizer(head_text, return_tensors="pt", add_special_tokens=False)["input_ids"][0].tolist()
        n = len(head)
        if n == 0 or n >= ids.shape[1] or ids[0, :n].tolist() != head:
            return None
        if self._cached is None or self._cached[0] != tuple(head):
            self._merge_adapter()
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
        threads = self.threads or generation_threads()
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)  # process-wide; the prefill below runs here, generate in a thread
        ids = self.prompt_ids(messages, prefix)
        if self.engine != "generate" and ids.shape[1] + max_new_tokens <= LEAN_MAX_LEN:
            yield from self._stream_lean(ids[0].tolist(), max_new_tokens, stop, cancel)
            return
        self._merge_adapter()
        past = self._past_for(messages, ids)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        ended = threading.Event()
        criterion = _StopOnText(self.tokenizer, ids.shape[1], stop, cancel, ended)
        stats = GenerationStats(prompt_tokens=int(ids.shape[1]))
        self.last = stats
        failure: list[BaseException] = []

        cache_kw = _cache_kwarg(self.model)

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
                        **({cache_kw: past} if past is not None else {}),
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
            ended.set()  # a consumer that stops early ends generate too (the caller's cancel stays untouched)
            worker.join()
            stats.total_s = time.perf_counter() - start
        if failure:
            raise failure[0]

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        return {int(e) for e in eos if e is not None} | {int(self.tokenizer.eos_token_id)}

    def _stream_lean(self, ids: list[int], max_new_tokens: int, stop: Sequence[str], cancel: threading.Event) -> Iterator[str]:
        """Decode with :mod:`agent.lean_decode` in the caller's thread, text as it forms.

        Yields what ``generate`` and its streamer would: the decoded new tokens (special
        tokens skipped), ending at the token that completes a stop string or at the end
        of text; a half-formed character is held until its bytes are complete.
        """
        import time

        stats = GenerationStats(prompt_tokens=len(ids))
        self.last = stats
        start = time.perf_counter()
        stops = [s for s in stop if s]
        new: list[int] = []
        shown = ""
        with self._lock:
            decoder = self._decoder()
            if not self.prefix_cache:
                decoder.filled, decoder.prefilled = [], 0  # nothing reused: every token of the prompt is run
            try:
                for token in decoder.generate(ids, max_new_tokens, self.repetition_penalty, self._eos_ids()):
                    new.append(token)
                    text = self.tokenizer.decode(new, skip_special_tokens=True)
                    if len(text) > len(shown) and text.startswith(shown) and not text.endswith("\ufffd"):
                        if stats.first_token_s is None:
                            stats.first_token_s = time.perf_counter() - start
                        yield text[len(shown):]
                        shown = text
                    if cancel.is_set() or any(s in text for s in stops):
                        break
                text = self.tokenizer.decode(new, skip_special_tokens=True)
                if len(text) > len(shown) and text.startswith(shown):
                    yield text[len(shown):]  # what was held back (a character cut mid-bytes at the end)
            finally:
                stats.new_tokens = len(new)
                stats.total_s = time.perf_counter() - start


@functools.cache
def _cache_kwarg_name() -> str:
    """``cache`` where generate takes it (transformers 5.2x deprecates ``past_key_values``
    with a FutureWarning at every call), else ``past_key_values``."""
    import inspect

    from transformers.generation import utils

    try:
        source = inspect.getsource(utils.GenerationMixin.generate)
    except (OSError, TypeError):
        return "past_key_values"
    return "cache" if 'new_name="cache"' in source else "past_key_values"


def _cache_kwarg(model: Any) -> str:
    return _cache_kwarg_name()


def complete(model: ChatModel, messages: Sequence[Message], **kwargs: Any) -> str:
    """Collect a whole streamed reply (for callers that do not stream)."""
    return "".join(model.stream(messages, **kwargs))
