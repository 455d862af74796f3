"""Pull into the real encrypted Store (SQLite file in tmp_path)."""

from __future__ import annotations

from triage_tui.sync.client import FhirClient
from triage_tui.sync.pull import DEFAULT_TYPES, Puller

from .conftest import TOKEN, open_cache, reset_stats, stats


async def test_pull_synth_practice_into_store(synth_server, tmp_path):
    store = open_cache(synth_server, tmp_path)
    async with FhirClient(synth_server.base_url, TOKEN) as client:
        res = await Puller(client, store).pull()
        assert res.skipped == 0, res
        rows = store.queue()
        assert len(rows) == 40
        assert all(r.task_id for r in rows)
        assert sum(r.message_count for r in rows) > 40
        assert all(store.patient(r.patient_id) is not None for r in rows)
        reset_stats(synth_server)
        again = await Puller(client, store).pull()
        assert again.changed == 0
        assert stats(synth_server)["total"] == len(DEFAULT_TYPES)
    store.close()


async def test_pull_into_store_is_idempotent_and_resumable(server, store, client):
    p = Puller(client, store)
    first = await p.pull()
    assert first.changed > 0
    second = await Puller(client, store).pull()
    assert second.changed == 0
    assert len(store.queue()) == 40


async def test_entered_in_error_malformed_and_flat(server, store, client):
    import httpx

    await Puller(client, store).pull()
    thread_id = "th0"
    assert any(m.id == "m0x1" for m in store.messages(thread_id))
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as h:
        m = h.get(f"{server.base_url}/Communication/m0x1").json()
        m["status"] = "entered-in-error"
        m.pop("meta")
        h.put(f"{server.base_url}/Communication/m0x1", json=m).raise_for_status()
    # a broken Task (no focus) and a flat conversation (no header, chained by inResponseTo)
    server.storage.bulk_load([
        {"resourceType": "Task", "id": "broken", "status": "requested", "intent": "order"},
        {"resourceType": "Communication", "id": "flat1", "status": "completed",
         "subject": {"reference": "Patient/pat1"}, "sender": {"reference": "Patient/pat1"},
         "payload": [{"contentString": "flat question"}]},
        {"resourceType": "Communication", "id": "flat2", "status": "completed",
         "subject": {"reference": "Patient/pat1"}, "sender": {"reference": "Practitioner/pr0"},
         "inResponseTo": [{"reference": "Communication/flat1"}],
         "payload": [{"contentString": "flat answer"}]},
        {"resourceType": "Communication", "id": "flat3", "status": "completed",
         "subject": {"reference": "Patient/pat1"}, "sender": {"reference": "Patient/pat1"},
         "inResponseTo": [{"reference": "Communication/flat2"}],
         "payload": [{"contentString": "thanks"}]},
    ])
    res = await Puller(client, store).pull()
    assert res.skipped == 1 and res.deleted == 1
    assert not any(m.id == "m0x1" for m in store.messages(thread_id))
    flat = store.thread("flat1")
    assert flat is not None and not flat.has_header
    assert [m.id for m in store.messages("flat1")] == ["flat1", "flat2", "flat3"]
    assert "th0" in res.thread_ids and "flat1" in res.thread_ids


async def test_flat_threads_are_stored_with_their_page(server, store, client):
    """Flat messages' threads (the inResponseTo chain's first message) are remembered in the
    page's own transaction, not in a durable commit per message (a flat practice's first sync
    would wait for one disk flush per message), and a reply pulled later, by a new process,
    still finds its thread."""
    await Puller(client, store).pull()

    def flat(i: int) -> dict:
        res = {"resourceType": "Communication", "id": f"flat{i}", "status": "completed",
               "subject": {"reference": "Patient/pat1"},
               "sender": {"reference": "Patient/pat1" if i % 2 else "Practitioner/pr0"},
               "payload": [{"contentString": f"flat message {i}"}]}
        if i:
            res["inResponseTo"] = [{"reference": f"Communication/flat{i - 1}"}]
        return res

    server.storage.bulk_load([flat(i) for i in range(60)])
    writes = store._writes
    res = await Puller(client, store).pull()
    assert res.changed >= 60
    assert store._writes - writes < 20  # pages, cursors, rules: not a commit per message
    assert [m.id for m in store.messages("flat0")] == [f"flat{i}" for i in range(60)]
    server.storage.bulk_load([flat(60)])
    await Puller(client, store).pull()  # a new pass: only the cache knows flat59's thread
    assert store.messages("flat0")[-1].id == "flat60"
    assert store.thread("flat60") is None


async def test_role_pools_reach_practitioners_in_the_page_commit(server, store, client):
    """A PractitionerRole's pool goes to its practitioner, stored with the page of roles (not
    a durable commit per role); a practitioner first pulled after its role gets the pool from
    what the pull remembered."""
    from triage_tui.domain.codes import POOL_SYSTEM, Pool

    await Puller(client, store).pull()
    assert all(store.practitioner(f"pr{i}").pool is Pool.NURSING for i in range(3))
    server.storage.bulk_load(
        [{"resourceType": "PractitionerRole", "id": f"role-x{i}",
          "practitioner": {"reference": f"Practitioner/prx{i}"},
          "code": [{"coding": [{"system": POOL_SYSTEM, "code": "pharmacy"}]}]}
         for i in range(30)])
    writes = store._writes
    await Puller(client, store).pull()  # roles of practitioners not pulled yet
    assert store._writes - writes < 10
    server.storage.bulk_load([{"resourceType": "Practitioner", "id": f"prx{i}",
                               "name": [{"family": "Example"}]} for i in range(30)])
    await Puller(client, store).pull()
    assert all(store.practitioner(f"prx{i}").pool is Pool.PHARMACY for i in range(30))
