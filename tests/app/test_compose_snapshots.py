"""Snapshots of the compose screen, the template picker and the batch review, at 80x24 and
120x40, on the real Store filled from the reference server (synthetic refill practice).

Update with ``pytest tests/app/test_compose_snapshots.py --snapshot-update`` and look at every
changed SVG before accepting it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from app_store_data import NOW
from app_helpers import USER, make_app

from triage_tui.cache import open_store
from triage_tui.domain.templates import Practice
from triage_tui.server.runner import ServerThread
from triage_tui.sync import FhirClient
from triage_tui.sync.pull import Puller

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "templates"))
from refill_practice import refill_practice  # noqa: E402

SIZES = [(80, 24), (120, 40)]
PRACTICE = Practice("Dr. Okafor", "Elm Street Clinic", "555-0100", "America/New_York")


@pytest.fixture
def store(tmp_path):
    resources, _ = refill_practice(6, 1, now=NOW)
    with ServerThread(tmp_path / "srv.db", "t") as srv:
        srv.storage.bulk_load(resources, validate_each=True)
        st = open_store(srv.base_url, USER, passphrase="pw", data_dir=tmp_path / "data",
                        keyring_ok=False)

        async def pull() -> None:
            async with FhirClient(srv.base_url, "t") as c:
                await Puller(c, st).pull()
        asyncio.run(pull())
    yield st
    st.close()


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def snap(snap_compare, store, size, *keys: str) -> bool:
    app = make_app(store)
    app.practice = PRACTICE

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await pilot.pause(1.0)  # past the draft-save debounce: nothing changes after this
        # Text cursors come back after a modal closes at a time that varies from run to run:
        # take focus away so that no cursor is drawn (the screens' content is what is checked).
        pilot.app.screen.set_focus(None)
        await settle(pilot)

    return snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_compose_with_template(snap_compare, store, size) -> None:
    assert snap(snap_compare, store, size, "2", "r", "ctrl+t", *"sent", "enter")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_compose_blocked_by_blank(snap_compare, store, size) -> None:
    assert snap(snap_compare, store, size, "2", "r", "ctrl+t", *"denied", "enter")


def test_template_picker(snap_compare, store) -> None:
    assert snap(snap_compare, store, (80, 24), "2", "asterisk", "a", *"res")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_batch_review(snap_compare, store, size) -> None:
    assert snap(snap_compare, store, size, "2", "asterisk", "a", *"sent pharm", "enter")
