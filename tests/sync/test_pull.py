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


async def test_settled_cursor_drops_the_overlap_window(server, client, store):
    """The toy practice is written within one second, inside the 0.5 s overlap: while its
    newest stamps are recent every pass downloads the window again; once a pass's last page
    came at least the overlap after them, the next passes ask from the cursor itself and
    download only what is stamped there. Anything new still comes."""
    import asyncio

    p = Puller(client, store)
    first = await p.pull()
    again = await p.pull()  # at once: the newest stamps are not settled yet
    assert again.changed == 0 and again.fetched > 20
    await asyncio.sleep(1.0)  # the stamps run a little ahead of the clock (bulk load)
    settling = await p.pull()  # asks with the overlap (mostly); its answers settle the cursors
    assert settling.changed == 0
    reset_stats(server)
    quiet = await p.pull()
    assert quiet.changed == 0 and quiet.requests == len(DEFAULT_TYPES)
    assert quiet.fetched <= len(DEFAULT_TYPES)  # those stamped at each cursor only
    assert stats(server)["total"] == len(DEFAULT_TYPES)
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as h:
        r = h.post(f"{server.base_url}/Communication", json={
            "resourceType": "Communication", "status": "completed",
            "partOf": [{"reference": "Communication/th4"}],
            "subject": {"reference": "Patient/pat0"}, "sender": {"reference": "Patient/pat0"},
            "payload": [{"contentString": "one more question"}]})
        assert r.status_code == 201
    new = await p.pull()
    assert new.changed == 1 and "th4" in new.thread_ids
    assert first.fetched >= again.fetched > 20 * quiet.fetched


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
