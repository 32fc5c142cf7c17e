"""Subcommands of ``viva``; each module has ``register(subparsers)``.

Modules here must import nothing heavy at module level: ``viva --help`` imports them all.
"""

from __future__ import annotations

from types import ModuleType

from viva.commands import app, knowledge, models

COMMANDS: list[ModuleType] = [app, models, knowledge]
