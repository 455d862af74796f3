"""``cache.reports``: the facts read from a real encrypted cache give the hand-worked figures."""

from __future__ import annotations

import sqlite3

import pytest
from analytics_dataset import NOW, RULES, facts, records

from triage_tui.cache import CacheLocked, open_store
from triage_tui.cache.reports import load_facts, staff_names
from triage_tui.domain import analytics as an

SERVER = "https://fhir.test.invalid/R4"
PW = "analytics test passphrase"


@pytest.fixture
def store(tmp_path):
    s = open_store(SERVER, "Practitioner/a", passphrase=PW, data_dir=tmp_path / "data")
    s.upsert(records())
    yield s
    s.close()


def _key(fs):
    return sorted(fs, key=lambda f: f.thread_id)


def test_all_facts_round_trip(store):
    got = _key(load_facts(store))
    want = _key(facts())
    assert [f.thread_id for f in got] == [f.thread_id for f in want]
    for g, w in zip(got, want, strict=True):
        assert g.messages == w.messages
        assert (g.category, g.pool, g.priority, g.task_status, g.business_status, g.owner) == (
            w.category, w.pool, w.priority, w.task_status, w.business_status, w.owner)


@pytest.mark.parametrize("days", an.RANGES)
def test_since_keeps_every_figure(store, days):
    """Reading only what a window needs changes no figure."""
    win = an.Window.last_days(NOW, days, RULES.calendar.timezone)
    part = load_facts(store, since=win.start)
    assert an.compute(part, now=NOW, days=days, rules=RULES) == an.compute(
        facts(), now=NOW, days=days, rules=RULES)


def test_since_skips_old_closed_threads(store):
    win = an.Window.last_days(NOW, 7, RULES.calendar.timezone)
    ids = {f.thread_id for f in load_facts(store, since=win.start)}
    assert "T10" not in ids  # closed, all in February
    assert {"T7", "T11", "T12"} <= ids  # open (T7, T11), or a message in the window (T12)


def test_names_from_cached_practitioners(store):
    assert staff_names(store, ["Practitioner/a", "Practitioner/b", "Practitioner/zz",
                               "Patient/p1"]) == {"Practitioner/a": "Alex Rivera",
                                                  "Practitioner/b": "Bea Okafor"}


def test_locked_store_refuses(store):
    store.lock()
    with pytest.raises(CacheLocked):
        load_facts(store)


def test_reads_no_encrypted_column(store, monkeypatch):
    """The two queries never select a ``phi`` column."""
    seen: list[str] = []
    real = sqlite3.connect

    def spy(*a, **kw):
        conn = real(*a, **kw)
        conn.set_trace_callback(seen.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", spy)
    load_facts(store, since=0.0)
    assert seen and not any("phi" in s for s in seen)
