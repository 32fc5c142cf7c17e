"""A sentence-transformers folder of the usual shape, run without sentence-transformers.

Why: importing sentence-transformers costs about a second of every start on 2 cores
(most of it scikit-learn, which its utilities import), and viva's default embedder,
all-MiniLM-L6-v2, is a BERT whose sentence vector is the mean of its token vectors
(modules ``Transformer`` -> ``Pooling`` (mean) -> ``Normalize``).  That mean is all this
module adds to the BERT itself, which :mod:`core.bert` runs on torch alone (another
transformer architecture goes through transformers' ``AutoModel``).  A folder of any
other shape (another pooling mode, a ``Dense`` layer, a prompt) returns None from
:func:`load_mean_pool` and is loaded by sentence-transformers itself;
``tests/test_mean_pool.py`` checks the vectors are the library's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
_DEFAULT_MAX_SEQ = 512


@dataclass(frozen=True)
class MeanPoolSpec:
    """What a folder's sentence-transformers config says, when it is the supported shape."""

    max_seq_length: int
    do_lower_case: bool
    dimension: int


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def mean_pool_spec(path: Path) -> MeanPoolSpec | None:
    """The folder's settings if it is Transformer (at its root) -> mean Pooling [-> Normalize], else None."""
    try:
        modules = _read_json(path / "modules.json")
        types = [m["type"] for m in modules]
        if types not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]) or modules[0].get("path", ""):
            return None
        pooling = _read_json(path / modules[1]["path"] / "config.json")
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
        if modes != {"pooling_mode_mean_tokens"} or pooling.get("include_prompt") is False:
            return None
        st_file = path / "config_sentence_transformers.json"
        if st_file.is_file() and (_read_json(st_file).get("prompts") or {}):
            return None  # prompts are prepended by sentence-transformers: not ours to copy
        bert_file = path / "sentence_bert_config.json"
        settings = _read_json(bert_file) if bert_file.is_file() else {}
        return MeanPoolSpec(
            max_seq_length=int(settings.get("max_seq_length") or _DEFAULT_MAX_SEQ),
            do_lower_case=bool(settings.get("do_lower_case", False)),
            dimension=int(pooling["word_embedding_dimension"]),
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # anything unexpected: sentence-transformers reads it


@dataclass
class MeanPoolEncoder:
    """The subset of ``SentenceTransformer`` that :class:`core.embedding.Embedder` calls."""

    model: Any  # transformers AutoModel
    tokenizer: Any
    spec: MeanPoolSpec

    def parameters(self) -> Iterator[Any]:
        return self.model.parameters()

    def get_embedding_dimension(self) -> int:
        return self.spec.dimension

    def encode(
        self, sentences: Sequence[str], batch_size: int = 32, normalize_embeddings: bool = False,
        convert_to_numpy: bool = True, show_progress_bar: bool = False,
    ) -> np.ndarray:
        """Unit (or raw) mean-pooled vectors as float32, pooled in fp32 whatever the model's dtype."""
        import torch

        from core.bert import Tokenizer, as_inputs

        del convert_to_numpy, show_progress_bar  # always numpy, never a bar: what Embedder asks for
        texts = [t.lower() for t in sentences] if self.spec.do_lower_case else list(sentences)
        device = next(self.model.parameters()).device
        out = np.empty((len(texts), self.spec.dimension), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), max(1, batch_size)):
                chunk = texts[start : start + batch_size]
                if isinstance(self.tokenizer, Tokenizer):  # core.bert: the model is a plain torch BERT
                    enc = as_inputs(self.tokenizer(chunk), device)
                    tokens = self.model(**enc).float()
                else:
                    enc = self.tokenizer(
                        chunk, padding=True, truncation="longest_first", max_length=self.spec.max_seq_length,
                        return_tensors="pt",
                    ).to(device)
                    tokens = self.model(**enc).last_hidden_state.float()
                mask = enc["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                if normalize_embeddings:
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[start : start + len(chunk)] = pooled.cpu().numpy()
        return out


def load_mean_pool(path: Path, device: str, bf16: bool) -> MeanPoolEncoder | None:
    """The folder's encoder without sentence-transformers, or None when its shape needs the library."""
    spec = mean_pool_spec(path)
    if spec is None:
        return None
    import torch

    from core.bert import Tokenizer, load_encoder

    model: Any = load_encoder(path)
    tokenizer: Any = Tokenizer.load(path, spec.max_seq_length) if model is not None else None
    if model is None or tokenizer is None:  # not a BERT core.bert runs exactly: transformers does
        from transformers import AutoModel, AutoTokenizer

        model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model.to(device)
    if bf16:
        model.to(torch.bfloat16)
    return MeanPoolEncoder(model, tokenizer, spec)
