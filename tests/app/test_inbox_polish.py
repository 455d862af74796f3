"""Inbox column header (aligned with the rows), sidebar header on the same line, and the thread
screen's context panel reachable from the keyboard at 80x24."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Static

from triage_tui.screens.thread import ThreadScreen
from triage_tui.widgets.category_bar import CategoryBar
from triage_tui.widgets.queue_list import QueueList, column_header


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_column_header_over_the_list(app, size) -> None:
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        inbox = app.screen
        queue = inbox.query_one(QueueList)
        header = inbox.query_one("#columns", Static)
        assert str(header.render()).rstrip() == column_header(queue.columns).rstrip()
        assert "Patient" in str(header.render()) and "Due" in str(header.render())
        assert header.region.y + 1 == queue.region.y  # right above the first row
        if size == (120, 40):
            sidebar = inbox.query_one("#sidebar", CategoryBar)
            assert sidebar.content_region.y == header.region.y  # "open ! ⚑" on that line


async def test_context_panel_full_height_and_scrollable_at_80x24(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ThreadScreen)
        context = screen.query_one("#context", VerticalScroll)
        assert context.region.height <= 8
        await pilot.press("i")  # full height: the conversation makes room, j/k scroll it
        await pilot.pause()
        assert context.region.height > 8
        assert not screen.query_one("#conversation").display
        assert screen._scroller() is context
        await pilot.press("i")  # hidden
        await pilot.pause()
        assert not context.display and screen.query_one("#conversation").display
        await pilot.press("i")  # back to the top panel
        await pilot.pause()
        assert context.display and context.region.height <= 8
