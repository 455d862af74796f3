"""Shared fixtures: a real reference FHIR server over HTTP on 127.0.0.1 (random port).

Fixtures
--------
``fhir_token``      the bearer token every server fixture accepts ("test-token").
``fhir_server``     function-scoped, EMPTY db, test faults enabled (``/_test/faults``,
                    ``/_test/stats``). A :class:`triage_tui.server.runner.ServerThread`:
                    ``.base_url`` (http://127.0.0.1:PORT/fhir), ``.root_url``, ``.restart()``,
                    ``.stop()``, ``.storage`` (the server's Storage, for direct checks).
``fhir_client``     httpx.Client for ``fhir_server`` (base_url + bearer header, 10 s timeout).
``seeded_server``   session-scoped, READ-ONLY by convention (do not write to it; use
                    ``fhir_server`` for writes): a small synthetic practice. Uses
                    ``triage_tui.server.synth.generate_practice(seed=7, n_threads=20)`` when the
                    generator is importable, else :func:`triage_tui.server.sample.small_practice`.
                    ``seeded_server.seeded_with`` says which ("synth" | "sample").
``seeded_client``   httpx.Client for ``seeded_server``.
``fault``           helper for ``fhir_server``: ``fault("rate429", count=2, retry_after=1,
                    method="GET", path_contains="Communication")``; cleared after the test.
``server_stats``    callable returning ``fhir_server``'s ``/_test/stats`` JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from triage_tui.server.runner import ServerThread

TOKEN = "test-token"


def _client(server: ServerThread) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=10.0,
                        headers={"Authorization": f"Bearer {server.token}",
                                 "Accept": "application/fhir+json"})


def _synth_available() -> bool:
    try:
        from triage_tui.server.synth import generate_practice  # noqa: F401
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def fhir_token() -> str:
    return TOKEN


@pytest.fixture
def fhir_server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(tmp_path / "fhir-server.db", TOKEN, faults=True) as srv:
        yield srv


@pytest.fixture
def fhir_client(fhir_server: ServerThread) -> Iterator[httpx.Client]:
    with _client(fhir_server) as client:
        yield client


@pytest.fixture(scope="session")
def seeded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    db = tmp_path_factory.mktemp("seeded") / "fhir-seeded.db"
    if _synth_available():
        srv = ServerThread(db, TOKEN, seed=7, n_threads=20, faults=True)
        srv.seeded_with = "synth"
    else:
        from triage_tui.server.sample import small_practice
        from triage_tui.server.storage import Storage

        storage = Storage(db)
        storage.bulk_load(small_practice(), validate_each=True)
        storage.close()
        srv = ServerThread(db, TOKEN, faults=True)
        srv.seeded_with = "sample"
    with srv:
        yield srv


@pytest.fixture
def seeded_client(seeded_server: ServerThread) -> Iterator[httpx.Client]:
    with _client(seeded_server) as client:
        yield client


@pytest.fixture
def fault(fhir_server: ServerThread) -> Iterator[Callable[..., dict]]:
    def add(mode: str, count: int = 1, **kw: Any) -> dict:
        r = httpx.post(f"{fhir_server.root_url}/_test/faults", json={"mode": mode, "count": count, **kw})
        r.raise_for_status()
        return r.json()

    yield add
    if fhir_server.running:
        httpx.delete(f"{fhir_server.root_url}/_test/faults")


@pytest.fixture
def server_stats(fhir_server: ServerThread) -> Callable[[], dict]:
    return lambda: httpx.get(f"{fhir_server.root_url}/_test/stats").json()
