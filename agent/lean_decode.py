"""A lean greedy decoder for Llama-family models (SmolLM2, Qwen2) on the CPU.

Why: the interviewer's reaction is a dozen tokens, and ``model.generate`` spent most of
each token outside the arithmetic.  SmolLM2-135M has 30 thin layers (576 wide), so a
token is ~1,000 small tensor operations; transformers adds its cache bookkeeping
(``DynamicCache`` grows every layer's keys by ``torch.cat`` each step), logits
processors, stopping criteria and a streamer thread on top.  This module runs the same
arithmetic with fewer, larger operations:

* the query/key/value projections and the gate/up projections are each fused into one
  matrix (one matrix-vector product instead of three, or two);
* keys and values go into a cache allocated once (no per-step ``cat``, no page-fault
  storms); the prompt's fixed head stays in it between replies, so reusing it costs
  nothing (no deep copy);
* greedy choice and the repetition penalty are two tensor operations on the logits.

In fp32 it computes what the transformers model computes (RMSNorm in fp32, rotary
embeddings from the model's own rotary module, grouped-query attention through SDPA), so
the greedy text is the same: ``tests/test_lean_decode.py`` checks it against
``generate``.  With int8 weights (the default, :class:`_Linear`) a token reads a quarter
of the bytes and decodes about 1.9x faster; the text can drift (12 of the judged set's
64 reactions differ, none fails the judge; README "Models").  Only the architectures it
knows are taken (:func:`supports`); anything else, or a GPU, stays on ``generate``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

ARCHITECTURES = ("llama", "qwen2")


def supports(model: Any) -> bool:
    """A plain Llama/Qwen2 decoder on the CPU, without the features this decoder leaves out."""
    cfg = getattr(model, "config", None)
    if cfg is None or getattr(cfg, "model_type", None) not in ARCHITECTURES:
        return False
    if next(model.parameters()).device.type != "cpu":
        return False
    if getattr(cfg, "use_sliding_window", False) or getattr(cfg, "mlp_bias", False):
        return False
    return getattr(cfg, "hidden_act", "silu") == "silu" and getattr(cfg, "pretraining_tp", 1) == 1


class _Linear:
    """``y = x W^T + b`` with W kept as given (fp32) or as int8 rows with one scale each.

    Decoding one token is a matrix-vector product per weight: it reads every weight once,
    so it is bound by memory, not arithmetic.  Int8 weights are a quarter of the bytes;
    ``torch._weight_int8pack_mm`` multiplies them with bfloat16 activations without
    unpacking them first.
    """

    def __init__(
        self, parts: torch.Tensor | list[torch.Tensor], bias: torch.Tensor | None, int8: bool,
        packed: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> None:
        """``parts``: one weight, or several stacked by rows (q, k, v; gate, up) into one.

        Int8 rows are quantized a block at a time and then stacked, so building never
        holds a second fp32 copy of the model (a freed copy still counts in peak RSS).
        ``packed``: the int8 rows and scales of an earlier build (:meth:`LeanDecoder.packed`);
        then ``parts`` are not read at all, so their pages are never loaded.
        """
        parts = [parts] if isinstance(parts, torch.Tensor) else parts
        self.bias = bias.detach().float() if bias is not None else None
        self.int8 = int8
        if packed is not None:
            self.w, self.scale = packed
            return
        if not int8:
            self.w = torch.cat([p.detach().float() for p in parts]).contiguous() if len(parts) > 1 else parts[0].detach().float()
            return
        rows, scales = [], []
        for part in parts:
            for block in part.detach().split(4096):
                scale = block.abs().amax(dim=1).float().clamp(min=1e-8) / 127.0
                rows.append(torch.round(block.float() / scale[:, None]).clamp_(-127, 127).to(torch.int8))
                scales.append(scale)
        self.w = torch.cat(rows).contiguous()
        self.scale = torch.cat(scales).to(torch.bfloat16)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.int8:
            return F.linear(x, self.w, self.bias)
        if x.shape[0] > 1:
            # A prompt (many rows): the int8 kernel is made for one row and is slow here;
            # the weights dequantized to bfloat16 for this call make it one fast matmul.
            y = F.linear(x.to(torch.bfloat16), self.w.to(torch.bfloat16) * self.scale[:, None]).float()
        else:
            y = torch._weight_int8pack_mm(x.to(torch.bfloat16), self.w, self.scale).float()
        return y if self.bias is None else y + self.bias


@dataclass
class _Layer:
    ln1: torch.Tensor
    qkv: _Linear
    o: _Linear
    ln2: torch.Tensor
    gate_up: _Linear
    down: _Linear


def _projections(model: Any) -> dict[str, tuple[list[Any], Any]]:
    """The decoder's matrices by name (the one home of the names :meth:`LeanDecoder.packed`
    saves): the model's weights stacked by rows into each, and its bias (or None)."""
    out: dict[str, tuple[list[Any], Any]] = {"lm_head": ([model.lm_head.weight], None)}
    for i, layer in enumerate(model.model.layers):
        a, m = layer.self_attn, layer.mlp
        qkv = (a.q_proj, a.k_proj, a.v_proj)
        biases = [p.bias for p in qkv]
        out[f"{i}.qkv"] = ([p.weight for p in qkv], torch.cat(biases) if all(b is not None for b in biases) else None)
        out[f"{i}.o"] = ([a.o_proj.weight], a.o_proj.bias)
        out[f"{i}.gate_up"] = ([m.gate_proj.weight, m.up_proj.weight], None)
        out[f"{i}.down"] = ([m.down_proj.weight], None)
    return out


def packed_shapes(model: Any) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """What :meth:`LeanDecoder.packed` holds for ``model``: each tensor's shape and dtype
    (read from the weights' shapes only: their pages are not touched)."""
    out: dict[str, tuple[tuple[int, ...], torch.dtype]] = {}
    for name, (parts, _) in _projections(model).items():
        rows = sum(int(p.shape[0]) for p in parts)
        out[f"{name}.w"] = ((rows, int(parts[0].shape[1])), torch.int8)
        out[f"{name}.scale"] = ((rows,), torch.bfloat16)
    return out


def check_packed(model: Any, packed: dict[str, torch.Tensor]) -> bool:
    """Whether saved int8 weights fit ``model`` (names, shapes and dtypes all as expected)."""
    want = packed_shapes(model)
    return set(packed) == set(want) and all(
        tuple(packed[k].shape) == shape and packed[k].dtype == dtype for k, (shape, dtype) in want.items()
    )


def int8_available() -> bool:
    """``torch._weight_int8pack_mm`` runs here (CPU builds of torch >= 2.3)."""
    try:
        w = torch.ones(8, 32, dtype=torch.int8)
        torch._weight_int8pack_mm(torch.ones(1, 32, dtype=torch.bfloat16), w, torch.ones(8, dtype=torch.bfloat16))
    except (AttributeError, RuntimeError):
        return False
    return True


class LeanDecoder:
    """Greedy decoding of one sequence with a preallocated key/value cache."""

    def __init__(
        self, model: Any, max_len: int | None = None, int8: bool = False, packed: dict[str, torch.Tensor] | None = None
    ) -> None:
        """``packed``: int8 weights saved from an earlier build (:meth:`packed`, checked by
        :func:`check_packed`); the model's own projection weights are then never read."""
        cfg = model.config
        self.int8 = int8
        self.eps = float(cfg.rms_norm_eps)
        self.heads = int(cfg.num_attention_heads)
        self.kv_heads = int(getattr(cfg, "num_key_value_heads", None) or self.heads)
        self.head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads)
        self.max_len = int(min(max_len or cfg.max_position_embeddings, cfg.max_position_embeddings))
        inner = model.model
        with torch.no_grad():
            self.embed = inner.embed_tokens.weight.detach()
            self.norm = inner.norm.weight.detach()
            projections = _projections(model)

            def linear(name: str) -> _Linear:
                parts, bias = projections[name]
                saved = (packed[f"{name}.w"], packed[f"{name}.scale"]) if packed is not None and int8 else None
                return _Linear(parts, bias, int8, saved)

            self.linears = {name: linear(name) for name in projections}
            self.lm_head = self.linears["lm_head"]
            self.layers = [
                _Layer(
                    ln1=layer.input_layernorm.weight.detach(), qkv=self.linears[f"{i}.qkv"], o=self.linears[f"{i}.o"],
                    ln2=layer.post_attention_layernorm.weight.detach(), gate_up=self.linears[f"{i}.gate_up"],
                    down=self.linears[f"{i}.down"],
                )
                for i, layer in enumerate(inner.layers)
            ]
            dtype = self.embed.dtype
            positions = torch.arange(self.max_len).unsqueeze(0)
            cos, sin = inner.rotary_emb(torch.zeros(1, dtype=dtype), positions)
            self.cos, self.sin = cos[0].to(dtype), sin[0].to(dtype)  # [max_len, head_dim]
        shape = (len(self.layers), self.kv_heads, self.max_len, self.head_dim)
        self.keys = torch.zeros(shape, dtype=self.embed.dtype)
        self.values = torch.zeros(shape, dtype=self.embed.dtype)
        self.filled: list[int] = []  # the token ids whose keys and values are in the cache, in order
        # How many of them came from a prompt's prefill.  Only those are reused: a generated
        # token's keys come from the one-row kernel, a prompt's from the many-row one, and
        # with int8 weights the two round differently - reusing a reply's rows would make
        # a prompt's text depend on what was said before it.
        self.prefilled = 0

    def packed(self) -> dict[str, torch.Tensor]:
        """The int8 weights and scales by name, to save and hand to a later build (``packed=``)."""
        assert self.int8, "only int8 weights are packed (fp32 ones are the model's own)"
        out: dict[str, torch.Tensor] = {}
        for name, lin in self.linears.items():
            out[f"{name}.w"], out[f"{name}.scale"] = lin.w, lin.scale
        return out

    def _rms(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        return w * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)

    def _rotate(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rotated * sin

    def _forward(self, ids: list[int], start: int) -> torch.Tensor:
        """Run ``ids`` at positions ``start..``; fill the cache; return the last position's logits."""
        t = len(ids)
        end = start + t
        x = self.embed[torch.tensor(ids)]  # [t, hidden]
        cos, sin = self.cos[start:end], self.sin[start:end]
        h, kvh, d = self.heads, self.kv_heads, self.head_dim
        mask = None
        if t > 1:  # each new position sees the cache and the new positions up to itself
            mask = torch.ones(t, end, dtype=torch.bool).tril(diagonal=start)
        for i, L in enumerate(self.layers):
            qkv = L.qkv(self._rms(x, L.ln1))
            q = qkv[:, : h * d].view(t, h, d).transpose(0, 1)
            k = qkv[:, h * d : (h + kvh) * d].view(t, kvh, d).transpose(0, 1)
            v = qkv[:, (h + kvh) * d :].view(t, kvh, d).transpose(0, 1)
            self.keys[i, :, start:end] = self._rotate(k, cos, sin)
            self.values[i, :, start:end] = v
            out = F.scaled_dot_product_attention(
                self._rotate(q, cos, sin).unsqueeze(0),
                self.keys[i, :, :end].unsqueeze(0),
                self.values[i, :, :end].unsqueeze(0),
                attn_mask=mask,
                enable_gqa=kvh != h,
            )
            x = x + L.o(out[0].transpose(0, 1).reshape(t, h * d))
            gate, up = L.gate_up(self._rms(x, L.ln2)).chunk(2, dim=-1)
            x = x + L.down(F.silu(gate) * up)
        return self.lm_head(self._rms(x[-1:], self.norm))[0].float()

    def _prefill(self, ids: list[int], logits: bool = True) -> torch.Tensor | None:
        """Run ``ids`` past the cache's longest common head with them (a prompt's prefilled
        rows only); with ``logits`` at least the last token is run, for its logits."""
        reusable = self.filled[: self.prefilled]
        limit = len(ids) - 1 if logits else len(ids)
        same = 0
        while same < min(limit, len(reusable)) and reusable[same] == ids[same]:
            same += 1
        out = self._forward(ids[same:], same) if same < len(ids) else None
        self.filled = list(ids)
        self.prefilled = len(ids)
        return out

    def prepare(self, ids: list[int]) -> None:
        """Fill the cache with a prompt's head now, so a later prompt that starts with it skips it."""
        if 0 < len(ids) < self.max_len:
            with torch.inference_mode():
                self._prefill(ids, logits=False)

    def generate(self, ids: list[int], max_new_tokens: int, repetition_penalty: float = 1.0,
                 eos: set[int] | None = None) -> Iterator[int]:
        """Greedy tokens after ``ids``, one at a time (transformers' repetition penalty: a seen
        token's positive logit divided by it, a negative one multiplied)."""
        if not ids:
            return
        budget = min(max_new_tokens, self.max_len - len(ids))
        eos = eos or set()
        with torch.inference_mode():
            seen = torch.zeros(self.embed.shape[0], dtype=torch.bool)
            seen[torch.tensor(ids)] = True
            logits = self._prefill(ids)
            assert logits is not None  # at least the prompt's last token was run
            for _ in range(budget):
                if repetition_penalty != 1.0:
                    pen = torch.where(logits > 0, logits / repetition_penalty, logits * repetition_penalty)
                    logits = torch.where(seen, pen, logits)
                token = int(torch.argmax(logits))
                yield token
                if token in eos:
                    return
                seen[token] = True
                logits = self._forward([token], len(self.filled))
                self.filled.append(token)
