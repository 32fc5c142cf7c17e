"""The embedder and the judge on torch alone: transformers' and peft's numbers, without their imports.

``core.bert`` runs the shipped MiniLM (and the judge's merged LoRA adapter) so a start
need not import transformers and peft (~2 s on 2 cores).  What must hold: the same token
ids as transformers' tokenizer (single texts and pairs, truncated alike), the same
vectors and judge probabilities (fp32, to float rounding), models of another kind left
to transformers, and a fresh process that loads and uses both imports neither library.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TEXTS = [
    "um so basically dropout is like randomly switching off units while training",
    "ok",
    "The receptive field grows with every conv layer. " * 60,  # past every limit: truncated
    "[bold]markup[/bold] and caf\u00e9 \u2014 unicode \U0001f600",
    "",
]
STATEMENTS = [
    "Dropout is turned off at inference.",
    "a statement " * 80,  # the longer side of a pair is cut first (longest_first)
    "The receptive field grows with depth.",
    "x",
    "empty text",
]


def _shipped() -> Path:
    from core.models import default_embedder_path

    return default_embedder_path()


@pytest.mark.parametrize("max_length", [256, 128])
def test_token_ids_are_transformers(max_length: int) -> None:
    import torch
    from transformers import AutoTokenizer

    from core.bert import Tokenizer

    theirs = AutoTokenizer.from_pretrained(str(_shipped()), local_files_only=True)
    ours = Tokenizer.load(_shipped(), max_length)
    assert ours is not None
    single = theirs(TEXTS, padding=True, truncation="longest_first", max_length=max_length, return_tensors="pt")
    pair = theirs(TEXTS, STATEMENTS, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    for expected, got in ((single, ours(TEXTS)), (pair, ours(TEXTS, STATEMENTS))):
        for key in ("input_ids", "attention_mask", "token_type_ids"):
            assert torch.equal(expected[key], got[key]), key


@pytest.mark.slow
def test_vectors_and_judge_are_transformers_and_peft(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.bert import Bert
    from core.mean_pool import load_mean_pool
    from core.models import JUDGE_DIR, _load_judge_with_peft, load_judge
    from rubrics.judge import MAX_TOKENS, Judge

    monkeypatch.setenv("VIVA_BF16", "0")
    ours = load_mean_pool(_shipped(), "cpu", bf16=False)
    assert ours is not None and isinstance(ours.model, Bert)
    monkeypatch.setattr("core.bert.load_encoder", lambda path: None)  # the transformers path, as before
    theirs = load_mean_pool(_shipped(), "cpu", bf16=False)
    assert theirs is not None and not isinstance(theirs.model, Bert)
    np.testing.assert_allclose(ours.encode(TEXTS), theirs.encode(TEXTS), atol=1e-5)

    model, tokenizer = load_judge(max_tokens=MAX_TOKENS)
    assert isinstance(model, Bert)
    plain = Judge(model, tokenizer)
    via_peft = Judge(*_load_judge_with_peft(_shipped(), JUDGE_DIR))
    pairs = list(zip(TEXTS, STATEMENTS)) + [
        ("you switch dropout off at inference, model eval", "Dropout is turned off at inference."),
        ("dropout stays on at inference, keep it active when serving", "Dropout is turned off at inference."),
    ]
    np.testing.assert_allclose(plain.entails(pairs), via_peft.entails(pairs), atol=1e-5)


def _copy(tmp_path: Path, src: Path, name: str, **changes: object) -> Path:
    """A folder linking ``src``'s files, with ``name``'s JSON changed."""
    dst = tmp_path / src.name
    dst.mkdir()
    for item in src.iterdir():
        if item.name != name:
            (dst / item.name).symlink_to(item)
    config = json.loads((src / name).read_text())
    config.update(changes)
    (dst / name).write_text(json.dumps(config))
    return dst


@pytest.mark.parametrize("change", [{"hidden_act": "relu"}, {"model_type": "roberta"},
                                    {"position_embedding_type": "relative_key"}])
def test_another_kind_of_model_is_left_to_transformers(tmp_path: Path, change: dict[str, object]) -> None:
    from core.bert import load_encoder

    assert load_encoder(_copy(tmp_path, _shipped(), "config.json", **change)) is None


@pytest.mark.parametrize("change", [{"use_dora": True}, {"use_rslora": True}, {"rank_pattern": {"query": 4}},
                                    {"modules_to_save": ["classifier", "pooler"]}])
def test_another_kind_of_adapter_is_left_to_peft(tmp_path: Path, change: dict[str, object]) -> None:
    from core.bert import load_classifier
    from core.models import JUDGE_DIR

    assert load_classifier(_shipped(), JUDGE_DIR) is not None
    assert load_classifier(_shipped(), _copy(tmp_path, JUDGE_DIR, "adapter_config.json", **change)) is None


@pytest.mark.slow
def test_a_start_imports_neither_transformers_nor_peft() -> None:
    probe = (
        "import sys\n"
        "from core.embedding import Embedder\n"
        "from rubrics.judge import Judge\n"
        "Embedder.load().encode(['dropout']); Judge.load().entails([('dropout is off', 'dropout is off at inference')])\n"
        "print(sorted(m for m in ('transformers', 'peft', 'sentence_transformers', 'sklearn') if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
