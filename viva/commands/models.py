"""``viva models``: where the models are, and ``viva models warm`` to prepare them.

``warm`` does the one-off ~15 s GGUF dequantization up front (``make run`` calls it)
so the first interview starts without a wait.
"""

from __future__ import annotations

import argparse
import json
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="show which models viva uses; 'warm' prepares them")
    p.add_argument("action", nargs="?", choices=["info", "warm"], default="info")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from core import models
    from core.paths import cache_dir, data_dir

    info: dict[str, object] = {
        "llm": str(models.resolve_llm_path(args.llm)) if args.llm != "none" else "none (rubric wording)",
        "embedder": str(models.resolve_embedder_path(args.embedder)),
        "data_dir": str(data_dir()),
        "cache_dir": str(cache_dir()),
    }
    if args.action == "warm":
        start = time.perf_counter()
        models.load_embedder(args.embedder)
        info["embedder_load_s"] = round(time.perf_counter() - start, 2)
        # The embedder and the grader's judge (VIVA_BF16=0 or 1 to choose; README "Precision").
        info["encoders"] = "bfloat16 (CPU with AMX or AVX-512 BF16)" if models.encoder_bf16() else "fp32"
        if args.llm != "none":
            start = time.perf_counter()
            loaded = models.load_llm(args.llm)
            info["llm_load_s"] = round(time.perf_counter() - start, 2)
            info["llm_device"] = loaded.device
            info["llm_from_cache"] = loaded.from_cache
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
    return 0
