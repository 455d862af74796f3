"""Claim/route/close show at once (pending) and the server's truth wins on a conflict.

The conflict test uses the real reference FHIR server and two real encrypted caches: another
nurse claims a thread and it reaches the server; we claim the same thread from the app (our
cache still has the version we saw). The push meets their change, nothing is overwritten, the
row shows who owns it now and a notification names them.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from app_helpers import USER, make_app
from triage_tui.cache import open_store
from triage_tui.cache.api import OutboxState
from triage_tui.screens.inbox import InboxScreen
from triage_tui.screens.messages import TaskConflict
from triage_tui.sync import FhirClient, SyncEngine
from triage_tui.sync.pull import Puller
from triage_tui.widgets.queue_list import QueueList
from triage_tui.workflows.tasks import change_tasks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "templates"))
from refill_practice import refill_practice  # noqa: E402

OTHER_ID = "nurse2"
OTHER = f"Practitioner/{OTHER_ID}"
OTHER_PRACTITIONER = {"resourceType": "Practitioner", "id": OTHER_ID, "active": True,
                      "name": [{"family": "Diaz", "given": ["Rosa"]}]}


async def settle(pilot) -> None:
    await pilot.pause()
    for _ in range(200):
        if not [w for w in pilot.app.workers if w.group != "sync" and w.is_running]:
            break
        await pilot.pause(0.02)
    await pilot.pause()


async def wait_for(pilot, cond, timeout=15.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "timed out"
        await pilot.pause(0.05)


# --- pending: no server, the store fixture (synthetic practice) ------------------------------


async def test_claim_route_close_show_at_once_marked_pending(app, store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        queue = inbox.query_one(QueueList)
        first = queue.cursor_thread_id
        before = inbox.view.get(first)
        assert before.owner_ref != USER and not before.pending
        await pilot.press("c")
        await settle(pilot)
        row = inbox.view.get(first)
        assert row.owner_ref == USER and row.business_status == "claimed" and row.pending
        line = "".join(s.text for s in queue.render_line(0))
        assert f"…{row.pool}" in line  # the pending glyph, not only a colour
        # the queue read again from the cache keeps showing it (the outbox is the overlay)
        app.reload_queue()
        await settle(pilot)
        assert inbox.view.get(first).pending and inbox.view.get(first).owner_ref == USER
        # close: the row leaves the open queue at once
        open_before = len(inbox.view)
        await pilot.press("x")
        await settle(pilot)
        assert inbox.view.get(first).business_status == "done"
        assert first not in inbox.view.thread_ids(0, len(inbox.view))
        assert len(inbox.view) == open_before - 1
        # the server acked: the overlay goes, the cache's row (server truth) shows
        for item in store.outbox():
            item.state = OutboxState.ACKED
            store.update_outbox(item)
        app.reload_queue()
        await settle(pilot)
        assert not inbox.view.get(first).pending


# --- conflict: the real server, two users ----------------------------------------------------


async def test_two_users_claim_the_same_thread_second_sees_who(tmp_path, fhir_server) -> None:
    resources, _ = refill_practice(6, 0)
    fhir_server.storage.bulk_load([*resources, OTHER_PRACTITIONER], validate_each=True)
    mine = open_store(fhir_server.base_url, USER, passphrase="pw", data_dir=tmp_path / "me",
                      keyring_ok=False)
    theirs = open_store(fhir_server.base_url, OTHER, passphrase="pw",
                        data_dir=tmp_path / "them", keyring_ok=False)
    try:
        for st in (mine, theirs):
            async with FhirClient(fhir_server.base_url, fhir_server.token) as c:
                await Puller(c, st).pull()

        def engine(store, **callbacks):
            client = FhirClient(fhir_server.base_url, fhir_server.token, backoff_base=0.01,
                                backoff_cap=0.05)
            return SyncEngine(client, store, USER, interval=60, **callbacks)  # no pull between

        app = make_app(mine, sync_factory=engine)
        conflicts: list[TaskConflict] = []
        notes: list[tuple[str, dict]] = []
        notify = app.notify
        app.notify = lambda msg, **kw: (notes.append((msg, kw)), notify(msg, **kw))[1]

        def hook(message) -> None:
            if isinstance(message, TaskConflict):
                conflicts.append(message)

        async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
            await settle(pilot)
            await wait_for(pilot, lambda: app.sync_state.last_sync is not None)
            inbox = app.screen
            tid = inbox.query_one(QueueList).cursor_thread_id
            assert inbox.view.get(tid).owner_ref is None

            # Rosa claims it first, and her claim reaches the server.
            change_tasks(theirs, [tid], "claim", user_ref=OTHER)
            async with FhirClient(fhir_server.base_url, fhir_server.token) as c:
                summary = await SyncEngine(c, theirs, OTHER).sync_once(pull=False)
            assert summary.pushed == 1

            # We claim the same thread, from the version we saw.
            await pilot.press("c")
            await wait_for(pilot, lambda: conflicts)
            await settle(pilot)
            assert conflicts[0].thread_id == tid and "Rosa Diaz" in conflicts[0].message
            await wait_for(pilot, lambda: inbox.view.get(tid).owner_ref == OTHER)
            row = inbox.view.get(tid)
            assert not row.pending and row.business_status == "claimed"
            shown = [m for m, kw in notes if kw.get("severity") == "error"]
            assert any("Rosa Diaz" in m and "not sent" in m for m in shown), notes
            assert mine.outbox_counts().get(OutboxState.NEEDS_REVIEW) == 1
            assert app.sync_state.failed == 1
        stored = fhir_server.storage.read("Task", mine.task_for_thread(tid).id)
        assert json.loads(stored.body)["owner"]["reference"] == OTHER  # nothing overwritten
    finally:
        mine.close()
        theirs.close()
