"""The lean decoder says what ``generate`` says (issue 14: a faster path, the same greedy text)."""

from __future__ import annotations

import threading

import pytest

from agent.voice import REACTION_EXAMPLES, SYSTEM

pytestmark = pytest.mark.slow

ASKS = [
    'The candidate said: "um so dropout zeroes random units while training and at inference you keep them all"',
    'The candidate said: "attention is softmax of q k transpose over root d, times v"',
    "Write a long paragraph about batch normalisation.",
]


def _messages(ask: str) -> list[dict[str, str]]:
    head = [{"role": "system", "content": SYSTEM}]
    for user, assistant in REACTION_EXAMPLES:
        head += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return head + [{"role": "user", "content": ask}]


def _run(model, engine: str, ask: str, **kw) -> str:  # noqa: ANN001
    saved = model.engine
    model.engine = engine
    try:
        return "".join(model.stream(_messages(ask), max_new_tokens=kw.pop("max_new_tokens", 40), **kw))
    finally:
        model.engine = saved


def test_the_lean_decoder_writes_the_same_greedy_text_as_generate(chat_model) -> None:  # noqa: ANN001
    from agent.lean_decode import supports

    assert supports(chat_model.model)
    for ask in ASKS:
        plain = _run(chat_model, "generate", ask)
        assert plain.strip()
        assert _run(chat_model, "lean", ask) == plain, ask
        assert _run(chat_model, "lean", ask) == plain, ask  # again, the prompt's head now reused from the cache


def test_stop_strings_and_cancel_end_the_lean_decode_where_generate_ends(chat_model) -> None:  # noqa: ANN001
    for ask in ASKS:
        assert _run(chat_model, "lean", ask, stop=(".",)) == _run(chat_model, "generate", ask, stop=(".",))
    cancel = threading.Event()
    cancel.set()
    said = _run(chat_model, "lean", ASKS[2], cancel=cancel)
    assert len(chat_model.tokenizer(said)["input_ids"]) <= 2  # stopped after the first token
    assert chat_model.last.new_tokens == 1


def test_int8_weights_keep_the_reactions(chat_model) -> None:  # noqa: ANN001
    """Int8 weights change the arithmetic, so the text may drift late in a long reply;
    a short reaction's opening words stay (the judged set's figures are in the README)."""
    from agent.lean_decode import int8_available

    if not int8_available():
        pytest.skip("torch._weight_int8pack_mm is not in this torch build")
    for ask in ASKS[:2]:
        fp32 = _run(chat_model, "lean", ask, stop=(".",))
        int8 = _run(chat_model, "lean-int8", ask, stop=(".",))
        assert int8.split()[:4] == fp32.split()[:4], (fp32, int8)
