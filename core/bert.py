"""The MiniLM behind the embedder and the judge, run on torch, safetensors and tokenizers alone.

Why: importing transformers (and peft, for the judge's adapter) was about 2 s of every
start on 2 cores - more than torch itself - and it bought nothing at run time: both
encoders are a plain 6-layer BERT read from one ``model.safetensors``.  This module is
that forward pass (embeddings, self-attention through torch's SDPA, GELU feed-forward,
post-LayerNorm, the pooler and a classification head) and the tokenizer of the folder's
``tokenizer.json``, called the way transformers calls it (right padding to the longest,
``longest_first`` truncation, token types for a pair).  The judge's LoRA adapter is
merged into the weights when loaded (W + B A alpha/r), as ``merge_and_unload`` does.

Only what it can reproduce is taken: a ``bert`` config with absolute positions and exact
GELU, a plain LoRA adapter (no DoRA, rsLoRA, per-module ranks); anything else returns
None and goes through transformers as before.  ``tests/test_bert.py`` checks the vectors,
the judge's probabilities and the token ids against transformers and peft, and that a
start imports neither.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - torch's own convention
from torch import nn


@dataclass(frozen=True)
class BertConfig:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    pad_token_id: int

    @classmethod
    def read(cls, folder: Path) -> BertConfig | None:
        """The folder's config when it is a BERT this module runs exactly, else None."""
        try:
            raw = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            if (
                raw.get("model_type") != "bert"
                or raw.get("hidden_act", "gelu") != "gelu"
                or raw.get("position_embedding_type", "absolute") != "absolute"
                or raw.get("is_decoder", False)
                or raw.get("add_cross_attention", False)
            ):
                return None
            return cls(
                int(raw["vocab_size"]), int(raw["hidden_size"]), int(raw["num_hidden_layers"]),
                int(raw["num_attention_heads"]), int(raw["intermediate_size"]), int(raw["max_position_embeddings"]),
                int(raw.get("type_vocab_size", 2)), float(raw.get("layer_norm_eps", 1e-12)), int(raw.get("pad_token_id", 0)),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


# Module names mirror transformers' BERT, so its state dict (and a peft adapter's keys) load as they are.
class _Embeddings(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids) + self.position_embeddings(positions)
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.heads = c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

        out = F.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)), split(self.value(x)), attn_mask=mask)
        return out.transpose(1, 2).reshape(b, n, d)


class _DenseNorm(nn.Module):
    """``dense`` then a residual LayerNorm (transformers' BertSelfOutput and BertOutput)."""

    def __init__(self, c: BertConfig, fan_in: int) -> None:
        super().__init__()
        self.dense = nn.Linear(fan_in, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _DenseNorm(c, c.hidden_size)


class _Intermediate(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)


class _Layer(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _DenseNorm(c, c.intermediate_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.attention.output(self.attention.self(x, mask), x)
        return self.output(F.gelu(self.intermediate.dense(x)), x)


class _Encoder(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_hidden_layers))


class _Pooler(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)


class Bert(nn.Module):
    """BERT's encoder; with ``num_labels`` also its pooler and a classification head
    (transformers' ``BertForSequenceClassification`` in inference, dropout being a no-op)."""

    def __init__(self, c: BertConfig, num_labels: int = 0) -> None:
        super().__init__()
        self.config = c
        self.embeddings = _Embeddings(c)
        self.encoder = _Encoder(c)
        self.pooler = _Pooler(c) if num_labels else None
        self.classifier = nn.Linear(c.hidden_size, num_labels) if num_labels else None

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        """The last hidden state, (batch, tokens, hidden)."""
        x = self.embeddings(input_ids, token_type_ids)
        mask = attention_mask.bool()[:, None, None, :]  # every query attends to the real tokens
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        assert self.pooler is not None and self.classifier is not None, "loaded without a classification head"
        hidden = self.forward(input_ids, attention_mask, token_type_ids)
        return self.classifier(torch.tanh(self.pooler.dense(hidden[:, 0])))


@dataclass
class Tokenizer:
    """A folder's ``tokenizer.json`` called as transformers' fast tokenizer is called here."""

    backend: Any  # tokenizers.Tokenizer
    max_length: int

    @classmethod
    def load(cls, folder: Path, max_length: int) -> Tokenizer | None:
        path = folder / "tokenizer.json"
        if not path.is_file():
            return None
        from tokenizers import Tokenizer as Backend

        backend = Backend.from_file(str(path))
        pad_id = backend.token_to_id("[PAD]")
        if pad_id is None:
            return None
        backend.enable_truncation(max_length=max_length, strategy="longest_first")
        backend.enable_padding(direction="right", pad_id=pad_id, pad_token="[PAD]", pad_type_id=0)
        return cls(backend, max_length)

    def __call__(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        batch: Sequence[Any] = list(texts) if pairs is None else list(zip(texts, pairs))
        encoded = self.backend.encode_batch(batch)
        return {
            "input_ids": torch.tensor([e.ids for e in encoded], dtype=torch.long),
            "attention_mask": torch.tensor([e.attention_mask for e in encoded], dtype=torch.long),
            "token_type_ids": torch.tensor([e.type_ids for e in encoded], dtype=torch.long),
        }


def _weights(folder: Path) -> dict[str, torch.Tensor] | None:
    from safetensors.torch import load_file

    path = folder / "model.safetensors"
    if not path.is_file():
        return None
    state = load_file(str(path))
    # A checkpoint saved from BertModel has bare names; one from a task model, "bert." in front.
    return {k.removeprefix("bert."): v for k, v in state.items() if not k.endswith("position_ids")}


def load_encoder(folder: Path) -> Bert | None:
    """The folder's BERT as an encoder (no head), or None when this module cannot run it exactly."""
    config = BertConfig.read(folder)
    state = _weights(folder) if config else None
    if config is None or state is None:
        return None
    model = Bert(config)
    missing, unexpected = model.load_state_dict({k: v for k, v in state.items() if not k.startswith("pooler.")}, strict=False)
    if missing or unexpected:
        return None  # weights of a shape this module does not run: transformers reads them
    return model.eval()


def _lora(adapter: Path) -> tuple[float, dict[str, torch.Tensor]] | None:
    """(alpha / r, the adapter's tensors) for a plain LoRA adapter, else None."""
    from safetensors.torch import load_file

    try:
        config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    plain = (
        config.get("peft_type") == "LORA" and not config.get("use_dora") and not config.get("use_rslora")
        and not config.get("rank_pattern") and not config.get("alpha_pattern") and not config.get("fan_in_fan_out")
        and config.get("bias", "none") == "none" and not config.get("layer_replication")
        and not config.get("trainable_token_indices") and set(config.get("modules_to_save") or []) <= {"classifier"}
    )
    path = adapter / "adapter_model.safetensors"
    if not plain or not path.is_file():
        return None
    return float(config["lora_alpha"]) / float(config["r"]), load_file(str(path))


def load_classifier(folder: Path, adapter: Path, num_labels: int = 1) -> Bert | None:
    """The folder's BERT with a classification head and the LoRA adapter merged in, or None."""
    config = BertConfig.read(folder)
    state = _weights(folder) if config else None
    lora = _lora(adapter)
    if config is None or state is None or lora is None:
        return None
    scale, tensors = lora
    merged = dict(state)
    prefix = "base_model.model."
    for key, value in tensors.items():
        name = key.removeprefix(prefix).removeprefix("bert.")
        if ".lora_A." in name:
            target = name.split(".lora_A.")[0] + ".weight"
            b = tensors[key.replace(".lora_A.", ".lora_B.")]
            if target not in merged:
                return None
            merged[target] = merged[target] + (b @ value) * scale
        elif name.startswith("classifier."):
            merged[name] = value
        elif ".lora_B." not in name:
            return None  # a tensor of a kind this merge does not know
    model = Bert(config, num_labels)
    missing, unexpected = model.load_state_dict(merged, strict=False)
    if missing or unexpected:
        return None
    return model.eval()


def as_inputs(encoded: Mapping[str, torch.Tensor], device: torch.device | str) -> dict[str, torch.Tensor]:
    return {k: v.to(device) for k, v in encoded.items()}
