"""Pull from the reference server over HTTP: complete, incremental, idempotent, resumable."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from triage_tui.sync.pull import DEFAULT_TYPES, Puller

from .conftest import TOKEN, plain_rows, reset_stats, stats


def _server_counts(server) -> dict[str, int]:
    out = {}
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as h:
        for t in DEFAULT_TYPES:
            out[t] = h.get(f"{server.base_url}/{t}", params={"_summary": "count"}).json()["total"]
    return out


def _cached(store) -> tuple[list[str], list[str]]:
    """Thread ids and the thread id of each message, as in the store."""
    return ([r.thread_id for r in store.queue()],
            [r[0] for r in plain_rows(store, "SELECT thread_id FROM messages")])


async def test_initial_pull_gets_everything(server, client, store):
    counts = _server_counts(server)
    res = await Puller(client, store, page_size=50).pull()
    assert res.complete and res.skipped == 0
    threads, messages = _cached(store)
    assert len(threads) == 40
    assert len(threads) + len(messages) == counts["Communication"]
    assert plain_rows(store, "SELECT count(*) FROM tasks")[0][0] == counts["Task"]
    assert plain_rows(store, "SELECT count(*) FROM patients")[0][0] == counts["Patient"]
    assert all(store.get_cursor(t) for t in DEFAULT_TYPES if counts[t])
    assert set(messages) <= set(threads)


async def test_nochange_pull_is_one_request_per_type(server, client, store):
    p = Puller(client, store)
    await p.pull()
    reset_stats(server)
    res = await p.pull()
    assert res.changed == 0
    st = stats(server)
    assert st["total"] == len(DEFAULT_TYPES), st
    assert res.requests == len(DEFAULT_TYPES)


async def test_pull_resumes_after_interruption(server, client, store):
    counts = _server_counts(server)
    # zero overlap: the whole toy practice was written within one second
    p = Puller(client, store, page_size=20, overlap=timedelta(0))
    calls = {"n": 0}
    real = client.search_page

    async def flaky(rtype, params):
        calls["n"] += 1
        if rtype == "Communication" and calls["n"] > 6:
            raise RuntimeError("crash")
        return await real(rtype, params)

    client.search_page = flaky  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await p.pull()
    client.search_page = real  # type: ignore[method-assign]
    partial = store.get_cursor("Communication")
    assert partial is not None  # checkpointed mid-type
    reset_stats(server)
    fresh = Puller(client, store, page_size=20, overlap=timedelta(0))
    await fresh.pull()
    threads, messages = _cached(store)
    assert len(threads) == 40 and len(threads) + len(messages) == counts["Communication"]
    st = stats(server)
    # did not start over: fewer Communication pages than a full download
    full_pages = counts["Communication"] // 20 + 1
    assert st["requests"].get("GET Communication", 0) < full_pages
