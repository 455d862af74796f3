"""Module-scoped server for the server tests (each test uses its own ids/identifiers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from triage_tui.server.runner import ServerThread


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    db = tmp_path_factory.mktemp("srv") / "fhir.db"
    with ServerThread(db, "tok", faults=True) as s:
        yield s


@pytest.fixture
def client(srv: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.base_url, headers={"Authorization": "Bearer tok"},
                      timeout=10) as c:
        yield c


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:12]
