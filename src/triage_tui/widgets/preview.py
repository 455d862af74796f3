"""Preview of the highlighted thread in the inbox: who, what, and the last messages."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from triage_tui.screens.session import Session
from triage_tui.widgets.conversation import conversation, sender_namer
from triage_tui.widgets.text import patient_text

LAST_MESSAGES = 3


class ThreadPreview(VerticalScroll, can_focus=False):
    DEFAULT_CSS = """
    ThreadPreview { border-top: solid $primary; padding: 0 1; background: $surface; }
    ThreadPreview > Static { width: 1fr; }
    """

    def __init__(self, session: Session, **kw) -> None:
        super().__init__(**kw)
        self.session = session
        self.thread_id: str | None = None
        self._body = Static("", markup=False)

    def compose(self):
        yield self._body

    def show(self, thread_id: str | None) -> None:
        """Draw ``thread_id`` (decrypts one thread; called on highlight and on live changes)."""
        self.thread_id = thread_id
        self.scroll_home(animate=False)
        self._body.update(self._renderable(thread_id))

    def _renderable(self, thread_id: str | None):
        store = self.session.store
        thread = store.thread(thread_id) if thread_id else None
        if thread is None:
            return Text("No thread selected.", style="dim")
        patient = store.patient(thread.patient_id)
        name = patient.display_name if patient else "unknown patient"
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append_text(patient_text(name, style="bold"))
        head.append(" · ")
        head.append_text(patient_text(thread.subject))
        msgs = store.messages(thread_id)
        earlier = len(msgs) - LAST_MESSAGES
        parts = [head]
        if earlier > 0:
            parts.append(Text(f"… {earlier} earlier message{'s' * (earlier != 1)} (enter opens)",
                              style="dim"))
        parts.append(conversation(msgs[-LAST_MESSAGES:],
                                  sender_namer(store, name, self.session.user_ref),
                                  self.session.glyphs))
        return Group(*parts)
