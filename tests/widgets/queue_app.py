"""A tiny app mounting QueueList over synthetic rows, for Pilot and snapshot tests."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding

from triage_tui.domain.queue_view import QueueView
from triage_tui.widgets.queue_list import UNICODE_GLYPHS, Glyphs, QueueList
from widgets.queue_synth import NOW, Provider, make_rows


class QueueApp(App):
    # What the app's command table will do: bind mail-client keys to the widget's actions.
    BINDINGS = [
        Binding("j", "focused.cursor_down"),
        Binding("k", "focused.cursor_up"),
        Binding("space", "focused.toggle_mark_and_next"),
        Binding("a", "focused.mark_all_in_view"),
        Binding("c", "focused.clear_marks"),
    ]

    def __init__(self, n: int = 60, *, glyphs: Glyphs = UNICODE_GLYPHS, rows=None,
                 view: QueueView | None = None, user_ref: str | None = "Practitioner/2"):
        super().__init__()
        self.provider = Provider()
        self.view = view if view is not None else QueueView(rows if rows is not None else make_rows(n),
                                      clock=lambda: NOW)
        self.glyphs = glyphs
        self.user_ref = user_ref
        self.messages: list = []

    def compose(self) -> ComposeResult:
        yield QueueList(self.view, display_provider=self.provider, clock=lambda: NOW,
                        user_ref=self.user_ref, glyphs=self.glyphs, tick=None, id="queue")

    def on_mount(self) -> None:
        self.query_one(QueueList).focus()

    def on_queue_list_highlighted(self, m: QueueList.Highlighted) -> None:
        self.messages.append(m)

    def on_queue_list_selected(self, m: QueueList.Selected) -> None:
        self.messages.append(m)

    def on_queue_list_marks_changed(self, m: QueueList.MarksChanged) -> None:
        self.messages.append(m)


if __name__ == "__main__":
    QueueApp(200).run()
