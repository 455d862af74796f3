"""Pilot tests of the app's flows, on the real encrypted Store in tmp_path (state and queued
items)."""

from __future__ import annotations

import io

from app_store_data import NOW, add_patient_message, add_thread, audit_rows
from app_helpers import USER, make_app, deterministic_config
from rich.console import Console
from textual.widgets import Input, Static

from triage_tui.actions import COMMANDS
from triage_tui.cache.api import OutboxKind
from triage_tui.cache.errors import NeedsPassphrase, WrongPassphrase
from triage_tui.domain.codes import Category
from triage_tui.screens.command_line import CommandLine
from triage_tui.screens.help import HelpScreen
from triage_tui.screens.inbox import InboxScreen
from triage_tui.screens.messages import ThreadsChanged
from triage_tui.screens.palette import RegistryCommands
from triage_tui.screens.thread import ThreadScreen
from triage_tui.screens.unlock import UnlockScreen
from triage_tui.widgets.queue_list import QueueList


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def queue(app) -> QueueList:
    return app.screen.query_one(QueueList)


async def test_unlock_wrong_passphrase_then_right(tmp_path, store) -> None:
    tried: list[str | None] = []

    def opener(pw):
        tried.append(pw)
        if pw is None:
            raise NeedsPassphrase(tmp_path / "c.db", creating=False)
        if pw != "correct horse":
            raise WrongPassphrase(tmp_path / "c.db")
        return store

    app = make_app(opener=opener)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert not app.screen.query(QueueList)  # no PHI before unlock
        await pilot.press(*"wrong", "enter")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert "Wrong passphrase" in str(app.screen.query_one("#error").render())
        assert app.screen.query_one("#passphrase", Input).value == ""
        await pilot.press(*"correct horse", "enter")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert tried == [None, "wrong", "correct horse"]
        assert app.session.store is store


async def test_navigate_open_and_back(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        q = queue(app)
        first = q.cursor_thread_id
        await pilot.press("j", "j", "down", "k")
        assert q.cursor == 2
        tid = q.cursor_thread_id
        assert tid != first
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ThreadScreen) and app.screen.thread_id == tid
        assert ("view", USER, f"Communication/{tid}") in audit_rows(app.session.store)
        await pilot.press("J")
        assert app.screen.thread_id == app.screen_stack[-2].view.thread_id(3)
        await pilot.press("q")
        assert isinstance(app.screen, InboxScreen)
        assert queue(app).cursor_thread_id == tid  # back where we were


async def test_category_keys_filter_and_count(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        view = app.screen.view
        assert view.filter.scope == "refill"
        assert {view.row(i).category for i in range(len(view))} == {"refill"}
        await pilot.press("7")
        assert all(view.row(i).owner_ref == USER for i in range(len(view)))
        await pilot.press("1")
        assert view.filter.scope == "all"


async def test_mark_several_and_claim_them(app, store) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        q = queue(app)
        ids = [app.screen.view.thread_id(i) for i in (0, 2, 3)]
        await pilot.press("space", "j", "space", "space")
        assert q.marked_ids == frozenset(ids)
        assert app.screen.query_one("#status").marked == 3
        await pilot.press("c")
        await settle(pilot)
        claims = [i for i in store.outbox() if i.kind is OutboxKind.TASK_UPDATE]
        assert sorted(i.thread_id for i in claims) == sorted(ids)
        assert all(i.payload["changes"]["owner_ref"] == USER for i in claims)
        assert all(i.if_match == "1" for i in claims)
        assert q.marked_ids == frozenset()  # acted on: marks cleared
        assert app.sync_state.queued == 3


async def test_mark_all_clear_and_close_with_confirmation(app, store) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3", "asterisk")
        n = len(app.screen.view)
        assert len(queue(app).marked_ids) == n > 1
        await pilot.press("u")
        assert not queue(app).marked_ids
        await pilot.press("t", "x")
        await pilot.press("n")  # no: nothing queued
        await settle(pilot)
        assert store.outbox() == []
        await pilot.press("x", "y")
        await settle(pilot)
        assert len(store.outbox()) == n
        assert {i.payload["changes"]["business_status"] for i in store.outbox()} == {"done"}


async def test_route_marked_to_a_pool(app, store) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "p", "1")
        await settle(pilot)
        assert [i.payload["changes"]["pool"] for i in store.outbox()] == ["pharmacy", "pharmacy"]


async def test_reply_to_marked_threads(app, store) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "r")
        await pilot.press(*"Your refill was sent.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        replies = [i for i in store.outbox() if i.kind is OutboxKind.REPLY]
        assert len(replies) == 2
        assert {r.payload["payload"][0]["contentString"] for r in replies} == {
            "Your refill was sent."}
        assert all(r.payload["sender"]["reference"] == USER for r in replies)


async def test_leaving_the_composer_keeps_a_draft(app, store) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tid = queue(app).cursor_thread_id
        await pilot.press("r", *"half written", "escape")
        await settle(pilot)
        assert store.outbox() == []
        assert store.draft(tid).text == "half written"


async def test_live_update_keeps_cursor_and_marks(app, store) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j", "space", "j", "j")
        q = queue(app)
        cursor, marks = q.cursor_thread_id, q.marked_ids
        # A new urgent message sorts above the cursor; a remote change alters another row.
        new = add_thread(store, 900, Category.CLINICAL, text="Chest pain right now", minutes_ago=1)
        add_patient_message(store, "t0005", "any news?", at=NOW)
        app.post_message(ThreadsChanged(frozenset({new, "t0005"})))
        await settle(pilot)
        assert app.screen.view.get(new) is not None
        assert q.cursor_thread_id == cursor
        assert q.marked_ids == marks


async def test_search_filters_as_you_type(app, store) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"potassium")
        await settle(pilot)
        view = app.screen.view
        assert len(view) == len(store.search("potassium")) > 0
        await pilot.press("enter")  # keep the filter, back to the list
        assert isinstance(app.focused, QueueList)
        await pilot.press("escape")
        await settle(pilot)
        assert view.filter.search_ids is None


async def test_help_lists_every_command_with_its_keys(store) -> None:
    app = make_app(store, config=deterministic_config(keymap={"close": "d"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = {cid: keys for keys, cid, _, _ in app.screen.rows()}
        assert set(rows) == {c.id for c in COMMANDS}
        assert rows["close"] == "d" and rows["reply"] == "r"
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#help-table", Static).content)
        shown = console.export_text()
        assert all(c.id in shown for c in COMMANDS)
        await pilot.press("q")
        assert isinstance(app.screen, InboxScreen)


async def test_command_line_completes_and_runs(app, store) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        assert isinstance(app.screen, CommandLine)
        await pilot.press(*"esc", "tab")
        assert app.screen.query_one(Input).value == ":escalate"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert [i.payload["changes"]["business_status"] for i in store.outbox()] == ["escalated"]


async def test_command_line_refuses_unknown_and_ambiguous(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"show", "enter")
        assert isinstance(app.screen, CommandLine)
        assert "ambiguous" in str(app.screen.query_one("#hint").render())
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, InboxScreen)


async def test_palette_offers_the_registry_commands(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        provider = RegistryCommands(app.screen)
        hits = [h async for h in provider.discover()]
        texts = {h.text for h in hits}
        assert "Claim (c)" in texts and "Help (? f1)" in texts
        assert not any("Scroll" in t for t in texts)  # thread-only commands stay out
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CommandPalette"


async def test_keymap_override_from_config(store) -> None:
    app = make_app(store, config=deterministic_config(keymap={"close": "d", "cursor_down": "n"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("x")  # the old key does nothing now
        await settle(pilot)
        assert store.outbox() == []
        await pilot.press("n")
        assert queue(app).cursor == 1
        await pilot.press("d")
        await settle(pilot)
        assert len(store.outbox()) == 1


async def test_every_command_has_an_action_where_it_applies(app) -> None:
    from triage_tui.actions import APP, BATCH, COMPOSE, INBOX, SUBSCREEN, THREAD
    from triage_tui.screens.analytics import AnalyticsScreen
    from triage_tui.screens.batch_review import BatchReviewScreen
    from triage_tui.screens.compose import ComposeScreen

    owners = {APP: [type(app)], INBOX: [InboxScreen], THREAD: [ThreadScreen],
              SUBSCREEN: [ThreadScreen, HelpScreen, AnalyticsScreen],
              COMPOSE: [ComposeScreen], BATCH: [BatchReviewScreen]}
    for c in COMMANDS:
        name = c.action_name.split("(")[0]
        for scope in c.scopes:
            for cls in owners[scope]:
                assert hasattr(cls, f"action_{name}"), (c.id, cls.__name__)


async def test_command_line_arguments_complete_and_run(app, store) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        inbox = app.screen
        await pilot.press("colon", *"ro", "tab")
        line = app.screen.query_one(Input)
        assert line.value == ":route "  # the command takes an argument: a space, values hinted
        assert "pharmacy" in str(app.screen.query_one("#hint").render())
        await pilot.press(*"ph", "tab")
        assert line.value == ":route pharmacy"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is inbox
        assert [i.payload["changes"]["pool"] for i in store.outbox()] == ["pharmacy"]

        await pilot.press("colon", *"route nowhere", "enter")  # a value outside the choices
        assert isinstance(app.screen, CommandLine)
        assert "no pool 'nowhere'" in str(app.screen.query_one("#hint").render())
        await pilot.press("ctrl+g")

        await pilot.press("colon", *"cat re", "tab")
        assert app.screen.query_one(Input).value == ":category re"  # refill / results
        await pilot.press(*"f", "tab", "enter")
        await settle(pilot)
        assert inbox.view.filter.scope == "refill"

        await pilot.press("colon", *"theme triage-l", "tab", "enter")
        await settle(pilot)
        assert app.theme == "triage-light"

        await pilot.press("colon", *"search chest pain", "enter")
        await settle(pilot)
        assert inbox.query_one("#search", Input).value == "chest pain"
        assert inbox.view.filter.search_ids is not None
