"""``viva models``: where the models are, ``viva models warm`` to prepare them, and
``viva models add|remove NAME`` for an optional bigger interviewer (:mod:`core.extra_models`).

``warm`` does the one-off ~15 s GGUF dequantization up front (``make run`` calls it)
so the first interview starts without a wait.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from core.errors import VivaError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="show which models viva uses; 'warm' prepares them; 'add NAME' fetches an optional bigger interviewer",
    )
    p.add_argument("action", nargs="?", choices=["info", "warm", "add", "remove"], default="info")
    p.add_argument("name", nargs="?", help="for add/remove: an optional model (qwen-0.5b, qwen-1.5b)")
    p.add_argument("--yes", action="store_true", help="add without asking (after reading what it is)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from core import extra_models, models
    from core.paths import cache_dir, data_dir

    if args.action in ("add", "remove"):
        return _add_or_remove(args)
    if args.name:
        raise VivaError(f"'viva models {args.action}' takes no model name (did you mean 'viva models add {args.name}'?)")

    info: dict[str, object] = {
        "llm": str(models.resolve_llm_path(args.llm)) if args.llm != "none" else "none (rubric wording)",
        "embedder": str(models.resolve_embedder_path(args.embedder)),
        "data_dir": str(data_dir()),
        "cache_dir": str(cache_dir()),
    }
    for extra in extra_models.CATALOGUE.values():  # the optional interviewers and whether they are here
        path = extra_models.installed_path(extra)
        info[f"optional {extra.name}"] = str(path) if path else f"not added (viva models add {extra.name})"
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


def _add_or_remove(args: argparse.Namespace) -> int:
    from core import extra_models

    if not args.name:
        raise VivaError(f"which model? viva models {args.action} NAME (one of: {', '.join(extra_models.CATALOGUE)})")
    model = extra_models.lookup(args.name)
    if model is None:
        raise VivaError(f"no optional model named {args.name!r}; known: {', '.join(extra_models.CATALOGUE)}")
    if args.action == "remove":
        removed = extra_models.remove(model)
        print(f"Removed {model.name}." if removed else f"{model.name} was not added; nothing to remove.")
        return 0
    if extra_models.installed_path(model) is None:
        print("\n".join(extra_models.describe(model)))
        if not args.yes:
            if not sys.stdin.isatty():
                raise VivaError(f"not added: run 'viva models add {model.name} --yes' to download it")
            try:
                answer = input("Download and add it? [y/N] ")
            except EOFError:
                answer = ""
            if answer.strip().lower() not in ("y", "yes"):
                print("Not added.")
                return 1
    extra_models.add(model)
    return 0
