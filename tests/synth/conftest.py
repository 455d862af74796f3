"""Shared, session-scoped synthetic practices (generated once: keep the directory fast)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from triage_tui.server.synth import generate_practice_with_truth

NOW = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def practice2k():
    """(resources, truth) for 2000 threads, seed 11."""
    return generate_practice_with_truth(11, 2000, NOW)


@pytest.fixture(scope="session")
def by_id(practice2k):
    resources, _ = practice2k
    return {f"{r['resourceType']}/{r['id']}": r for r in resources}
