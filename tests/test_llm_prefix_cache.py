"""Reusing the KV cache of the prompt's fixed head must not change what the model says."""

from __future__ import annotations

import pytest

from agent.voice import REACTION_EXAMPLES, SYSTEM

PREFIX = "So you"


@pytest.mark.slow
def test_prefix_cache_gives_identical_text(chat_model) -> None:
    head = [{"role": "system", "content": SYSTEM}]
    for user, assistant in REACTION_EXAMPLES:
        head += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    asks = ['The candidate said: "it turns off neurons"', 'The candidate said: "softmax of q k"']
    try:
        for ask in asks:
            messages = head + [{"role": "user", "content": ask}]
            chat_model.prefix_cache = False
            plain = "".join(chat_model.stream(messages, prefix=PREFIX, max_new_tokens=30, stop=(".",)))
            chat_model.prefix_cache = True
            cached = [
                "".join(chat_model.stream(messages, prefix=PREFIX, max_new_tokens=30, stop=(".",))) for _ in range(2)
            ]
            assert cached == [plain, plain]
        assert chat_model._cached is not None  # the head was cached once and reused
    finally:
        chat_model.prefix_cache = True
