"""Fewer garbage collections during bursts of short-lived acyclic data (a pull pass).

:func:`triage_tui.domain.analytics.paused_gc` pauses the collector for a short scan;
:func:`relaxed_gc` suits longer work that other threads share the process with.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, ...] | None = None


@contextmanager
def relaxed_gc(young: int = 100_000) -> Iterator[None]:
    """Collect the young generation only every ``young`` allocations (Python's default: 700)
    while a long burst of short-lived acyclic data runs (a pull pass: ~50 MB of parsed JSON
    pages, records, rows), instead of pausing the collector outright: garbage cycles made
    meanwhile (by this or other threads) are still collected, a little later. At the default
    threshold each parsed page is walked by dozens of young collections and promoted into the
    old generation, whose full collections then walk every page again (a tenth of a 10k-thread
    sync). Nested and concurrent uses keep the thresholds the outermost one found and restore
    them when the last one ends."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(young, _saved[0]), *_saved[1:])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
