"""Deletions on the server reach the cache through type-level _history, end to end over HTTP."""

from __future__ import annotations

import asyncio

import httpx

from triage_tui.sync.client import FhirClient
from triage_tui.sync.engine import ChangeSet, SyncEngine
from triage_tui.sync.errors import error_for
from triage_tui.sync.pull import QUEUE_TYPES, Puller

from .conftest import TOKEN, plain_rows, reset_stats, stats


def _http(server) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"})


def _delete(server, *refs: str) -> None:
    with _http(server) as h:
        for ref in refs:
            assert h.delete(ref).status_code == 200, ref


async def _settle() -> None:
    # the fixture bulk-loads with consecutive-millisecond stamps that run a little ahead of the
    # clock; let them fall behind the 0.5 s overlap so "no change" really means no entries
    await asyncio.sleep(1.0)


async def test_deleted_message_task_and_thread_leave_the_cache(server, store):
    await _settle()
    changes: list[ChangeSet] = []
    client = FhirClient(server.base_url, TOKEN)
    engine = SyncEngine(client, store, "Practitioner/pr0", deletes_every=1,
                        on_changes=changes.append)
    first = await engine.sync_once()
    assert first.ok and store.thread("th3") is not None and store.thread("th5") is not None
    assert [m.id for m in store.messages("th3")] == ["m3x0", "m3x1"]
    assert store.task_for_thread("th3") is not None
    queued = len(store.queue())

    # someone deletes one message and the Task of th3, and the whole header of th5
    _delete(server, "Communication/m3x1", "Task/task3", "Communication/th5")
    changes.clear()
    reset_stats(server)
    summary = await engine.sync_once()
    assert summary.ok and summary.deleted == 3, summary.as_dict()
    assert [m.id for m in store.messages("th3")] == ["m3x0"]
    assert store.task_for_thread("th3") is None
    assert store.thread("th5") is None
    assert len(store.queue()) == queued - 1
    assert store.version_of("Communication", "m3x1") is None
    assert store.version_of("Task", "task3") is None
    named = set().union(*(c.thread_ids for c in changes))
    assert {"th3", "th5"} <= named
    assert {"Communication", "Task"} <= set().union(*(c.resource_types for c in changes))
    # the check itself: one history request per queue type (the threads come from the cache)
    assert stats(server)["requests"].get("GET Communication", 0) >= 1

    # nothing deleted since: the check is one request per type and changes nothing
    changes.clear()
    reset_stats(server)
    res = await engine.puller.sweep_deletes()
    assert res.deleted == 0 and res.requests == len(QUEUE_TYPES)
    assert stats(server)["total"] == len(QUEUE_TYPES)
    await client.aclose()


async def test_quiet_check_is_one_small_request_per_type(server, store):
    await _settle()
    async with FhirClient(server.base_url, TOKEN) as client:
        p = Puller(client, store)
        await p.pull()
        await p.sweep_deletes()  # the first check (from the first pull's start)
        seen: list[tuple[str, dict]] = []
        real = client.search

        async def spy(rtype, params):
            seen.append((rtype, dict(params)))
            return await real(rtype, params)

        client.search = spy  # type: ignore[method-assign]
        reset_stats(server)
        res = await p.sweep_deletes()
        assert res.complete and res.deleted == 0 and res.requests == 2
        assert [r for r, _ in seen] == ["Communication/_history", "Task/_history"]
        assert all(0 < int(prm["_count"]) <= 100 and prm["_since"] for _, prm in seen)
        assert stats(server)["total"] == 2


async def test_many_deletes_cost_no_request_each(server, store):
    """The threads of deleted resources come from the cache, not from each one's history
    (a server purging old Tasks must not cost a request per Task)."""
    await _settle()
    async with FhirClient(server.base_url, TOKEN) as client:
        p = Puller(client, store)
        await p.pull()
        await p.sweep_deletes()
        await _settle()  # their earlier versions are now outside the check's window
        _delete(server, *(f"Task/task{i}" for i in range(6)), "Communication/m7x1",
                "Communication/th8")
        reset_stats(server)
        res = await p.sweep_deletes()
        assert res.deleted == 8 and res.requests == len(QUEUE_TYPES)
        assert stats(server)["total"] == len(QUEUE_TYPES)
        assert {f"th{i}" for i in range(9)} - {"th6"} == res.thread_ids
        assert all(store.task_for_thread(f"th{i}") is None for i in range(6))


async def test_delete_before_a_newer_write_is_still_found(server, store):
    """The first check starts at the first pull, not at the cursor of a later pull."""
    await _settle()
    async with FhirClient(server.base_url, TOKEN) as client:
        p = Puller(client, store)
        await p.pull()
        _delete(server, "Communication/m1x1")
        with _http(server) as h:  # a newer write moves the pull cursor past the deletion
            t = h.get("/Task/task1").json()
            assert h.put("/Task/task1", json=dict(t, status="accepted")).status_code == 200
        await p.pull()
        assert store.get_cursor("Task") > store.get_meta("sync.deletes.Communication")
        res = await p.sweep_deletes()
        assert res.deleted == 1 and "th1" in res.thread_ids
        assert store.version_of("Communication", "m1x1") is None
        assert store.thread("th1") is not None


async def test_recreated_after_delete_stays(server, store):
    await _settle()
    async with FhirClient(server.base_url, TOKEN) as client:
        p = Puller(client, store)
        await p.pull()
        with _http(server) as h:
            body = h.get("/Task/task2").json()
            assert h.delete("/Task/task2").status_code == 200
            assert h.put("/Task/task2", json=body).status_code in (200, 201)  # back again
        await p.pull()
        res = await p.sweep_deletes()
        assert res.deleted == 0
        assert store.version_of("Task", "task2") is not None


async def test_deletes_of_resources_never_cached_cost_nothing(server, store):
    await _settle()
    async with FhirClient(server.base_url, TOKEN) as client:
        p = Puller(client, store)
        await p.pull()
        with _http(server) as h:  # created and deleted between two checks
            r = h.post("/Communication", json={
                "resourceType": "Communication", "status": "completed",
                "partOf": [{"reference": "Communication/th4"}],
                "subject": {"reference": "Patient/pat0"},
                "payload": [{"contentString": "oops"}]})
            assert h.delete(f"/Communication/{r.json()['id']}").status_code == 200
        reset_stats(server)
        res = await p.sweep_deletes()
        assert res.deleted == 0 and res.requests == 2  # no thread lookups
        assert plain_rows(store, "SELECT count(*) FROM messages")[0][0] == 80


async def test_server_without_type_history_is_tolerated(server, store):
    async with FhirClient(server.base_url, TOKEN) as client:
        p = Puller(client, store)
        await p.pull()
        real = client.search
        calls: list[str] = []

        async def old_server(rtype, params):  # answers type _history like many servers do
            calls.append(rtype)
            if rtype.endswith("/_history"):
                raise error_for(400, "Type-level _history is not supported")
            return await real(rtype, params)

        client.search = old_server  # type: ignore[method-assign]
        res = await p.sweep_deletes()
        assert res.complete and res.deleted == 0 and p.history_unsupported
        again = await p.sweep_deletes()
        assert again.requests == 0 and calls.count("Communication/_history") == 1
        pulled = await p.pull()  # pulling still works
        assert pulled.complete


async def test_engine_keeps_syncing_when_history_is_missing(server, store):
    async with FhirClient(server.base_url, TOKEN) as client:
        real = client.search

        async def old_server(rtype, params):
            if rtype.endswith("/_history"):
                raise error_for(405, "not supported")
            return await real(rtype, params)

        client.search = old_server  # type: ignore[method-assign]
        engine = SyncEngine(client, store, "Practitioner/pr0", deletes_every=1)
        for _ in range(3):
            s = await engine.sync_once()
            assert s.ok, s.error
        assert engine.puller.history_unsupported and len(store.queue()) == 40
