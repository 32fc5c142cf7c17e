"""A smoke run of the SIGKILL fault harness (benchmarks/fault_kill.py): 2 kills, no LLM.

The harness itself is a benchmark (`python -m benchmarks.fault_kill`, 30 kills with the
real model and without); this only keeps it from rotting.  Whatever moment each kill
lands on, nothing answered may be lost and every resume must work.
"""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_two_kills_lose_nothing_and_resume(capsys, tmp_path) -> None:  # noqa: ANN001
    from benchmarks.fault_kill import main

    code = main(["--kills", "2", "--llm", "none", "--jobs", "1", "--quiet", "--seed", "3", "--keep", str(tmp_path / "work")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 kills:" in out and " 0 lost, 0 altered" in out
    assert "problem:" not in out
