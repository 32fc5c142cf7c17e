#!/usr/bin/env python3
"""Convert SemEval-2013 Task 7 (2-way) XML into the JSON Lines files used by viva.

The SemEval-2013 Task 7 "Joint Student Response Analysis and 8th Recognizing
Textual Entailment Challenge" (Dzikovska et al., 2013) corpus has one XML file
per question::

    <question id="..." module="..." [testSet="unseen-answers"]>
      <questionText>...</questionText>
      <referenceAnswers>
        <referenceAnswer id="..." [category="BEST|GOOD|MINIMAL|KEYWORD"]>...</referenceAnswer>
      </referenceAnswers>
      <studentAnswers>
        <studentAnswer id="..." accuracy="correct|incorrect">...</studentAnswer>
      </studentAnswers>
    </question>

This script reads the 2-way layout::

    CORPUS/training/2way/{beetle,sciEntsBank}/*.xml
    CORPUS/test/2way/{beetle,sciEntsBank}/test-unseen-{answers,questions,domains}/*.xml

and writes, for every dataset and split found::

    OUT/{beetle,scientsbank}/{train,test-unseen-answers,test-unseen-questions,test-unseen-domains}.jsonl

one JSON object per student answer::

    {"id", "question_id", "question", "reference", "references", "answer", "label"}

"reference" is the first reference answer with category="BEST", else the first
reference answer; "references" lists all of them in file order. "label" is 1 for
accuracy="correct" and 0 for anything else (in the 2-way data the only other
value is "incorrect"). Files are read in sorted filename order and answers in
file order, so the output is deterministic.

Re-creating evaluation/data/semeval2013/ (the copy used here came from the
GitHub repository leocomelli/score-freetext-answer, commit 5fd154c, folder
src/main/resources/corpus/semeval2013-task7/)::

    git clone https://github.com/leocomelli/score-freetext-answer
    python evaluation/fetch_semeval.py \\
        score-freetext-answer/src/main/resources/corpus/semeval2013-task7 \\
        --out evaluation/data/semeval2013 --max-train 3000

--max-train N keeps at most N training answers per dataset, chosen
deterministically: random.Random(2013).sample() over the sorted answer ids,
then written in corpus order. The committed files were made with
--max-train 3000 (full train would take the folder to about 9.6 MB); the test
splits are always complete. Without --max-train the full train splits
(SciEntsBank 4,969, Beetle 3,941 answers) are written.

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import xml.etree.ElementTree as ET

DATASETS = {"sciEntsBank": "scientsbank", "beetle": "beetle"}
TEST_SPLITS = ("test-unseen-answers", "test-unseen-questions", "test-unseen-domains")


def _text(elem) -> str:
    return " ".join("".join(elem.itertext()).split()) if elem is not None else ""


def parse_question(path: str) -> list[dict]:
    root = ET.parse(path).getroot()
    qid = root.get("id", "")
    question = _text(root.find("questionText"))
    refs = root.findall("./referenceAnswers/referenceAnswer")
    references = [_text(r) for r in refs]
    best = [_text(r) for r in refs if (r.get("category") or "").upper() == "BEST"]
    reference = best[0] if best else (references[0] if references else "")
    rows = []
    for sa in root.findall("./studentAnswers/studentAnswer"):
        accuracy = (sa.get("accuracy") or "").strip().lower()
        rows.append({
            "id": sa.get("id", ""),
            "question_id": qid,
            "question": question,
            "reference": reference,
            "references": references,
            "answer": _text(sa),
            "label": 1 if accuracy == "correct" else 0,
        })
    return rows


def read_folder(folder: str) -> list[dict]:
    rows: list[dict] = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".xml"):
            rows.extend(parse_question(os.path.join(folder, name)))
    return rows


def subsample(rows: list[dict], n: int, seed: int = 2013) -> list[dict]:
    if n <= 0 or len(rows) <= n:
        return rows
    ids = sorted(r["id"] for r in rows)
    keep = set(random.Random(seed).sample(ids, n))
    return [r for r in rows if r["id"] in keep]


def write_jsonl(path: str, rows: list[dict]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", help="extracted semeval2013-task7 folder (has training/ and test/)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "data", "semeval2013"))
    ap.add_argument("--max-train", type=int, default=0,
                    help="subsample train to at most N answers per dataset (0 = keep all)")
    args = ap.parse_args(argv)

    found = 0
    for src, dst in DATASETS.items():
        splits = {"train": os.path.join(args.corpus, "training", "2way", src)}
        for s in TEST_SPLITS:
            splits[s] = os.path.join(args.corpus, "test", "2way", src, s)
        for split, folder in splits.items():
            if not os.path.isdir(folder):
                continue
            rows = read_folder(folder)
            if split == "train":
                rows = subsample(rows, args.max_train)
            ids = [r["id"] for r in rows]
            if len(ids) != len(set(ids)):
                print(f"warning: duplicate answer ids in {folder}", file=sys.stderr)
            out = os.path.join(args.out, dst, split + ".jsonl")
            write_jsonl(out, rows)
            pos = sum(r["label"] for r in rows)
            nq = len({r["question_id"] for r in rows})
            print(f"{dst}/{split}: {len(rows)} answers, {nq} questions, "
                  f"{pos} correct / {len(rows) - pos} incorrect -> {out}")
            found += 1
    if not found:
        print("no 2-way data found under " + args.corpus, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
