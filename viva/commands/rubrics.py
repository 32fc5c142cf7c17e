"""``viva rubrics list|check``: the question bank, and validating a rubric file you wrote."""

from __future__ import annotations

import argparse
import json

from core.tracks import TAG_IDS, track


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rubrics", help="the question bank: list topics and rungs, check a rubric file")
    rs = p.add_subparsers(dest="rubrics_command", metavar="ACTION", required=True)

    ls = rs.add_parser("list", help="list topics, rungs, tracks and depths")
    ls.add_argument("--track", choices=TAG_IDS, help="only rungs asked on this track")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)

    ck = rs.add_parser("check", help="validate rubric files (YAML); names the file and field of every problem")
    ck.add_argument("paths", nargs="+", metavar="PATH")
    ck.set_defaults(handler=run_check)


def run_list(args: argparse.Namespace) -> int:
    from rubrics.bank import load_bank

    bank = load_bank()
    topics = []
    for topic in bank:
        rungs = [r for r in topic.ladder() if args.track is None or args.track in r.tracks]
        if rungs:
            topics.append((topic, rungs))
    if args.json:
        rows = [
            {
                "topic": t.topic,
                "title": t.title,
                "rungs": [
                    {"id": r.id, "ref": f"{t.topic}:{r.id}", "depth": r.depth, "tracks": r.tracks, "question": r.question}
                    for r in rungs
                ],
            }
            for t, rungs in topics
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    n_rungs = sum(len(r) for _, r in topics)
    print(f"{len(topics)} topics, {n_rungs} rungs" + (f" on {args.track}" if args.track else ""))
    for topic, rungs in topics:
        print(f"\n{topic.topic}  ({topic.title})")
        for r in rungs:
            tracks = ",".join(track(t).short for t in r.tracks)
            print(f"  {topic.topic + ':' + r.id:<44} depth {r.depth}  {tracks:<12} {r.question}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Validate each file; also load it beside the shipped bank to catch a duplicate topic id."""
    from knowledge.corpus import load_corpus
    from rubrics.bank import RubricError, load_bank, load_topic_file

    bank = load_bank()
    known_passages = {p.id for p in load_corpus(include_notes=True).passages}
    failed = 0
    seen: dict[str, str] = {}
    for path in args.paths:
        try:
            topic = load_topic_file(path)
        except RubricError as err:
            print(err)
            failed += 1
            continue
        problems = []
        if topic.topic in seen:
            problems.append(f"{path}: topic: '{topic.topic}' is also defined in {seen[topic.topic]}")
        seen[topic.topic] = path
        shipped = bank.sources.get(topic.topic)
        warnings = []
        if shipped and not _same_file(shipped, path):
            warnings.append(f"{path}: topic: '{topic.topic}' has the id of a shipped topic ({shipped}); rename it to use both")
        for i, rung in enumerate(topic.rungs):
            for j, pid in enumerate(rung.passages):
                if pid not in known_passages:
                    warnings.append(f"{path}: rungs[{i}] (id '{rung.id}') > passages[{j}]: no passage '{pid}' in the corpus")
        for line in problems:
            print(line)
        for line in warnings:
            print(f"warning: {line}")
        if problems:
            failed += 1
        else:
            n_kp = sum(len(r.effective_key_points()) for r in topic.rungs)
            print(f"{path}: OK - topic '{topic.topic}', {len(topic.rungs)} rungs, {n_kp} key points")
    return 1 if failed else 0


def _same_file(shipped: str, path: str) -> bool:
    from pathlib import Path

    from rubrics.bank import BANK_DIR

    return (BANK_DIR / Path(shipped).name).resolve() == Path(path).resolve()
