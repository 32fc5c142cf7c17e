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


def test_int8_weights_pick_the_same_next_token_almost_everywhere(chat_model) -> None:  # noqa: ANN001
    """Int8 weights change the arithmetic, so a long reply can drift (the judged set's
    figures are in the README).  Token by token, fed the same text, the int8 decoder's
    choice is fp32's nearly always and its logits point the same way."""
    import torch

    from agent.lean_decode import LeanDecoder, int8_available

    if not int8_available():
        pytest.skip("torch._weight_int8pack_mm is not in this torch build")
    fp32, int8 = LeanDecoder(chat_model.model, 512), LeanDecoder(chat_model.model, 512, int8=True)
    agree = total = 0
    cosines = []
    with torch.inference_mode():
        for ask in ASKS:
            ids = chat_model.prompt_ids(_messages(ask))[0].tolist()
            reply = list(fp32.generate(ids, 24, chat_model.repetition_penalty))
            a, b = fp32._prefill(ids), int8._prefill(ids)
            for pos, token in enumerate(reply):
                agree += int(torch.argmax(a)) == int(torch.argmax(b))
                total += 1
                cosines.append(float(torch.nn.functional.cosine_similarity(a, b, dim=0)))
                a, b = fp32._forward([token], len(ids) + pos), int8._forward([token], len(ids) + pos)
    assert total >= 30
    assert agree / total >= 0.9, (agree, total)
    assert min(cosines) > 0.98, min(cosines)


def test_a_prompt_says_the_same_whatever_was_said_before(chat_model) -> None:  # noqa: ANN001
    """Only a prompt's prefilled rows are reused from the cache, never a reply's, so the
    same prompt gives the same text after any history (int8 rounds the two differently)."""
    saved = chat_model.engine
    try:
        for engine in ("lean", "lean-int8"):
            chat_model.engine = engine
            chat_model.prefix_cache = False
            fresh = "".join(chat_model.stream(_messages(ASKS[0]), max_new_tokens=24))
            chat_model.prefix_cache = True
            "".join(chat_model.stream(_messages(ASKS[1]), max_new_tokens=24))
            after = "".join(chat_model.stream(_messages(ASKS[0]), max_new_tokens=24))
            again = "".join(chat_model.stream(_messages(ASKS[0]), max_new_tokens=24))
            assert after == fresh == again, (engine, fresh, after, again)
    finally:
        chat_model.engine, chat_model.prefix_cache = saved, True


def test_int8_weights_are_saved_once_and_reloaded_without_the_model_s_own(tmp_path) -> None:  # noqa: ANN001
    """The int8 build is saved beside the model; a later start decodes from the saved
    weights (the reaction adapter inside them) without merging the adapter into the fp32
    model, says the same, and a damaged file is rebuilt, not trusted."""
    from agent.lean_decode import int8_available
    from agent.llm import TransformersChatModel, adapter_path

    if not int8_available():
        pytest.skip("torch._weight_int8pack_mm is not in this torch build")

    def say(model: TransformersChatModel, engine: str = "lean-int8") -> str:
        return _run(model, engine, ASKS[0], max_new_tokens=24)

    first = TransformersChatModel.load(cache_dir=tmp_path)
    assert first.engine == "lean-int8" and first.int8_cache is not None
    assert not first.int8_cache.exists()
    said = say(first)
    assert said.strip()
    assert first.int8_cache.is_file()

    again = TransformersChatModel.load(cache_dir=tmp_path)
    lazy = adapter_path() is not None
    assert (again._adapter is not None) == lazy  # nothing merged: the saved weights carry the adapter
    assert say(again) == said
    assert (again._adapter is not None) == lazy  # ... and decoding never needed the fp32 projections
    assert say(again, "generate") == say(first, "generate")  # generate merges first, then reads them

    first.int8_cache.write_bytes(b"not a safetensors file")
    damaged = TransformersChatModel.load(cache_dir=tmp_path)
    assert say(damaged) == said
    assert damaged._adapter is None  # rebuilt from the (merged) model
    assert damaged._load_packed() is not None  # and written again


def test_int8_weights_that_cannot_be_saved_cost_only_speed(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """A full disk (safetensors raises its own error type, not OSError) leaves no file and no
    temporary behind, and the reply is the same as with a cache."""
    import safetensors.torch

    from agent.lean_decode import int8_available
    from agent.llm import TransformersChatModel

    if not int8_available():
        pytest.skip("torch._weight_int8pack_mm is not in this torch build")

    def full_disk(*args, **kwargs) -> None:  # noqa: ANN002, ANN003
        raise RuntimeError("No space left on device (os error 28)")

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    model = TransformersChatModel.load(cache_dir=tmp_path)
    said = _run(model, "lean-int8", ASKS[0], max_new_tokens=24)
    assert said.strip()
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    cached = TransformersChatModel.load(cache_dir=tmp_path)
    assert _run(cached, "lean-int8", ASKS[0], max_new_tokens=24) == said
