"""The analytics screen: Pilot checks of state, and snapshots at 120x40 and 80x24.

Update snapshots with ``pytest tests/analytics --snapshot-update`` and look at every SVG.
"""

from __future__ import annotations

import pytest
from analytics_app import AnalyticsApp
from textual.widgets import DataTable, Tabs

from triage_tui.screens.analytics import AnalyticsScreen

SIZES = [(120, 40), (80, 24)]


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_loads_and_switches_range():
    app = AnalyticsApp(days=7)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AnalyticsScreen)
        assert screen.report is not None and len(screen.report.days) == 7
        assert screen.report.staff_name("Practitioner/a") == "Alex Rivera"
        assert app.focused is screen.query_one("#range", Tabs)
        await pilot.press("right")  # 30 days
        await settle(pilot)
        assert screen.days == 30 and len(screen.report.days) == 30
        assert sum(screen.report.volume.total) == 13
        await pilot.press("right")
        await settle(pilot)
        assert screen.days == 90


async def test_table_has_the_report_rows():
    from triage_tui.domain.analytics import report_rows

    app = AnalyticsApp(days=7)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#table", DataTable)
        assert table.row_count == len(report_rows(screen.report))
        first = table.get_row_at(0)
        assert first[:3] == ["Threads arrived", "category", "admin"]


async def test_back_dismisses():
    app = AnalyticsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, AnalyticsScreen)


async def test_error_is_shown_not_raised():
    from triage_tui.cache.errors import CacheLocked

    def locked(store, since):
        raise CacheLocked()

    app = AnalyticsApp(loader=locked)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        msg = str(app.screen.query_one("#message").render())
        assert "locked" in msg.lower()


def snap(snap_compare, app, size, *keys: str) -> bool:
    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_charts(snap_compare, size):
    assert snap(snap_compare, AnalyticsApp(days=7), size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_table(snap_compare, size):
    # tab: from the range tabs to the view tabs; right: the Table view
    assert snap(snap_compare, AnalyticsApp(days=7), size, "tab", "right")


def test_snapshot_sixteen_colours_ascii(snap_compare):
    app = AnalyticsApp(days=30, ascii_only=True, theme="triage-contrast")
    assert snap(snap_compare, app, (80, 24))


def _real_app(tmp_path, request):
    """The real app on the real Store (the app tests' synthetic practice in tmp_path)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
    try:
        import app_store_data
    finally:
        sys.path.pop(0)
    from triage_tui.app import TriageApp
    from triage_tui.config import Config

    store = app_store_data.open_practice_store(tmp_path / "cache")
    request.addfinalizer(store.close)
    app = TriageApp(Config(animations=False, idle_lock_minutes=0), store=store,
                    user_ref="Practitioner/nurse1", clock=lambda: app_store_data.NOW)
    return app, app_store_data


async def test_opened_from_the_app_with_f6(tmp_path, request):
    """The registry command opens the screen in the real app, on the real Store (the app
    tests' synthetic practice in tmp_path; fast KDF from conftest) read through its file."""
    app, _ = _real_app(tmp_path, request)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AnalyticsScreen)
        assert screen.report is not None
        assert sum(screen.report.volume.total) > 0
        await pilot.press("f6")  # already there: no second screen
        await settle(pilot)
        assert sum(isinstance(s, AnalyticsScreen) for s in app.screen_stack) == 1
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, AnalyticsScreen)


async def test_figures_follow_a_sync_while_open(tmp_path, request):
    """A thread a sync brings in while the screen is open is counted at the next refresh."""
    from triage_tui.domain.codes import Category
    from triage_tui.screens.messages import ThreadsChanged

    app, data = _real_app(tmp_path, request)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        before = sum(screen.report.volume.total)
        screen._refresh_if_stale()  # nothing changed: nothing read
        await settle(pilot)
        assert not screen.stale
        tid = data.add_thread(app.session.store, 900, Category.CLINICAL, minutes_ago=5)
        app.post_message(ThreadsChanged(frozenset({tid})))  # what the sync engine posts
        await settle(pilot)
        assert screen.stale
        screen._refresh_if_stale()  # the interval timer's call
        await settle(pilot)
        assert not screen.stale and sum(screen.report.volume.total) == before + 1
