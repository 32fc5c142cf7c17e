"""Stand-in chat models and encoders for the tests and their TUI pilots (never shipped).

They honour the :class:`agent.llm.ChatModel` protocol (streaming, stop strings, cancel)
so the engine runs exactly as it does with a real model, only deterministically and
instantly.
"""

from __future__ import annotations

import re
import threading
import time
import zlib
from collections.abc import Iterator, Sequence

import numpy as np

from agent.llm import Message


class EchoInterviewer:
    """Asks exactly what the prompt says to ask, with a short acknowledgement.

    ``delay`` seconds between words imitates a model streaming tokens.
    """

    name = "echo-interviewer"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[Sequence[Message]] = []

    def reply(self, messages: Sequence[Message]) -> str:
        last = messages[-1]["content"]
        m = re.search(r"Ask: (.*)$", last)
        if m:
            return " Okay. " + m.group(1)
        return " Thanks for your time, that was a good session. Keep practising."

    def stream(
        self,
        messages: Sequence[Message],
        *,
        prefix: str = "",
        max_new_tokens: int = 60,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        self.calls.append(messages)
        for word in re.findall(r"\s*\S+", self.reply(messages))[:max_new_tokens]:
            if cancel is not None and cancel.is_set():
                return
            if self.delay:
                time.sleep(self.delay)
            yield word
            if any(s in word for s in stop):
                return


class Lecturer(EchoInterviewer):
    """Misbehaves the way a small model does: lectures instead of asking."""

    name = "lecturer"

    def reply(self, messages: Sequence[Message]) -> str:
        return " Dropout is a regularization technique that randomly zeroes activations during training and"


class BagOfWordsEncoder:
    """Bag-of-words vectors: enough for the voice's on-topic check, with no model.

    Each word goes to a bucket chosen by CRC-32 of its UTF-8 bytes, which - unlike
    Python's ``hash()`` - is the same in every process, so a vector (and any check
    that compares two of them) never depends on ``PYTHONHASHSEED``.
    """

    identity = "fake-bag-of-words"
    dim = 4096

    @staticmethod
    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9']+", text.lower())

    @classmethod
    def bucket(cls, word: str) -> int:
        return zlib.crc32(word.encode("utf-8")) % cls.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for t in texts:
            v = np.zeros(self.dim, dtype=np.float32)
            for w in self.words(t):
                v[self.bucket(w)] += 1
            rows.append(v / (np.linalg.norm(v) or 1))
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)
