"""``viva knowledge add|list|search|remove``: the primer and your own notes."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from core.tracks import TAG_IDS

if TYPE_CHECKING:
    from knowledge.passages import ParsedFile


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("knowledge", help="the primer corpus and your notes: add, list, search, remove")
    ks = p.add_subparsers(dest="knowledge_command", metavar="ACTION", required=True)

    add = ks.add_parser("add", help="add your own Markdown/text files (or folders of them) to your corpus")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.set_defaults(handler=run_add)

    ls = ks.add_parser("list", help="list the primer topics and your notes")
    ls.add_argument("--passages", action="store_true", help="list every passage id")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)

    se = ks.add_parser("search", help="show what a query retrieves, with scores")
    se.add_argument("query")
    se.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    se.add_argument("--topic", action="append", help="only this topic (repeatable)")
    se.add_argument("--track", choices=TAG_IDS)
    se.add_argument("--json", action="store_true", help="a JSON list of {id, score, source, text, ...}")
    se.set_defaults(handler=run_search)

    rm = ks.add_parser("remove", help="remove one of your notes (the primer is never changed)")
    rm.add_argument("name", help="the note's file name as shown by `viva knowledge list`")
    rm.set_defaults(handler=run_remove)


def run_add(args: argparse.Namespace) -> int:
    from knowledge.corpus import add_notes, notes_dir

    result = add_notes(args.paths)
    for name, count in result.added:
        verb = "updated" if name in result.replaced else "added"
        print(f"{verb} {name}: {count} passage{'s' if count != 1 else ''}")
    print(f"notes live in {notes_dir()}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from knowledge.corpus import load_corpus

    corpus = load_corpus()
    if args.json:
        rows = [
            {
                "source": f.source,
                "topic": f.topic,
                "title": f.title,
                "passages": [p.id for p in f.passages],
                "user": any(p.user for p in f.passages),
            }
            for f in corpus.files
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    primer = [f for f in corpus.files if not f.source.startswith("notes/")]
    notes = [f for f in corpus.files if f.source.startswith("notes/")]
    print(f"Primer: {len(primer)} topics, {sum(len(f.passages) for f in primer)} passages")
    _print_files(primer, lambda f: f.topic, args.passages)
    print(f"Your notes: {len(notes)} files, {sum(len(f.passages) for f in notes)} passages")
    _print_files(notes, lambda f: f.source.removeprefix("notes/"), args.passages)
    if not notes:
        print("  (none yet: `viva knowledge add FILE.md`)")
    return 0


def _print_files(files: Sequence[ParsedFile], name: Callable[[ParsedFile], str], passages: bool) -> None:
    from core.terminal import visible  # a note's name, title and headings are the user's text

    for f in files:
        print(visible(f"  {name(f):<28} {len(f.passages):>2}  {f.title}"))
        if passages:
            for p in f.passages:
                print(visible(f"      {p.id:<40} {p.heading}"))


def run_search(args: argparse.Namespace) -> int:
    from core.embedding import Embedder
    from knowledge.retriever import Retriever

    if args.k < 1:
        from core.errors import VivaError

        raise VivaError("-k must be at least 1")
    retriever = Retriever.load(Embedder.load(args.embedder))
    hits = retriever.search(args.query, k=args.k, topic=args.topic, track=args.track)
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
        return 0
    if not hits:
        print("no passages matched")
    from core.terminal import visible

    for rank, hit in enumerate(hits, start=1):
        p = hit.passage
        print(visible(f"{rank}. {hit.score:.3f}  {p.id}  ({p.source})"))
        print(visible(f"   {p.heading}"))
        text = " ".join(visible(p.text).split())
        print(f"   {text[:240]}{'...' if len(text) > 240 else ''}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from knowledge.corpus import remove_note

    remove_note(args.name)
    print(f"removed {args.name}")
    return 0
