"""``viva`` / ``viva app``: open the interactive interview app (the TUI)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="open the interview app (the default when no command is given)")
    p.set_defaults(handler=open_app)


def open_app(args: argparse.Namespace) -> int:
    import sys

    from agent.llm import BackgroundChatModel
    from tui.app import VivaApp

    app = VivaApp(llm=args.llm, embedder=args.embedder)
    app.run()
    model = app.components.voice.model if app.components is not None else None
    if isinstance(model, BackgroundChatModel) and model.loading:
        # The process waits for the load's thread (one cut off inside torch can abort the
        # process); on a first start that is the GGUF's conversion: say why the terminal waits.
        print("viva: letting the interviewer model finish loading before exiting ...", file=sys.stderr, flush=True)
    return 0
