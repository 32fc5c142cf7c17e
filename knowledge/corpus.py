"""The corpus: the shipped primer plus the user's own notes.

The shipped primer is package data and never changes at run time.  A user's notes are
copied into ``<data dir>/notes/`` by :func:`add_notes`, so the originals can move or
change without breaking anything, and removing a note never touches the primer.

Adding is all-or-nothing: every path is read and chunked first, and only if all of them
are usable are any copied.  A bad file (missing, a folder with nothing in it, empty,
binary, not UTF-8, no prose) gets a message naming it and the corpus stays as it was.

A note's id comes from its file name (``My Notes.md`` -> ``notes/my-notes``), so two
names can map to one id.  ``add`` refuses a file whose id another note already has;
a collision already in the notes folder (files copied there by hand) skips the later
file with a :class:`NotesWarning` naming both, instead of making the corpus unusable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DataError
from core.paths import data_dir
from knowledge.passages import ParsedFile, Passage, parse_notes, parse_primer, slugify

PRIMER_DIR = Path(__file__).resolve().parent / "corpus"
NOTE_SUFFIXES = (".md", ".markdown", ".txt", ".text")
MAX_NOTE_BYTES = 5_000_000


def notes_dir() -> Path:
    path = data_dir() / "notes"
    path.mkdir(parents=True, exist_ok=True)
    return path


class NotesWarning(UserWarning):
    """A note file that is left out of the corpus (the file itself is not touched)."""

    viva_warning = True  # the CLI prints it as one "viva: warning:" line


def note_id(name: str) -> str:
    """The topic id a note file gets from its name: ``My Notes.md`` -> ``notes/my-notes``."""
    return f"notes/{slugify(Path(name).stem)}"


def _note_files(directory: Path) -> list[Path]:
    return (
        [p for p in sorted(directory.iterdir()) if p.suffix.lower() in NOTE_SUFFIXES and p.is_file()]
        if directory.is_dir()
        else []
    )


@dataclass
class Corpus:
    """Every passage viva can retrieve, in a stable order."""

    passages: list[Passage]
    files: list[ParsedFile] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.passages}

    def __len__(self) -> int:
        return len(self.passages)

    def get(self, passage_id: str) -> Passage | None:
        return self.by_id.get(passage_id)

    def fingerprint(self) -> str:
        """A hash of everything that affects embeddings or filtering (for cache keys)."""
        digest = hashlib.sha256()
        for p in self.passages:
            digest.update(
                json.dumps([p.id, p.embedding_text(), list(p.tracks), p.depth, p.topic], ensure_ascii=False).encode()
            )
        return digest.hexdigest()[:20]

    @property
    def topics(self) -> list[str]:
        return sorted({p.topic for p in self.passages})


def load_primer(directory: Path = PRIMER_DIR) -> list[ParsedFile]:
    files = []
    for path in sorted(directory.glob("*.md")):
        parsed = parse_primer(path.read_text(encoding="utf-8"), source=f"primer/{path.name}")
        if parsed.topic != path.stem:
            raise DataError(f"{path}: front matter field 'topic' is '{parsed.topic}' but the file is {path.name}")
        files.append(parsed)
    return files


def load_notes(directory: Path | None = None) -> list[ParsedFile]:
    """The user's notes; a note that became unreadable is skipped, not fatal.

    Two files whose names map to one id: the first in name order is kept, the later one
    skipped with a :class:`NotesWarning` that names both.
    """
    directory = directory or notes_dir()
    files = []
    owner: dict[str, str] = {}  # note id -> the file that has it
    for path in _note_files(directory):
        key = note_id(path.name)
        if key in owner:
            warnings.warn(
                f"note {path.name!r} is skipped: its id {key!r} is already the id of {owner[key]!r} "
                f"(both in {directory}); rename one of them, or remove it with `viva knowledge remove`",
                NotesWarning,
                stacklevel=2,
            )
            continue
        try:
            files.append(parse_notes(path.read_text(encoding="utf-8"), source=f"notes/{path.name}"))
        except (DataError, UnicodeDecodeError, OSError):
            continue
        owner[key] = path.name
    return files


def load_corpus(include_notes: bool = True, primer_dir: Path = PRIMER_DIR) -> Corpus:
    files = load_primer(primer_dir) + (load_notes() if include_notes else [])
    passages = [p for f in files for p in f.passages]
    seen: set[str] = set()
    for p in passages:
        if p.id in seen:
            raise DataError(f"{p.source}: passage id '{p.id}' is used twice in the corpus")
        seen.add(p.id)
    return Corpus(passages=passages, files=files)


@dataclass
class AddResult:
    """What :func:`add_notes` did, per file."""

    added: list[tuple[str, int]] = field(default_factory=list)  # (stored name, passages)
    replaced: list[str] = field(default_factory=list)


def read_note(path: Path) -> str:
    """Read a user file as text, or raise a :class:`DataError` that says why not."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise DataError(f"{path}: the file is empty")
    if size > MAX_NOTE_BYTES:
        raise DataError(f"{path}: {size:,} bytes is too large for a note (limit {MAX_NOTE_BYTES:,}); split it")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if b"\x00" in raw[:8192]:
        raise DataError(f"{path}: looks like a binary file, not text (Markdown or plain text only)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: is not UTF-8 text (byte {exc.start} cannot be decoded)") from exc


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in NOTE_SUFFIXES)
            if not found:
                raise DataError(f"{path}: folder holds no .md or .txt files")
            out.extend(found)
        else:
            out.append(path)
    return out


def add_notes(paths: Sequence[str | os.PathLike[str]]) -> AddResult:
    """Validate every path, then copy all of them into the notes dir (or none)."""
    files = _expand(paths)
    if not files:
        raise DataError("no files given")
    staged: list[tuple[Path, str, int]] = []
    names: set[str] = set()
    target = notes_dir()
    taken: dict[str, str] = {}  # ids your notes already have -> the file load_notes keeps
    for p in _note_files(target):
        taken.setdefault(note_id(p.name), p.name)
    adding: dict[str, Path] = {}
    for path in files:
        text = read_note(path)
        parsed = parse_notes(text, source=str(path))
        name = path.name if path.suffix.lower() in NOTE_SUFFIXES else path.name + ".txt"
        if name in names:
            raise DataError(f"{path}: two files named {name} in one add; rename one")
        names.add(name)
        key = note_id(name)
        if key in adding:
            raise DataError(f"{path}: {name!r} and {adding[key].name!r} would both be note {key!r}; rename one")
        adding[key] = path
        if key in taken and taken[key] != name:  # the same name replaces (updates) that note
            raise DataError(
                f"{path}: {name!r} would be note {key!r}, the id of your note {taken[key]!r}; "
                f"rename the file, or remove that note first (`viva knowledge remove {taken[key]!r}`)"
            )
        staged.append((path, name, len(parsed.passages)))
    result = AddResult()
    for path, name, count in staged:
        dest = target / name
        if dest.exists():
            result.replaced.append(name)
        tmp = dest.with_name(dest.name + ".part")
        shutil.copyfile(path, tmp)
        os.replace(tmp, dest)
        result.added.append((name, count))
    return result


def remove_note(name: str) -> None:
    path = notes_dir() / Path(name).name
    if not path.is_file():
        raise DataError(f"no note named {name!r} (see `viva knowledge list`)")
    path.unlink()
