"""Snapshots of every screen at 80x24 and 120x40, and one in the 16-colour setup.

Deterministic: the real Store (tmp_path) holding a synthetic practice with fixed dates, a fixed
clock, no animations or blinking cursors.
Update with ``pytest tests/app --snapshot-update`` and look at every changed SVG.
"""

from __future__ import annotations

import pytest
from app_helpers import deterministic_config, make_app

from triage_tui.cache.errors import NeedsPassphrase

SIZES = [(80, 24), (120, 40)]


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def snap(snap_compare, app, size, *keys: str) -> bool:
    """Compare, and fail if the app died first (Textual then screenshots an empty screen)."""
    reached: list[str] = []

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        reached.append(type(pilot.app.screen).__name__)

    result = snap_compare(app, terminal_size=size, run_before=run_before)
    assert reached and app.return_code in (None, 0), "the app stopped before the screenshot"
    return result


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_unlock(snap_compare, size, tmp_path) -> None:
    def opener(pw):
        raise NeedsPassphrase(tmp_path / "cache.db", creating=False)

    assert snap(snap_compare, make_app(opener=opener), size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_inbox_with_marks(snap_compare, store, size) -> None:
    assert snap(snap_compare, make_app(store), size, "j", "space", "space", "j")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_thread(snap_compare, store, size) -> None:
    # The first clinical thread (the cache's rules rank it STAT); urgent terms highlighted.
    assert snap(snap_compare, make_app(store), size, "5", "enter")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, store, size) -> None:
    assert snap(snap_compare, make_app(store), size, "question_mark")


def test_command_line(snap_compare, store) -> None:
    assert snap(snap_compare, make_app(store), (80, 24), "colon", "c", "l")


def test_route_picker(snap_compare, store) -> None:
    assert snap(snap_compare, make_app(store), (80, 24), "space", "space", "p")


def test_sixteen_colours_high_contrast_ascii(snap_compare, store) -> None:
    """The thin-client setup: high-contrast theme (pure 16-colour palette), ASCII glyphs."""
    config = deterministic_config(theme="triage-contrast", ascii_glyphs=True)
    assert snap(snap_compare, make_app(store, config=config), (80, 24), "j", "space")


def test_light_theme(snap_compare, store) -> None:
    config = deterministic_config(theme="triage-light")
    assert snap(snap_compare, make_app(store, config=config), (120, 40), "j")
