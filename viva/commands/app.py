"""``viva`` / ``viva app``: open the interactive interview app (the TUI)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="open the interview app (the default when no command is given)")
    p.set_defaults(handler=open_app)


def open_app(args: argparse.Namespace) -> int:
    from tui.app import VivaApp

    VivaApp(llm=args.llm, embedder=args.embedder).run()
    return 0
