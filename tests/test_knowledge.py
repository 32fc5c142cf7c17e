"""Knowledge layer: chunking, the shipped primer, user notes, the cached FAISS index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import DataError
from knowledge import corpus as corpus_mod
from knowledge.corpus import PRIMER_DIR, add_notes, load_corpus, load_primer
from knowledge.index import build_or_load, make_index
from knowledge.passages import parse_notes, parse_primer, word_count
from knowledge.retriever import Retriever
from viva.cli import main

PRIMER_TEXT = """---
topic: demo
title: Demo
tracks: [applied-nlp]
depth: 2
---
# Demo

## First thing {#first}

One two three four five six seven eight nine ten eleven twelve.

## Second thing {#second}

Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda.
"""


class CountingEncoder:
    """The real embedder, counting what it is asked to encode."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.calls = 0

    def encode(self, texts):
        self.calls += len(texts)
        return self.inner.encode(texts)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("VIVA_CACHE_DIR", str(path))
    return path


# --- chunking -------------------------------------------------------------------------


def test_primer_sections_become_whole_passages() -> None:
    parsed = parse_primer(PRIMER_TEXT, "primer/demo.md")
    assert [p.id for p in parsed.passages] == ["demo/first", "demo/second"]
    first = parsed.passages[0]
    assert first.heading == "First thing"
    assert first.text.startswith("One two") and first.text.endswith("twelve.")
    assert first.tracks == ("applied-nlp",) and first.depth == 2


@pytest.mark.parametrize(
    "broken, field",
    [
        (PRIMER_TEXT.replace("tracks: [applied-nlp]\n", ""), "'tracks'"),
        (PRIMER_TEXT.replace("applied-nlp", "marketing"), "unknown track"),
        (PRIMER_TEXT.replace(" {#second}", ""), "no {#anchor}"),
        (PRIMER_TEXT.replace("{#second}", "{#first}"), "duplicate anchors"),
        (PRIMER_TEXT.split("---\n# Demo")[1], "front matter"),
    ],
)
def test_broken_primer_names_file_and_field(broken: str, field: str) -> None:
    with pytest.raises(DataError, match="primer/demo.md") as err:
        parse_primer(broken, "primer/demo.md")
    assert field in str(err.value)


def test_notes_split_on_headings_then_paragraphs() -> None:
    long_para = " ".join(["word"] * 150)
    text = (
        f"# Notes\n\n## Optimizers\n\n{long_para}.\n\n{long_para}.\n\n## Warmup\n\nShort section about warmup and why it helps.\n"
    )
    parsed = parse_notes(text, "my_notes.md")
    headings = [p.heading for p in parsed.passages]
    assert headings == ["Optimizers", "Optimizers", "Warmup"]
    # paragraphs are never cut: each Optimizers chunk is exactly one paragraph
    assert all(word_count(p.text) == 150 for p in parsed.passages[:2])
    assert [p.id for p in parsed.passages] == ["notes/my-notes/1", "notes/my-notes/2", "notes/my-notes/3"]


def test_notes_without_headings_group_paragraphs() -> None:
    paras = [f"Paragraph {i} " + " ".join(["text"] * 40) + "." for i in range(8)]
    parsed = parse_notes("\n\n".join(paras), "plain.txt")
    assert len(parsed.passages) >= 2
    assert all(word_count(p.text) <= 200 for p in parsed.passages)
    joined = "\n\n".join(p.text for p in parsed.passages)
    assert joined == "\n\n".join(paras)  # nothing lost, nothing reordered


# --- the shipped primer ---------------------------------------------------------------


def test_shipped_primer_loads_and_meets_the_bar() -> None:
    files = load_primer()
    passages = [p for f in files for p in f.passages]
    assert len(passages) >= 60
    for p in passages:
        assert 60 <= p.words <= 200, f"{p.id} has {p.words} words"
    topics = {f.topic for f in files}
    for needed in (
        "architecture-choice", "mlp", "cnn", "resnet", "rnn-lstm", "attention", "transformer-block",
        "transformer-families", "gnn", "training-loop", "gradient-problems", "initialization", "optimizers",
        "lr-schedules", "dropout", "normalization", "weight-decay", "data-augmentation", "early-stopping",
        "when-not-dl", "frameworks", "dl-interviews", "loss-functions", "evaluation-metrics",
        "class-imbalance", "embeddings-recsys", "transfer-learning", "mixed-precision", "tokenization",
    ):
        assert needed in topics, f"primer lacks topic {needed}"


# --- the index and its cache ---------------------------------------------------------


@pytest.mark.slow
def test_second_build_embeds_nothing_and_a_change_rebuilds(encoder, fresh_cache, tmp_path) -> None:
    primer = tmp_path / "primer"
    primer.mkdir()
    (primer / "demo.md").write_text(PRIMER_TEXT)
    counting = CountingEncoder(encoder)

    first = Retriever(load_corpus(primer_dir=primer), counting)
    assert not first.index.from_cache and counting.calls == 2

    counting.calls = 0
    second = Retriever(load_corpus(primer_dir=primer), counting)
    assert second.index.from_cache
    assert counting.calls == 0, "a cache hit must not embed anything"
    assert np.array_equal(first.index.vectors, second.index.vectors)

    (primer / "demo.md").write_text(PRIMER_TEXT.replace("Alpha beta", "Changed words"))
    third = Retriever(load_corpus(primer_dir=primer), counting)
    assert not third.index.from_cache and counting.calls == 2


@pytest.mark.slow
def test_damaged_cache_is_rebuilt(encoder, fresh_cache, tmp_path) -> None:
    primer = tmp_path / "primer"
    primer.mkdir()
    (primer / "demo.md").write_text(PRIMER_TEXT)
    Retriever(load_corpus(primer_dir=primer), encoder)
    for faiss_file in fresh_cache.rglob("index.faiss"):
        faiss_file.write_bytes(b"garbage")
    again = Retriever(load_corpus(primer_dir=primer), encoder)
    assert not again.index.from_cache
    assert len(again.search("alpha beta gamma", k=1)) == 1


@pytest.mark.slow
def test_lexical_index_builds_in_the_background_and_a_failure_reaches_the_search(
    encoder, fresh_cache, tmp_path, monkeypatch
) -> None:
    """The TF-IDF half is built off the start-up path; a broken build is not swallowed."""
    import sklearn.feature_extraction.text as sk_text

    primer = tmp_path / "primer"
    primer.mkdir()
    (primer / "demo.md").write_text(PRIMER_TEXT)
    built = Retriever(load_corpus(primer_dir=primer), encoder)
    assert built._lexical is not None and built._lexical.ready().matrix.shape[0] == len(built.corpus)
    assert len(built.search("alpha beta gamma", k=1)) == 1

    class Broken:
        def __init__(self, **kwargs: object) -> None:
            raise MemoryError("no room for the vocabulary")

    monkeypatch.setattr(sk_text, "TfidfVectorizer", Broken)
    broken = Retriever(load_corpus(primer_dir=primer), encoder)  # construction does not wait or fail
    with pytest.raises(MemoryError, match="no room"):
        broken.search("alpha beta gamma", k=1)


def test_flat_and_hnsw_agree_on_easy_data() -> None:
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(2000, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    flat, hnsw = make_index(vecs, "flat"), make_index(vecs, "hnsw")
    queries = vecs[:50] + 0.01 * rng.normal(size=(50, 32)).astype(np.float32)
    _, exact = flat.search(queries, 1)
    _, approx = hnsw.search(queries, 1)
    assert (exact[:, 0] == np.arange(50)).all()
    assert (approx[:, 0] == exact[:, 0]).mean() >= 0.95


@pytest.mark.slow
def test_search_filters_by_topic_and_track(encoder) -> None:
    retriever = Retriever.load(encoder)
    hits = retriever.search("how does the optimizer handle weight decay", k=3, topic="optimizers")
    assert hits and all(h.passage.topic == "optimizers" for h in hits)
    pa = retriever.search("attention heads and keys", k=5, track="product-analytics")
    assert all("product-analytics" in h.passage.tracks for h in pa)
    assert retriever.search("   ", k=3) == []
    scores = [h.score for h in retriever.search("dropout at inference", k=5)]
    assert scores == sorted(scores, reverse=True)


# --- user notes: add, list, search, bad input ----------------------------------------


def _snapshot_notes() -> dict[str, bytes]:
    folder = corpus_mod.notes_dir()
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_add_notes_copies_and_lists(tmp_path, capsys) -> None:
    note = tmp_path / "my-warmup.md"
    note.write_text("# Warmup\n\nI always warm up the learning rate for the first thousand steps of fine-tuning.\n")
    assert main(["knowledge", "add", str(note)]) == 0
    assert "added my-warmup.md: 1 passage" in capsys.readouterr().out
    assert (corpus_mod.notes_dir() / "my-warmup.md").read_text() == note.read_text()
    assert main(["knowledge", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    mine = [row for row in listed if row["user"]]
    assert mine and mine[0]["passages"] == ["notes/my-warmup/1"]
    # the shipped primer is untouched by adding a note
    assert all(p.parent == PRIMER_DIR for p in PRIMER_DIR.glob("*.md"))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.md", "no such file"),
        (lambda d: (d / "empty.md").write_text("") and d / "empty.md" or d / "empty.md", "empty"),
        (lambda d: (d / "bin.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary") and d / "bin.md", "binary"),
        (lambda d: (d / "latin.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1") * 10) and d / "latin.txt", "not UTF-8"),
        (lambda d: (d / "blank.md").write_text("#\n\n---\n\n   \n") and d / "blank.md", "no usable text"),
        (lambda d: (d / "folder").mkdir() or d / "folder", "holds no .md or .txt"),
    ],
)
def test_bad_notes_are_refused_and_change_nothing(tmp_path, capsys, make, message) -> None:
    good = tmp_path / "good.md"
    good.write_text("A perfectly fine note about gradient clipping and why it matters.")
    bad = make(tmp_path)
    before = _snapshot_notes()
    assert main(["knowledge", "add", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(bad) in err
    assert _snapshot_notes() == before, "a failed add must leave the corpus unchanged"


def test_remove_note(tmp_path, capsys) -> None:
    note = tmp_path / "n.txt"
    note.write_text("Some words about batch normalization and small batches.")
    add_notes([note])
    assert main(["knowledge", "remove", "n.txt"]) == 0
    assert not (corpus_mod.notes_dir() / "n.txt").exists()
    assert main(["knowledge", "remove", "n.txt"]) == 2
    assert "no note named" in capsys.readouterr().err


@pytest.mark.slow
def test_search_cli_json_includes_user_notes(tmp_path, capsys) -> None:
    note = tmp_path / "kv.md"
    note.write_text("## KV cache\n\nThe zebra-cache trick stores keys and values of past tokens so decoding is fast.\n")
    add_notes([note])
    assert main(["knowledge", "search", "zebra-cache keys and values of past tokens", "-k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3
    for hit in hits:
        assert {"id", "score", "source", "text"} <= set(hit)
    assert hits[0]["id"] == "notes/kv/1" and hits[0]["source"] == "notes/kv.md"
    assert main(["knowledge", "search", "x", "-k", "0"]) == 2


def test_index_cache_key_changes_with_encoder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VIVA_CACHE_DIR", str(tmp_path))

    class Fake:
        def __init__(self, identity: str) -> None:
            self.identity = identity
            self.calls = 0

        def encode(self, texts):
            self.calls += 1
            return np.eye(len(texts), 4, dtype=np.float32)

    a, b = Fake("model-a"), Fake("model-b")
    build_or_load(["x", "y"], ["x", "y"], "fp", a)
    build_or_load(["x", "y"], ["x", "y"], "fp", b)
    build_or_load(["x", "y"], ["x", "y"], "fp", a)
    assert (a.calls, b.calls) == (1, 1)
