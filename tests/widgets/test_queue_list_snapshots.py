"""Snapshots of the inbox list at the two reference terminal sizes (STYLE.md point 8)."""

from __future__ import annotations

from widgets.queue_app import QueueApp

from triage_tui.domain.queue_view import QueueFilter
from triage_tui.widgets.queue_list import ASCII_GLYPHS, QueueList


async def _scenario(pilot) -> None:
    """Cursor on the 4th row, two rows marked, closed threads shown."""
    app = pilot.app
    app.view.set_filter(QueueFilter(open_only=False))
    app.query_one(QueueList).refresh_rows()
    await pilot.press("space", "j", "space", "j")
    await pilot.pause()


def test_queue_list_80x24(snap_compare):
    assert snap_compare(QueueApp(80), run_before=_scenario, terminal_size=(80, 24))


def test_queue_list_120x40(snap_compare):
    assert snap_compare(QueueApp(80), run_before=_scenario, terminal_size=(120, 40))


def test_queue_list_ascii_glyphs_80x24(snap_compare):
    assert snap_compare(QueueApp(80, glyphs=ASCII_GLYPHS), run_before=_scenario,
                        terminal_size=(80, 24))
