"""Live simulation: new patient messages arrive every 20-60 s (``triage-tui server --simulate``).

The generator lives in :mod:`triage_tui.server.synth.simulate` (``Simulator(seed)``,
``sim.arrival(now, store_view) -> list[dict]``). We pass a :class:`StoreView`: callable as
``view(resource_type, params) -> list[dict]`` (a FHIR search, all pages, params as a dict or a
list of pairs, e.g. ``view("Communication", {"part-of:missing": "true", "status": "in-progress"})``),
with ``view.search(...)`` (same) and ``view.read(type, id) -> dict | None``.
What ``arrival`` returns is stored in one transaction: resources with an ``id`` by
update-as-create (PUT), the others by create (POST); ``urn:uuid:`` references are not resolved.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime
from typing import Any

from triage_tui.server.errors import FhirError
from triage_tui.server.storage import Storage

log = logging.getLogger("triage_tui.server.simulate")


class StoreView:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def search(self, resource_type: str, params: dict[str, str] | list[tuple[str, str]] | None = None
               ) -> list[dict]:
        return self._storage.search_resources(resource_type, params)

    __call__ = search

    def read(self, resource_type: str, rid: str) -> dict | None:
        try:
            return self._storage.read(resource_type, rid).resource()
        except FhirError:
            return None


def store_resources(storage: Storage, resources: list[dict[str, Any]]) -> int:
    """Store resources all-or-nothing; return how many were written."""
    with storage.atomic():
        for r in resources:
            if r.get("id"):
                storage.update(r["resourceType"], r["id"], r)
            else:
                storage.create(r)
    return len(resources)


async def run_simulator(storage: Storage, seed: int, interval: tuple[float, float] | None = None
                        ) -> None:
    """Forever: wait, ask the simulator for one arrival, store it. The wait is
    ``sim.next_delay()`` (20-60 s) unless ``interval`` (min, max seconds) is given (tests)."""
    try:
        from triage_tui.server.synth.simulate import Simulator  # type: ignore[import-not-found]
    except ImportError as exc:
        log.warning("--simulate: the simulator is not available (%s)", exc)
        return
    sim = Simulator(seed)
    rng = random.Random(seed ^ 0x5EED)
    view = StoreView(storage)
    while True:
        if interval is not None:
            delay = rng.uniform(*interval)
        elif hasattr(sim, "next_delay"):
            delay = sim.next_delay()
        else:
            delay = rng.uniform(20.0, 60.0)
        await asyncio.sleep(delay)
        try:
            resources = sim.arrival(datetime.now(UTC), view) or []
            n = store_resources(storage, list(resources))
            log.info("simulated arrival: %d resources", n)
        except asyncio.CancelledError:
            raise
        except Exception:  # keep simulating; a bad arrival is logged, not fatal
            log.exception("simulated arrival failed")
