"""A tiny app around the analytics screen, on the hand-built practice (deterministic)."""

from __future__ import annotations

from analytics_dataset import NOW, RULES, STAFF, facts
from textual.app import App

from triage_tui.screens.analytics import AnalyticsScreen
from triage_tui.screens.session import Session
from triage_tui.widgets.glyphs import glyphs


class StaffOnlyStore:
    """Only what the screen asks of the cache besides the facts: staff names."""

    locked = False

    def __init__(self) -> None:
        self.by_id = {p.id: p for p in STAFF}

    def practitioner(self, pid: str):
        return self.by_id.get(pid)


class AnalyticsApp(App[None]):
    def __init__(self, *, ascii_only: bool = False, theme: str | None = None, days: int = 7,
                 loader=None) -> None:
        super().__init__()
        self.animation_level = "none"
        self.session = Session(StaffOnlyStore(), "Practitioner/a", "Alex Rivera",
                               glyphs(ascii_only), lambda: NOW)
        self.days = days
        self.loader = loader or (lambda store, since: facts())
        if theme:
            from triage_tui.themes import builtin_themes

            for t in builtin_themes():
                self.register_theme(t)
            self.theme = theme

    def on_mount(self) -> None:
        self.push_screen(AnalyticsScreen(self.session, rules=RULES, days=self.days,
                                         loader=self.loader))
