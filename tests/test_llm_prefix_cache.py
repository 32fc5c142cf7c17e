"""Reusing the KV cache of the prompt's fixed head must not change what the model says."""

from __future__ import annotations

import pytest

from agent.llm import DECODE_ENGINES
from agent.voice import REACTION_EXAMPLES, SYSTEM

PREFIX = "So you"


@pytest.mark.slow
@pytest.mark.parametrize("engine", DECODE_ENGINES)
def test_prefix_cache_gives_identical_text(chat_model, engine: str) -> None:  # noqa: ANN001
    if engine == "lean-int8":
        from agent.lean_decode import int8_available

        if not int8_available():
            pytest.skip("no int8 kernel in this torch build")
    head = [{"role": "system", "content": SYSTEM}]
    for user, assistant in REACTION_EXAMPLES:
        head += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    asks = ['The candidate said: "it turns off neurons"', 'The candidate said: "softmax of q k"']
    saved = chat_model.engine
    chat_model.engine = engine
    chat_model._cached = None
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
        if engine == "generate":
            assert chat_model._cached is not None  # the head was cached once and reused
        else:
            head_ids = chat_model._head_ids(head + [{"role": "user", "content": asks[-1]}])
            assert chat_model._decoder().filled[: len(head_ids)] == head_ids  # the head stays in the decoder's cache
    finally:
        chat_model.prefix_cache = True
        chat_model.engine = saved
