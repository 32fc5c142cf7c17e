"""The encoders' precision: bfloat16 where the CPU has it natively (AMX, AVX-512 BF16), else fp32; the same grades.

``core.models.encoder_bf16`` decides; ``VIVA_BF16`` overrides it.  What must hold whatever
it decides: vectors are unit length (an inner product is a cosine), the bfloat16 vectors
and judge probabilities stay close enough to the fp32 ones that the thresholds fitted in
fp32 mean the same, and a grade comes out the same.
"""

from __future__ import annotations

import numpy as np
import pytest

TEXTS = [
    "um so basically dropout is like randomly switching off units while training",
    "and at inference you switch it off, model eval, every unit is used",
    "adam keeps a running mean of the gradient and of its square",
    "the receptive field grows with every conv layer",
    "a bigger batch gives fewer updates per epoch",
    "ok",
]
PAIRS = [
    ("dropout stays on at inference so keep it active when serving", "dropout is turned off at inference"),
    ("you switch dropout off at inference, model eval", "dropout is turned off at inference"),
    ("each conv layer narrows the receptive field", "each conv layer grows the receptive field"),
    ("with a larger batch you get fewer updates per epoch", "a larger batch means fewer updates per epoch"),
]


def test_the_switch_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.models import BF16_ENV, encoder_bf16

    monkeypatch.setenv(BF16_ENV, "0")
    assert encoder_bf16() is False
    monkeypatch.setenv(BF16_ENV, "1")
    assert encoder_bf16() is True
    monkeypatch.delenv(BF16_ENV)
    assert isinstance(encoder_bf16(), bool)  # the CPU's answer; either is valid


@pytest.mark.slow
def test_bf16_vectors_and_judge_agree_with_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from core.embedding import Embedder
    from core.models import BF16_ENV
    from rubrics.judge import Judge

    loaded = {}
    for flag in ("0", "1"):
        monkeypatch.setenv(BF16_ENV, flag)
        loaded[flag] = (Embedder.load(), Judge.load())
    fp32, bf16 = loaded["0"], loaded["1"]
    assert next(fp32[0].model.parameters()).dtype == torch.float32
    assert next(bf16[0].model.parameters()).dtype == torch.bfloat16
    assert next(bf16[1].model.parameters()).dtype == torch.bfloat16

    a, b = fp32[0].encode(TEXTS), bf16[0].encode(TEXTS)
    assert a.dtype == b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)  # renormalised in fp32
    assert float((a * b).sum(axis=1).min()) > 0.999

    pa, pb = fp32[1].entails(PAIRS), bf16[1].entails(PAIRS)
    assert float(np.abs(pa - pb).max()) < 0.02
    assert ((pa > 0.5) == (pb > 0.5)).all()


@pytest.mark.slow
def test_a_grade_is_the_same_in_either_precision(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.embedding import Embedder
    from core.models import BF16_ENV
    from rubrics.bank import load_bank
    from rubrics.grader import Grader
    from rubrics.judge import Judge

    _, rung = load_bank().rung("dropout:what-it-does")
    answer = (
        "so during training it zeroes a random subset of units on every step, and at inference you don't keep it on, "
        "every unit is used. it helps because no unit can rely on a particular partner"
    )
    grades = {}
    for flag in ("0", "1"):
        monkeypatch.setenv(BF16_ENV, flag)
        grades[flag] = Grader(Embedder.load(), judge=Judge.load()).grade(rung, answer)
    assert abs(grades["0"].score - grades["1"].score) < 0.1
    assert [p.id for p in grades["0"].hits] == [p.id for p in grades["1"].hits]
    assert grades["0"].flags == grades["1"].flags


@pytest.mark.slow
def test_models_warm_says_which_precision_the_encoders_run_in() -> None:
    import json
    import os
    import subprocess

    from conftest import venv_bin

    env = {**os.environ, "VIVA_BF16": "0"}
    out = subprocess.run(
        [venv_bin("viva"), "--llm", "none", "models", "warm", "--json"], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(out.stdout)["encoders"] == "fp32"
