"""App test fixtures: a deterministic config (no blink, no animation), a fixed clock, apps."""

from __future__ import annotations

import pytest

from app_fake_store import NOW, FakeStore
from triage_tui.app import TriageApp
from triage_tui.config import Config

USER = "Practitioner/nurse1"


def deterministic_config(**kw) -> Config:
    """Deterministic: no animations or blinking cursor, no idle lock, default theme."""
    kw.setdefault("animations", False)
    kw.setdefault("idle_lock_minutes", 0)
    return Config(**kw)


def make_app(store=None, *, config: Config | None = None, **kw) -> TriageApp:
    store = store if store is not None or "opener" in kw else FakeStore()
    return TriageApp(deterministic_config() if config is None else config, store=store,
                     server_label="http://fhir.test/r4", user_ref=USER, user_label="Nurse Lee",
                     clock=lambda: NOW, **kw)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def app(store) -> TriageApp:
    return make_app(store)
