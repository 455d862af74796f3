"""relaxed_gc: the collector's thresholds always come back."""

from __future__ import annotations

import gc
import threading

from triage_tui.domain.gcpause import relaxed_gc


def test_relaxed_gc_raises_the_young_threshold_and_restores_it():
    before = gc.get_threshold()
    with relaxed_gc(50_000):
        assert gc.get_threshold() == (max(50_000, before[0]), *before[1:])
        with relaxed_gc(10):  # nested: the outer setting stays
            assert gc.get_threshold()[0] == max(50_000, before[0])
        assert gc.get_threshold()[0] == max(50_000, before[0])
    assert gc.get_threshold() == before


def test_relaxed_gc_concurrent_uses_restore_once_the_last_ends():
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other():
        with relaxed_gc():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(5)
    with relaxed_gc():
        pass
    assert gc.get_threshold()[0] == max(100_000, before[0])  # the other thread's pass runs on
    release.set()
    t.join(5)
    assert gc.get_threshold() == before


def test_relaxed_gc_restores_on_error():
    before = gc.get_threshold()
    try:
        with relaxed_gc():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before

