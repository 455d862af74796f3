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
