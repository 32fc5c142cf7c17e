"""``viva history|show|export|import|progress``: the transcripts you have kept."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    h = sub.add_parser("history", help="list your past interviews")
    h.add_argument("--json", action="store_true")
    h.add_argument("-n", type=int, default=0, metavar="N", help="only the latest N")
    h.set_defaults(handler=run_history)

    s = sub.add_parser("show", help="a scored transcript, turn by turn")
    s.add_argument("id", help="session id (a unique prefix is enough)")
    s.set_defaults(handler=run_show)

    e = sub.add_parser("export", help="export a session as Markdown or JSON")
    e.add_argument("id")
    e.add_argument("--format", choices=["md", "json"], default="md")
    e.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    e.set_defaults(handler=run_export)

    i = sub.add_parser("import", help="import a session exported as JSON")
    i.add_argument("file")
    i.set_defaults(handler=run_import)

    d = sub.add_parser("delete", help="delete a session")
    d.add_argument("id")
    d.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    d.set_defaults(handler=run_delete)

    p = sub.add_parser("progress", help="score history per topic and track, and what to practise next")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_progress)


def _store():
    from agent.store import Store

    return Store.open()


def run_history(args: argparse.Namespace) -> int:
    from agent.present import when as format_when

    rows = _store().list(limit=args.n or None)
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
        return 0
    if not rows:
        print("No interviews yet. Start one with `viva` or `viva ask`.")
        return 0
    print(f"{'id':<12}  {'date':<16}  {'track':<17}  {'level':<6}  {'score':>5}  {'min':>4}  {'status':<9}  topics")
    for r in rows:
        when = format_when(r.started_at)
        score = f"{r.overall:.1f}" if r.overall is not None else "-"
        print(
            f"{r.id:<12}  {when:<16}  {r.track:<17}  {r.level:<6}  {score:>5}  "
            f"{r.duration_s / 60:>4.0f}  {r.status:<9}  {', '.join(r.topics)}"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    from agent.export import export_text

    print(export_text(_store().load(args.id), "md"), end="")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from agent.export import export_text

    text = export_text(_store().load(args.id), args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from agent.export import from_json
    from core.errors import DataError

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from exc
    record = from_json(text, str(path))  # every field checked (agent.store.validate_session)
    if record.status == "active":
        record.status = "abandoned"  # an imported session cannot be resumed where it was typed
    _store().import_record(record, str(path))  # refused if the id is already in the history
    print(f"imported session {record.id} ({len(record.turns)} turns)")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    store = _store()
    sid = store.resolve(args.id)
    if not args.yes:
        if not sys.stdin.isatty():
            from core.errors import VivaError

            raise VivaError("refusing to delete without confirmation; add --yes")
        if input(f"Delete session {sid}? [y/N] ").strip().lower() not in {"y", "yes"}:
            print("kept")
            return 1
    store.delete(sid)
    print(f"deleted {sid}")
    return 0


def run_progress(args: argparse.Namespace) -> int:
    from agent.progress import progress

    report = progress(_store())
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    print("\n".join(report.lines()))
    return 0
