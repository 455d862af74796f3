"""The app tests' helpers (importable by module name: ``from conftest import`` is ambiguous when
several test folders have a conftest.py)."""

from __future__ import annotations

from app_store_data import NOW
from triage_tui.app import TriageApp
from triage_tui.config import Config

USER = "Practitioner/nurse1"


def deterministic_config(**kw) -> Config:
    """Deterministic: no animations or blinking cursor, no idle lock, default theme."""
    kw.setdefault("animations", False)
    kw.setdefault("idle_lock_minutes", 0)
    return Config(**kw)


def make_app(store=None, *, config: Config | None = None, **kw) -> TriageApp:
    if store is None and "opener" not in kw:
        raise ValueError("give a store (the `store` fixture) or an opener")
    return TriageApp(deterministic_config() if config is None else config, store=store,
                     server_label="http://fhir.test/r4", user_ref=USER, user_label="Nurse Lee",
                     clock=lambda: NOW, **kw)
