"""Freed memory goes back to the system between answers (core/memory.py)."""

from __future__ import annotations

import pytest

from core import memory


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_memory_freed_inside_the_heap_is_returned_to_the_system() -> None:
    if memory._libc() is None:
        pytest.skip("not glibc: there is nothing to trim")
    # 1,600 blocks of 96 KB (under glibc's mmap threshold, so they live in the heap);
    # freeing every other one leaves ~75 MB of free holes that glibc keeps for reuse.
    blocks = [bytearray(96 * 1024) for _ in range(1600)]
    del blocks[::2]
    before = _rss_mib()
    memory.release_free_memory()
    after = _rss_mib()
    assert before - after > 40, (before, after)
    assert len(blocks) == 800  # the live half is untouched
