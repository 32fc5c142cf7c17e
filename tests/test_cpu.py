"""core.cpu: small encodes take the cores nobody else is running on, and only those."""

from __future__ import annotations

import pytest

from core import cpu
from core.embedding import small_batch_threads

IDLE = "0.12 0.30 0.41 1/109 18243"  # only the reader runs
ONE_BUSY = "1.02 0.90 0.80 2/111 18388"
TWO_BUSY = "2.10 1.95 1.60 3/111 18390"


def test_running_elsewhere_counts_the_others_not_the_reader() -> None:
    assert cpu.running_elsewhere(IDLE) == 0
    assert cpu.running_elsewhere(ONE_BUSY) == 1
    assert cpu.running_elsewhere(TWO_BUSY) == 2


@pytest.mark.parametrize("text", ["", "garbage", "0.1 0.2 0.3", "0.1 0.2 0.3 x/10 5"])
def test_unknown_load_is_none_and_then_one_thread(text: str) -> None:
    assert cpu.running_elsewhere(text) is None
    assert cpu.spare_threads(limit=4, cores=4, loadavg=text) == 1
    assert cpu.spare_threads(limit=4, cores=8, loadavg=text, unknown=3) == 3  # the caller's fixed choice


def test_spare_threads_are_the_free_cores_within_the_cap() -> None:
    assert cpu.spare_threads(limit=2, cores=2, loadavg=IDLE) == 2
    assert cpu.spare_threads(limit=2, cores=2, loadavg=ONE_BUSY) == 1  # a busy process: one thread
    assert cpu.spare_threads(limit=2, cores=2, loadavg=TWO_BUSY) == 1  # never fewer than one
    assert cpu.spare_threads(limit=1, cores=2, loadavg=IDLE) == 1  # the cap holds
    assert cpu.spare_threads(limit=8, cores=16, loadavg=TWO_BUSY) == 8


def test_the_cap_is_omp_num_threads_where_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert cpu.thread_cap() == 1
    assert cpu.spare_threads(cores=2, loadavg=IDLE) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert cpu.thread_cap() == cpu.usable_cores()
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert cpu.thread_cap() == cpu.usable_cores() >= 1


def test_this_machines_load_reads() -> None:
    if not cpu.LOADAVG.is_file():
        pytest.skip("no /proc/loadavg here")
    assert (cpu.running_elsewhere() or 0) >= 0


def test_small_batches_take_the_spare_threads_and_give_them_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    before = torch.get_num_threads()
    want = 2 if before != 2 else 1
    monkeypatch.setattr(cpu, "spare_threads", lambda *a, **k: want)
    with small_batch_threads(True):
        assert torch.get_num_threads() == want
    assert torch.get_num_threads() == before
    with small_batch_threads(False):  # a big batch (the index): torch's own setting
        assert torch.get_num_threads() == before
