"""The sync loop: offline detection, automatic drain, server restart mid-sync, status."""

from __future__ import annotations

import asyncio
import threading

from triage_tui.cache.api import OutboxState
from triage_tui.sync.client import FhirClient
from triage_tui.sync.engine import ChangeSet, SyncEngine, SyncStatus
from triage_tui.sync.outbox import queue_reply
from triage_tui.sync.pull import Puller

from .conftest import TOKEN, faults
from .test_outbox import server_copies


async def _until(pred, timeout=15.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.05)


async def test_offline_then_drains_when_server_returns(server, store):
    statuses: list[SyncStatus] = []
    changes: list[ChangeSet] = []
    client = FhirClient(server.base_url, TOKEN, timeout=1.0, max_retries=0)
    engine = SyncEngine(client, store, "Practitioner/pr0", interval=0.2, offline_cap=0.3,
                        on_status=statuses.append, on_changes=changes.append)
    task = asyncio.create_task(engine.run())
    await _until(lambda: store.queue())
    thread = store.thread(store.queue()[0].thread_id)
    # the change set is reported once the page is stored: wait for it, don't race it
    await _until(lambda: thread.id in set().union(*(c.thread_ids for c in changes)))
    await asyncio.to_thread(server.stop)
    item = queue_reply(store, thread=thread, text="Offline reply", sender_ref="Practitioner/pr0",
                       user="nurse1")
    engine.kick()
    await _until(lambda: statuses and not statuses[-1].online)
    assert statuses[-1].outbox.get(OutboxState.QUEUED, 0) + \
        statuses[-1].outbox.get(OutboxState.IN_FLIGHT, 0) == 1
    assert "OFFLINE" in statuses[-1].summary()
    await asyncio.to_thread(server.start)
    await _until(lambda: store.outbox([OutboxState.ACKED]))  # drained by itself
    await _until(lambda: statuses[-1].online and statuses[-1].pending == 0)
    assert statuses[-1].last_sync is not None
    await engine.stop()
    await asyncio.wait_for(task, 5)
    await client.aclose()
    assert len(server_copies(server, item.id)) == 1


async def test_server_restart_mid_pull_loses_nothing(server, store):
    client = FhirClient(server.base_url, TOKEN, timeout=2.0, max_retries=8, backoff_base=0.05,
                        backoff_cap=0.3)
    restarted = threading.Event()
    restarter = threading.Thread(target=server.restart)
    # the next Communication pages are slow: the restart hits a request in flight
    faults(server, mode="slow", delay=0.5, count=2, path_contains="Communication")

    def progress(rtype: str, n: int) -> None:
        if rtype == "Communication" and not restarted.is_set():
            restarted.set()
            restarter.start()

    p = Puller(client, store, page_size=20, on_progress=progress)
    res = await p.pull()
    assert restarted.is_set() and res.complete
    restarter.join(10)
    again = await Puller(client, store).pull()
    assert len(store.queue()) == 40 and again.changed == 0
    await client.aclose()
