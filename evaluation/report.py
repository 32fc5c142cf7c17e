"""One table of how the grader agrees with people, old beside new, measured in one run.

``python -m evaluation.report [--limit N]`` grades

* the project's labelled answers on the held-out rungs (grader v2 refitted on the
  training rungs only; grader v1, the similarity-only grader of the commit before the
  rewrite, with its own shipped calibration - which saw some of these rungs, so its
  figures are if anything flattering), and
* SemEval-2013's unseen splits (human grades the project did not write), ours beside
  plain cosine;

with and without the judge (the cross-encoder), so each part is kept for what it
measurably adds.  ``--limit`` samples each public split (the test suite uses 300).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from evaluation import public
from evaluation.calibrate import (
    Report,
    evaluate,
    grade_prepared,
    held_out_report,
    is_held_out,
    load_labelled,
    prepare,
    trap_rates,
)


def _labelled_rows(name: str, report: Report, rates: dict[str, tuple[int, float]]) -> list[str]:
    traps = "  ".join(f"{k} {v:.0%}" for k, (_, v) in rates.items())
    return [
        f"{name:<18} Pearson {report.pearson:.3f}  RMSE {report.rmse:.2f}  QWK {report.qwk:.3f}  "
        f"points P/R {report.point_precision:.2f}/{report.point_recall:.2f}  misconceptions P/R "
        f"{report.mis_precision:.2f}/{report.mis_recall:.2f}",
        f"{'':<18} {traps}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="answers per public split (0: all)")
    parser.add_argument("--no-public", action="store_true")
    args = parser.parse_args(argv)

    from benchmarks.legacy import load_grader
    from core.embedding import Embedder
    from rubrics.bank import load_bank
    from rubrics.grader import Calibration, Grader
    from rubrics.judge import Judge

    encoder = Embedder.load()
    judge = Judge.load()
    bank = load_bank()
    items = load_labelled(bank=bank)
    held_items = [i for i in items if is_held_out(i.rung_ref)]
    print(f"labelled answers: {len(items)}, held-out rungs' answers: {len(held_items)}")
    lines: list[str] = []
    for name, j in (("v2", judge), ("v2 without judge", None)):
        grader = Grader(encoder, Calibration.load(), judge=j)
        prepared = prepare(items, bank, grader)
        _, test, _ = held_out_report(grader, prepared, grid={})
        held = [p for p in prepared if is_held_out(p.item.rung_ref)]
        lines += _labelled_rows(name, test, trap_rates(grade_prepared(grader, held), [p.item for p in held]))
    old = load_grader(encoder)
    if old is not None:
        grades = [old.grade(bank.rung(i.rung_ref)[1], i.answer) for i in held_items]
        lines += _labelled_rows("v1 (before)", evaluate(grades, held_items), trap_rates(grades, held_items))
    print("== project labels, held-out rungs ==")
    print("\n".join(lines))
    if args.no_public:
        return 0
    print("== SemEval-2013 unseen splits (human grades), AUC and accuracy, ours (cosine) ==")
    for name, j in (("v2", judge), ("v2 without judge", None)):
        for r in public.evaluate(Grader(encoder, judge=j), encoder, limit=args.limit, train_limit=args.limit * 2):
            print(f"{name:<18} {r.line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
