"""Claim, release and take-over, on the real encrypted Store: a thread a colleague owns needs a
yes first (n acts on the rest), release gives threads back to their pool, and the owner column
shows colleagues by name."""

from __future__ import annotations

import dataclasses

from app_helpers import USER, make_app
from triage_tui.cache.api import OutboxKind
from triage_tui.domain.models import Practitioner
from triage_tui.screens.dialogs import Confirm
from triage_tui.screens.inbox import InboxScreen
from triage_tui.screens.session import Session, short_name
from triage_tui.widgets.glyphs import UNICODE
from triage_tui.workflows.tasks import change_tasks, owners

COLLEAGUE = Practitioner("nurse2", "1", "Rosa Ibarra")
COLLEAGUE_REF = f"Practitioner/{COLLEAGUE.id}"


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def set_owner(store, tid: str, owner_ref: str | None) -> None:
    """What a sync writes when the server's Task changed owner."""
    task = store.task_for_thread(tid)
    store.upsert([COLLEAGUE, dataclasses.replace(
        task, version=str(int(task.version) + 1), owner_ref=owner_ref)])


def task_items(store) -> list:
    return [i for i in store.outbox() if i.kind is OutboxKind.TASK_UPDATE]


def row_ids(app, *rows: int) -> list[str]:
    return [app.screen.view.thread_id(i) for i in rows]


async def test_claiming_a_colleagues_thread_asks_and_names_them(store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        (tid,) = row_ids(app, 0)
        set_owner(store, tid, COLLEAGUE_REF)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        assert "claimed by Rosa Ibarra. Take over?" in app.screen.question
        await pilot.press("n")  # no: nothing queued, nothing overwritten
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen) and task_items(store) == []
        await pilot.press("c", "y")
        await settle(pilot)
        (item,) = task_items(store)
        assert item.thread_id == tid and item.payload["changes"]["owner_ref"] == USER


async def test_no_to_a_take_over_still_claims_the_free_marked_threads(store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        free = [t for t in app.screen.view.thread_ids(0, len(app.screen.view)) if owners(store, [t])[t] is None][:2]
        taken = free.pop()
        set_owner(store, taken, COLLEAGUE_REF)
        q = app.screen.query_one("#queue")
        for i in range(len(app.screen.view)):
            if app.screen.view.thread_id(i) in (free[0], taken):
                q.move_cursor(i)
                await pilot.press("space")
        assert q.marked_ids == frozenset({free[0], taken})
        await pilot.press("c")
        await settle(pilot)
        assert "1 thread claimed by Rosa Ibarra" in app.screen.question
        assert "(n: only the other 1 thread)" in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert [i.thread_id for i in task_items(store)] == [free[0]]


async def test_release_gives_my_thread_back_and_skips_unowned_ones(store) -> None:
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mine, nobodys = row_ids(app, 0, 1)
        set_owner(store, mine, USER)
        set_owner(store, nobodys, None)
        app.screen.query_one("#queue").move_cursor(1)
        await pilot.press("C")  # nobody owns it: nothing to release
        await settle(pilot)
        assert task_items(store) == []
        app.screen.query_one("#queue").move_cursor(0)
        await pilot.press("C")
        await settle(pilot)
        (item,) = task_items(store)
        assert item.thread_id == mine
        assert item.payload["changes"]["owner_ref"] is None
        assert item.payload["changes"]["business_status"] == "unassigned"


def test_owners_include_my_unsent_changes(store) -> None:
    tid = next(t.thread_id for t in store.queue() if t.owner_ref is None)
    assert owners(store, [tid]) == {tid: None}
    change_tasks(store, [tid], "claim", user_ref=USER)  # queued, not yet on the server
    assert owners(store, [tid]) == {tid: USER}
    change_tasks(store, [tid], "release", user_ref=USER)
    assert owners(store, [tid]) == {tid: None}
    assert owners(store, ["no-such-thread"]) == {}


def test_owner_column_names_colleagues(store) -> None:
    store.upsert([COLLEAGUE])
    s = Session(store, USER, "Nurse Lee", UNICODE)
    assert s.owner_label(USER) == "me"
    assert s.owner_label(COLLEAGUE_REF) == "R. Ibarra"
    assert s.owner_label(None) == ""
    assert s.owner_label("Practitioner/unknown") == "unknown"  # not synced yet: its id
    assert short_name("Dr. Ana Kidd") == "Dr Kidd" and short_name("Lee") == "Lee"
