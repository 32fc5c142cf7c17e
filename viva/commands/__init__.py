"""Subcommands of ``viva``; each module has ``register(subparsers)``.

Modules here must import nothing heavy at module level: ``viva --help`` imports them all.
"""

from __future__ import annotations

from types import ModuleType

from viva.commands import app, ask, grade, history, knowledge, models, rubrics

COMMANDS: list[ModuleType] = [app, ask, history, models, knowledge, rubrics, grade]
