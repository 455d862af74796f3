"""App test fixtures: a deterministic config (no blink, no animation), a fixed clock, apps, and
the real encrypted Store on a SQLite file in tmp_path holding the synthetic practice."""

from __future__ import annotations

import pytest

from app_helpers import make_app
from app_store_data import FAST_SCRYPT, open_practice_store
from triage_tui.cache import crypto


@pytest.fixture
def make_store(tmp_path, monkeypatch):
    """``make_store(n_threads=40)``: a new real Store with the synthetic practice (fast KDF);
    closed after the test."""
    monkeypatch.setattr(crypto, "DEFAULT_SCRYPT", FAST_SCRYPT)
    opened = []

    def make(n_threads: int = 40):
        s = open_practice_store(tmp_path / f"cache-{len(opened)}", n_threads)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def store(make_store):
    return make_store()


@pytest.fixture
def app(store) -> TriageApp:
    return make_app(store)
