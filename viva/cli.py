"""The ``viva`` command line.

``viva`` alone opens the TUI; subcommands run the same engine headless (for scripts,
screen readers, tests and benchmarks).  argparse keeps start-up instant: each
subcommand lives in :mod:`viva.commands` and imports its heavy dependencies (torch,
sentence-transformers, FAISS, Textual) only inside its handler, so ``viva --help``
never pays for them.

Errors the user can fix (:class:`core.errors.VivaError`) print one clear message and
exit with status 2; Ctrl-C exits with 130 and no traceback.  Model paths (``--llm``,
``--embedder``) are checked before a command loads anything, so a bad one is reported
in a second, not after minutes of loading.  viva's own warnings (a skipped note) print
as one ``viva: warning:`` line.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from core.errors import VivaError
from viva import __version__
from viva.commands import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="viva",
        description="A local mock interviewer for the deep-learning part of data-science interviews. "
        "Run with no command to open the interview app.",
    )
    parser.add_argument("--version", action="version", version=f"viva {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where transcripts and your notes live (default: the platform's user data dir; env VIVA_DATA_DIR)",
    )
    parser.add_argument(
        "--llm",
        metavar="PATH",
        help="interviewer model: a .gguf file or a Hugging Face model folder (default: SmolLM2-135M-Instruct), "
        "or 'none' to use the rubric's own wording",
    )
    parser.add_argument(
        "--embedder",
        metavar="PATH",
        help="sentence-transformers model folder for retrieval and grading (default: all-MiniLM-L6-v2)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def models_needed(args: argparse.Namespace) -> tuple[bool, bool]:
    """(LLM, embedder): which default models this command loads."""
    command = args.command
    if command in (None, "app", "ask"):
        return True, True
    if command == "grade" or (command == "knowledge" and args.knowledge_command == "search"):
        return False, True
    return False, False


@contextmanager
def _plain_warnings() -> Iterator[None]:
    """Warnings whose category says ``viva_warning = True`` print as one line on stderr."""
    previous = warnings.showwarning

    def show(
        message: Warning | str, category: type[Warning], filename: str, lineno: int,
        file: TextIO | None = None, line: str | None = None,
    ) -> None:
        if getattr(category, "viva_warning", False):
            print(f"viva: warning: {message}", file=file or sys.stderr)
        else:
            previous(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def main(argv: Sequence[str] | None = None) -> int:
    with _plain_warnings():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data_dir:
        # Through the environment so every layer (TUI, store, notes) sees the same dir.
        os.environ["VIVA_DATA_DIR"] = os.path.abspath(os.path.expanduser(args.data_dir))
    handler = getattr(args, "handler", None)
    try:
        if args.command != "models":  # `viva models` reports the paths itself
            from core.models import check_model_sources

            llm_needed, embedder_needed = models_needed(args)
            check_model_sources(args.llm, args.embedder, llm_needed=llm_needed, embedder_needed=embedder_needed)
        if handler is None:
            from viva.commands.app import open_app

            return open_app(args)
        return int(handler(args) or 0)
    except VivaError as err:
        print(f"viva: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("viva: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `viva ... | head` closed the pipe; not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
