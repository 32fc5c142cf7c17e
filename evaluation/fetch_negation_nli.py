#!/usr/bin/env python3
"""Convert the negation NLI benchmarks of Hossain et al. (EMNLP 2020) to JSON Lines.

Source: GitHub repository mosharafhossain/negation-and-nli (MIT licence),
folder data/new_benchmarks/clean_data/, files RTE.txt, SNLI.txt, MNLI.txt.
Each is a tab-separated file with a header ``index  Text  Hypothesis  gold_label``
and CRLF line endings.

Output: OUT/{rte,snli,mnli}.jsonl, one object per pair::

    {"id": <source index>, "premise": Text, "hypothesis": Hypothesis, "label": gold_label}

Labels are kept as given: RTE is two-way (entailment / not_entailment), SNLI
and MNLI are three-way (entailment / neutral / contradiction).

Text clean-up: the files are not UTF-8. They are decoded as Latin-1 (which gives
the right characters for the few accented letters and pound signs in RTE), and
the byte 0x94 that stands for a dash in six MNLI sentences (in the original
MNLI text it is an em dash) is replaced by U+2014. CRs are dropped; nothing else
is changed.

Re-create evaluation/data/negation_nli/::

    git clone https://github.com/mosharafhossain/negation-and-nli
    python evaluation/fetch_negation_nli.py \\
        negation-and-nli/data/new_benchmarks/clean_data --out evaluation/data/negation_nli

Standard library only.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys

NAMES = ("RTE", "SNLI", "MNLI")


def read_tsv(path: str) -> list[dict]:
    with open(path, "rb") as fh:
        text = fh.read().decode("latin-1").replace("\x94", "\u2014").replace("\r", "")
    lines = [ln for ln in text.split("\n") if ln.strip()]
    header = lines[0].split("\t")
    if header != ["index", "Text", "Hypothesis", "gold_label"]:
        raise ValueError(f"unexpected header in {path}: {header}")
    rows = []
    for ln in lines[1:]:
        parts = ln.split("\t")
        if len(parts) != 4:
            raise ValueError(f"bad line in {path}: {ln!r}")
        idx, premise, hypothesis, label = (p.strip() for p in parts)
        rows.append({"id": int(idx), "premise": premise, "hypothesis": hypothesis,
                     "label": label})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clean_data", help="folder with RTE.txt, SNLI.txt, MNLI.txt")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "data", "negation_nli"))
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for name in NAMES:
        src = os.path.join(args.clean_data, name + ".txt")
        if not os.path.exists(src):
            print(f"missing {src}", file=sys.stderr)
            return 1
        rows = read_tsv(src)
        out = os.path.join(args.out, name.lower() + ".jsonl")
        with open(out, "w", encoding="utf-8", newline="\n") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        counts = dict(sorted(collections.Counter(r["label"] for r in rows).items()))
        print(f"{name.lower()}: {len(rows)} pairs {counts} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
