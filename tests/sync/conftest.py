"""Fixtures of the sync tests: a reference server over real HTTP, a client, a cache."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from triage_tui.server.runner import ServerThread
from triage_tui.sync.client import FhirClient

from .practice import practice

TOKEN = "sync-test-token"


@pytest.fixture
def server(tmp_path):
    srv = ServerThread(tmp_path / "fhir.db", TOKEN, faults=True)
    srv.start()
    srv.storage.bulk_load(practice(7, 40))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def empty_server(tmp_path):
    srv = ServerThread(tmp_path / "fhir-empty.db", TOKEN, faults=True)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
async def client(server):
    c = FhirClient(server.base_url, TOKEN, backoff_base=0.01, backoff_cap=0.05)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
def synth_server(tmp_path):
    """The project's synthetic practice (server.synth), 40 threads."""
    srv = ServerThread(tmp_path / "fhir-synth.db", TOKEN, seed=7, n_threads=40, faults=True)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


PASSPHRASE = "sync tests only: not a secret"


def open_cache(server: ServerThread, tmp_path, user: str = "nurse1"):
    from triage_tui.cache import open_store

    return open_store(server.base_url, user, passphrase=PASSPHRASE,
                      data_dir=tmp_path / "cache", keyring_ok=False)


@pytest.fixture
def store(server, tmp_path, monkeypatch):
    """The real encrypted Store on a SQLite file in tmp_path (fast KDF, as tests/cache)."""
    from triage_tui.cache import crypto

    monkeypatch.setattr(crypto, "DEFAULT_SCRYPT", crypto.ScryptParams(n=2**10, r=8, p=1))
    s = open_cache(server, tmp_path)
    try:
        yield s
    finally:
        s.close()


def plain_rows(store, sql: str) -> list[tuple]:
    """Rows of the store's plain (unencrypted) columns, read from its file (read-only)."""
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def faults(srv: ServerThread, **rule) -> None:
    httpx.post(srv.root_url + "/_test/faults", json=rule).raise_for_status()


def clear_faults(srv: ServerThread) -> None:
    httpx.delete(srv.root_url + "/_test/faults").raise_for_status()


def stats(srv: ServerThread) -> dict:
    return httpx.get(srv.root_url + "/_test/stats").json()


def reset_stats(srv: ServerThread) -> None:
    httpx.delete(srv.root_url + "/_test/stats").raise_for_status()
