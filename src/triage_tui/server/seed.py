"""Seeding an empty server database with a synthetic practice."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from triage_tui.server.storage import Storage

log = logging.getLogger("triage_tui.server.seed")


def seed_storage(storage: Storage, seed: int, n_threads: int = 300, *,
                 now: datetime | None = None, validate: bool = True) -> int:
    """Fill an EMPTY storage with ``generate_practice(seed, n_threads, now)``; return the count.

    Does nothing (returns 0) when the storage already holds resources: seeding is for first
    start only, restarts keep their data."""
    if not storage.is_empty():
        return 0
    from triage_tui.server.synth import generate_practice

    return storage.bulk_load(generate_practice(seed, n_threads, now), validate_each=validate)


def load_resources(storage: Storage, resources: Iterable[dict]) -> int:
    """Bulk-load hand-built resources (tests)."""
    return storage.bulk_load(resources, validate_each=True)
