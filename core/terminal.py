"""Untrusted text on its way to a terminal or a Markdown file, and text read from one.

Answers, imported sessions and notes are untrusted: an ESC byte in an answer that
``viva show`` prints raw can recolour, retitle or rewrite the user's terminal, and a NUL
or a lone surrogate can break the program that reads an export.  Stored text stays
byte-exact (the store and JSON exports keep what was typed); only what is *shown* goes
through :func:`visible`, the one sanitiser every printer uses:

* ``viva show`` and the Markdown export (:func:`agent.export.to_markdown`);
* ``viva grade``'s quoted evidence (call ``visible`` on each quoted answer span);
* any other command that prints an answer, a note or an imported field.

:func:`valid_text` is the other direction: text read from stdin that may carry bytes
that are not UTF-8 (as surrogate escapes), made into valid text before it is stored.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and lone surrogates (which
# no UTF-8 terminal or file can carry).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control character except newline and tab shown as an escape.

    ``"\\x1b[31m"`` becomes the seven printable characters ``\\x1b[31m``; ``"\\x00"``
    becomes ``\\x00``; a carriage return (which would let a line overwrite itself)
    becomes ``\\x0d``; a lone surrogate becomes ``\\udcff``.  Everything else, newline
    and tab included, is unchanged, so ordinary text (and emoji) prints as it is.
    """
    return _UNSAFE.sub(_escape, text)


def valid_text(text: str) -> str:
    """``text`` as valid Unicode: bytes that were not UTF-8 become U+FFFD.

    Python keeps undecodable input bytes as lone surrogates (``surrogateescape``);
    those cannot be stored (SQLite and UTF-8 refuse them) or printed, so they become
    the replacement character.  Valid text is returned unchanged.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:  # surrogate escapes: recover the original bytes, then decode what is UTF-8
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # other lone surrogates (e.g. from JSON "\ud800")
        return re.sub("[\ud800-\udfff]", "\ufffd", text)
