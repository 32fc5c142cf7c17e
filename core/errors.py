"""User-facing errors.

Every layer raises :class:`VivaError` (or a subclass) for problems the user can fix:
a missing package, an unreadable file, a broken rubric.  The CLI prints the message
and exits with status 2 instead of a traceback, and the TUI shows it in a notification.
The message must say what is wrong *and* what to do about it.
"""

from __future__ import annotations


class VivaError(Exception):
    """A problem the user can act on; ``str(err)`` is shown to them verbatim."""


class ModelError(VivaError):
    """A model package is missing or a model path cannot be used."""


class DataError(VivaError):
    """A user-supplied file (notes, rubric, transcript) cannot be used."""
