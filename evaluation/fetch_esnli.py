#!/usr/bin/env python3
"""Convert the e-SNLI dev and test splits to JSON Lines (premise, hypothesis, label).

Source: GitHub repository OanaMariaCamburu/e-SNLI (MIT licence), folder dataset/.
The repository holds the pairs in two forms:

* ``dataset/esnli_{dev,test}.csv``: the full e-SNLI CSVs (columns pairID,
  gold_label, Sentence1, Sentence2, Explanation_1, ...), untokenized text.
* ``dataset/eSNLI/{s1,s2,labels}.{dev,test}``: plain text, one pair per line in
  the same order in the three files (premise, hypothesis, gold label). The
  sentences are tokenized (``packages .``, ``are n't``, ``roof 's``), as in the
  SNLI release used by InferSent.

The committed files in evaluation/data/esnli/ were made from the plain-text
form (``--from plain``, the default), because the CSVs are over 4 MiB and did
not arrive in the copy of the repository that was used. ``--from csv`` reads
the CSVs instead and gives the same pairs with untokenized text.

Output: OUT/{dev,test}.jsonl, one object per pair, in source order::

    {"premise": ..., "hypothesis": ..., "label": "entailment" | "neutral" | "contradiction"}

Only the three labels are kept (any other gold label is dropped; the dev and
test splits contain none). Explanations are dropped. Text clean-up: leading and
trailing whitespace is stripped (every plain-text line ends with a space);
nothing else is changed.

Re-create evaluation/data/esnli/::

    git clone https://github.com/OanaMariaCamburu/e-SNLI
    python evaluation/fetch_esnli.py e-SNLI/dataset --out evaluation/data/esnli

The folder may be ``dataset`` or ``dataset/eSNLI`` for ``--from plain``.
Standard library only.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import sys

SPLITS = ("dev", "test")
LABELS = ("entailment", "neutral", "contradiction")


def _read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read().replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_plain(folder: str, split: str) -> list[dict]:
    if not os.path.exists(os.path.join(folder, "s1." + split)):
        folder = os.path.join(folder, "eSNLI")
    s1, s2, lab = (_read_lines(os.path.join(folder, f"{name}.{split}"))
                   for name in ("s1", "s2", "labels"))
    if not len(s1) == len(s2) == len(lab):
        raise ValueError(f"{split}: s1/s2/labels differ in length: "
                         f"{len(s1)}/{len(s2)}/{len(lab)}")
    return [{"premise": p.strip(), "hypothesis": h.strip(), "label": y.strip()}
            for p, h, y in zip(s1, s2, lab)]


def read_csv(folder: str, split: str) -> list[dict]:
    path = os.path.join(folder, f"esnli_{split}.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"gold_label", "Sentence1", "Sentence2"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        return [{"premise": (r["Sentence1"] or "").strip(),
                 "hypothesis": (r["Sentence2"] or "").strip(),
                 "label": (r["gold_label"] or "").strip()} for r in reader]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", help="the repository's dataset/ folder (or dataset/eSNLI/)")
    ap.add_argument("--from", dest="source", choices=("plain", "csv"), default="plain",
                    help="plain: eSNLI/{s1,s2,labels}.SPLIT (default, gives the committed "
                         "files); csv: esnli_SPLIT.csv")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "data", "esnli"))
    args = ap.parse_args(argv)
    reader = read_plain if args.source == "plain" else read_csv
    os.makedirs(args.out, exist_ok=True)
    for split in SPLITS:
        try:
            rows = reader(args.folder, split)
        except FileNotFoundError as exc:
            print(f"missing {exc.filename}", file=sys.stderr)
            return 1
        keep = [r["label"] in LABELS and bool(r["premise"]) and bool(r["hypothesis"])
                for r in rows]
        kept = [r for r, k in zip(rows, keep) if k]
        out = os.path.join(args.out, split + ".jsonl")
        with open(out, "w", encoding="utf-8", newline="\n") as fh:
            for r in kept:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        counts = {lab: sum(r["label"] == lab for r in kept) for lab in LABELS}
        dropped = collections.Counter(r["label"] for r, k in zip(rows, keep) if not k)
        print(f"{split}: {len(kept)} pairs {counts}"
              + (f", dropped {dict(dropped)}" if dropped else "") + f" -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
