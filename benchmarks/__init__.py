"""Benchmarks: speed and quality figures, run by ``make bench`` (``python -m benchmarks``).

Targets live here, never in timed unit tests.  Each ``bench_*.py`` module has
``run(quick: bool) -> list[Result]``; the runner prints one table.
"""
