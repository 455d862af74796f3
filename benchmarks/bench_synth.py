"""Synthetic practice generation speed (issue 2, point 3): 10k threads must take <= 10 s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from _util import figure, median_of

FIGURES = ["generate_10k_threads_s"]
NOW = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)


def run(quick: bool, only: set[str] | None = None) -> Iterator[dict]:
    from triage_tui.server.synth import generate_practice
    from triage_tui.server.synth.people import name_pools

    if only and "generate_10k_threads_s" not in only:
        return
    runs = 1 if quick else 3
    seeds = iter(range(1000, 1100))

    def once() -> None:
        seed = next(seeds)  # a fresh seed each run: Faker name pools are built, not cached
        name_pools.cache_clear()
        n = sum(1 for _ in generate_practice(seed, 10_000, NOW))
        assert n > 40_000

    median, _ = median_of(once, runs=runs, warmup=0 if quick else 1)
    yield figure("generate_10k_threads_s", median, "s", target=10, runs=runs)
