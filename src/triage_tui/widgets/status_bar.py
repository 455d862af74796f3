"""One line at the bottom: online/offline, time since the last sync, outbox, signed-in user."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from triage_tui.screens.messages import SyncState
from triage_tui.widgets.glyphs import Glyphs


def ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    s = max(0, int((now - then).total_seconds()))
    if s < 60:
        return f"{s}s ago"
    if s < 3600:
        return f"{s // 60}m ago"
    if s < 86400:
        return f"{s // 3600}h ago"
    return f"{s // 86400}d ago"


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    state: reactive[SyncState] = reactive(SyncState, always_update=True)
    marked: reactive[int] = reactive(0)

    def __init__(self, user_label: str, glyphs: Glyphs, clock: Callable[[], datetime],
                 state: SyncState | None = None, **kw) -> None:
        super().__init__(**kw)
        if state is not None:
            self.set_reactive(StatusBar.state, state)
        self.user_label = user_label
        self.glyphs = glyphs
        self.clock = clock

    def on_mount(self) -> None:
        self.set_interval(5, self.refresh)

    def render(self) -> Text:
        st, g = self.state, self.glyphs
        t = Text(no_wrap=True, overflow="ellipsis")
        if st.online is None:
            t.append(f"{g.offline} {st.detail or 'connecting'}", style="dim")
        elif st.online:
            t.append(f"{g.online} online", style="bold")
        else:
            t.append(f"{g.offline} OFFLINE", style="bold reverse")
        t.append(f" {g.separator} synced {ago(st.last_sync, self.clock())}")
        t.append(f" {g.separator} outbox {st.queued}")
        if st.failed:
            t.append(f" {g.separator} ")
            t.append(f"{g.urgent} {st.failed} need review", style="bold reverse")
        if self.marked:
            t.append(f" {g.separator} {g.marked} {self.marked} marked", style="bold")
        if st.detail and st.online is not None:
            t.append(f" {g.separator} {st.detail}", style="dim")
        right = Text(f" {self.user_label}", style="bold")
        pad = self.size.width - 2 - t.cell_len - right.cell_len
        if pad > 0:
            t.append(" " * pad)
            t.append_text(right)
        return t
