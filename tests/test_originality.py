"""Our words, not the seed's: no run of 8 words from the source primer in anything we ship."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = REPO.parent / "shared" / "seed"
N = 8


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def ngrams(ws: list[str], n: int = N) -> set[tuple[str, ...]]:
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def shipped_texts() -> list[tuple[str, str]]:
    out = [(str(p.relative_to(REPO)), p.read_text()) for p in sorted((REPO / "knowledge" / "corpus").glob("*.md"))]
    for p in sorted((REPO / "rubrics" / "bank").glob("*.yaml")):
        out.append((str(p.relative_to(REPO)), " \n ".join(_strings(yaml.safe_load(p.read_text())))))
    return out


def _strings(node) -> list[str]:  # noqa: ANN001
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def test_the_checker_catches_a_copied_sentence() -> None:
    seed = ngrams(words("the quick brown fox jumps over the lazy dog every single morning"))
    assert ngrams(words("Note: the quick brown fox jumps over the lazy dog every day")) & seed
    assert not ngrams(words("a fast brown fox leaps over a sleepy dog each morning")) & seed


@pytest.mark.skipif(not SEED_DIR.is_dir(), reason="the seed primer is not beside this checkout")
def test_nothing_shipped_copies_the_seed() -> None:
    seed: set[tuple[str, ...]] = set()
    for path in SEED_DIR.glob("*.txt"):
        seed |= ngrams(words(path.read_text()))
    assert seed
    copied = {}
    for name, text in shipped_texts():
        # Strings are joined, so a run straddling two fields counts too (stricter).
        hits = ngrams(words(text)) & seed
        if hits:
            copied[name] = [" ".join(h) for h in sorted(hits)[:3]]
    assert not copied, f"copied from the seed: {copied}"
