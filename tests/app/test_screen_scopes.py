"""Help, palette and ':' know the commands of the compose, batch review and analytics screens
(one registry: their keys come from it too)."""

from __future__ import annotations

from triage_tui.actions import APP, BATCH, COMPOSE, SUBSCREEN, bindings_for
from triage_tui.app import SCREEN_SCOPES
from triage_tui.screens.analytics import AnalyticsScreen
from triage_tui.screens.batch_review import BatchReviewScreen
from triage_tui.screens.compose import ComposeScreen


def test_subscreens_have_scopes() -> None:
    assert SCREEN_SCOPES[ComposeScreen] == {COMPOSE, APP}
    assert SCREEN_SCOPES[BatchReviewScreen] == {BATCH, APP}
    assert SCREEN_SCOPES[AnalyticsScreen] == {SUBSCREEN, APP}


def test_their_keys_come_from_the_registry() -> None:
    ids = {b.id for b in ComposeScreen.BINDINGS}
    assert ids == {"compose_send", "compose_templates", "compose_toggle_close", "compose_leave"}
    assert {b.id for b in BatchReviewScreen.BINDINGS} == {b.id for b in bindings_for(BATCH)}
    assert {"batch_confirm", "batch_toggle_include", "batch_down"} <= {
        b.id for b in BatchReviewScreen.BINDINGS}


async def test_palette_on_the_compose_screen_offers_its_commands(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("r")  # one thread: the compose screen
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        ids = {c.id for c in app.commands_for_screen(app.screen)}
        assert {"compose_send", "compose_templates", "help", "lock"} <= ids
        assert "claim" not in ids
