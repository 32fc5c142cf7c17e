"""Batching texts by length (core.embedding.length_batches): every text once, like lengths together."""

from __future__ import annotations

from core.embedding import PAD_SLACK, length_batches


def test_every_text_lands_in_exactly_one_batch_within_the_size_limit() -> None:
    lengths = [(i * 37) % 500 for i in range(300)]
    batches = length_batches(lengths, 64)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(300))
    assert all(0 < len(b) <= 64 for b in batches)


def test_short_windows_are_not_padded_to_a_long_gist() -> None:
    lengths = [1100] + [45] * 40 + [110, 110]  # a 220-word gist, 8-word windows, two sentences
    batches = length_batches(lengths, 64)
    assert batches[0] == [0]
    for b in batches:
        longest = max(lengths[i] for i in b)
        assert all(longest - lengths[i] <= PAD_SLACK or lengths[i] >= 0.8 * longest for i in b)
    assert len(batches) == 3
