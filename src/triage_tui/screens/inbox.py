"""The inbox: categories with counts, the queue, a preview of the highlighted thread.

Narrow terminals (80x24) get a one-line tab strip and the preview under the list (``v`` hides
it); wide ones (from 110 columns) a sidebar, the list and the preview.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Static

from triage_tui.actions import CATEGORY_ORDER, INBOX, bindings_for
from triage_tui.cache.api import OutboxItem
from triage_tui.domain.queue_view import QueueView
from triage_tui.screens.acting import ActsOnThreads
from triage_tui.screens.messages import QueueLoaded
from triage_tui.screens.session import Session
from triage_tui.widgets.category_bar import CategoryBar
from triage_tui.widgets.preview import ThreadPreview
from triage_tui.widgets.glyphs import ASCII
from triage_tui.widgets.queue_list import ASCII_GLYPHS, UNICODE_GLYPHS, QueueList, column_header
from triage_tui.widgets.status_bar import StatusBar
from triage_tui.workflows.pending import overlay_pending


class InboxScreen(ActsOnThreads):
    BINDINGS = bindings_for(INBOX)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    DEFAULT_CSS = """
    InboxScreen #search, InboxScreen #search:focus { height: 1; border: none; padding: 0 1;
                                                    background: $panel; }
    InboxScreen #main { height: 1fr; }
    InboxScreen #queue { height: 1fr; }
    InboxScreen #columns { height: 1; width: 1fr; background: $surface; color: $text-muted;
                           text-style: bold; }
    InboxScreen.-narrow #sidebar { display: none; }
    InboxScreen.-wide #strip { display: none; }
    InboxScreen.-narrow #preview { height: 9; }
    InboxScreen.-wide #preview { height: 45%; }
    InboxScreen.-no-preview #preview { display: none; }
    """

    def __init__(self, session: Session, *, preview: bool = True) -> None:
        super().__init__(session)
        self.view = QueueView(clock=session.clock)
        self.view.set_filter(user_ref=session.user_ref)
        self.last_marked: list[str] = []
        self.set_class(not preview, "-no-preview")

    def compose(self) -> ComposeResult:
        g = self.session.glyphs
        yield CategoryBar(g, id="strip")
        search = Input(placeholder="search: names, subjects, messages (enter keeps, esc clears)",
                       id="search")
        search.display = False
        yield search
        with Horizontal(id="main"):
            yield self._sidebar()
            with Vertical(id="right"):
                yield Static("", id="columns", markup=False)
                yield QueueList(
                    self.view, display_provider=self.session.store.thread_display,
                    clock=self.session.clock, user_ref=self.session.user_ref,
                    owner_label=self.session.owner_label,
                    glyphs=ASCII_GLYPHS if self.session.glyphs is ASCII else UNICODE_GLYPHS,
                    tick=60.0 if self.app.config.animations else None, id="queue")
                yield ThreadPreview(self.session, id="preview")
        yield StatusBar(self.session.user_label, g, self.session.clock,
                        state=self.app.sync_state, id="status")
        yield Footer(compact=True, show_command_palette=False)

    def _sidebar(self) -> CategoryBar:
        bar = CategoryBar(self.session.glyphs, id="sidebar")
        bar.sidebar = True
        return bar

    @property
    def queue(self) -> QueueList:
        return self.query_one(QueueList)

    def on_mount(self) -> None:
        self.app.quiet_cursors(self)  # type: ignore[attr-defined]
        self.queue.focus()
        self.app.reload_queue()  # type: ignore[attr-defined]
        self.call_after_refresh(self._column_header)

    def on_resize(self) -> None:
        self.call_after_refresh(self._column_header)

    def _column_header(self) -> None:
        """Titles over the list's columns, at the widths the list draws them now."""
        header = Text(column_header(self.queue.columns), no_wrap=True, overflow="crop")
        self.query_one("#columns", Static).update(header)

    # --- data ---------------------------------------------------------------------------------
    @on(QueueLoaded)
    def loaded(self, event: QueueLoaded) -> None:
        """Fresh rows: the cursor, the scroll position and the marks stay where they are."""
        if getattr(self.app, "locked", False):  # read before a lock: unlocking reloads
            return
        changed = self.view.replace_rows(event.rows)
        self.queue.refresh_rows(changed)
        self._update_counts()
        if self.queue.cursor_thread_id in event.changed or not event.changed:
            self._preview(self.queue.cursor_thread_id)

    def apply_pending(self, items: Sequence[OutboxItem]) -> None:
        """Show just-queued Task changes (claim, route, close...) on their rows at once."""
        rows = [r for i in items if i.thread_id and (r := self.view.get(i.thread_id))]
        changed = self.view.upsert_rows(overlay_pending(rows, items))
        if changed:
            self.queue.refresh_rows(changed)
            self._update_counts()
            self._preview(self.queue.cursor_thread_id)

    def _update_counts(self) -> None:
        counts = self.view.counts(self.session.clock(), user_ref=self.session.user_ref)
        scope = self.view.filter.scope
        for bar in self.query(CategoryBar):
            bar.counts = counts
            bar.active = scope

    def _preview(self, thread_id: str | None) -> None:
        preview = self.query_one(ThreadPreview)
        if preview.display and not getattr(self.app, "locked", False):  # no data key: no PHI
            preview.show(thread_id)

    @on(QueueList.Highlighted)
    def highlighted(self, event: QueueList.Highlighted) -> None:
        self._preview(event.thread_id)

    @on(QueueList.Selected)
    def selected(self, event: QueueList.Selected) -> None:
        self.open(event.thread_id)

    @on(QueueList.MarksChanged)
    def marks_changed(self, event: QueueList.MarksChanged) -> None:
        self.query_one(StatusBar).marked = event.count

    # --- thread actions -----------------------------------------------------------------------
    def target_ids(self) -> list[str]:
        marked = list(self.queue.marked_ids)
        if marked:
            return marked
        cur = self.queue.cursor_thread_id
        return [cur] if cur else []

    def acted(self, thread_ids: list[str], verb: str) -> None:
        if self.queue.marked_ids:
            self.last_marked = list(thread_ids)  # `reselect` (M, ;) marks them again
            self.queue.action_clear_marks()

    def action_reselect(self) -> None:
        """Mark again the threads of the last action on marked threads (mutt's ``;``/aerc's
        ``:mark -v``): route them after a claim, close them after a reply."""
        if not self.last_marked:
            self.notify("Nothing to mark again: no action on marked threads yet.",
                        severity="warning")
            return
        n = self.queue.mark(self.last_marked)
        shown = sum(1 for t in self.last_marked if self.view.find(t) is not None)
        msg = f"{n} marked again."
        if shown < len(self.last_marked):
            msg += (f" {len(self.last_marked) - shown} not in this view "
                    "(closed, or in another category).")
        self.notify(msg)

    # --- navigation ---------------------------------------------------------------------------
    def action_cursor_down(self) -> None:
        self.queue.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.queue.action_cursor_up()

    def action_page_down(self) -> None:
        self.queue.action_page_down()

    def action_page_up(self) -> None:
        self.queue.action_page_up()

    def action_first(self) -> None:
        self.queue.action_first()

    def action_last(self) -> None:
        self.queue.action_last()

    def action_toggle_mark(self) -> None:
        self.queue.action_toggle_mark_and_next()

    def action_mark_all(self) -> None:
        self.queue.action_mark_all_in_view()

    def action_clear_marks(self) -> None:
        self.queue.action_clear_marks()

    def action_show_category(self, scope: str | None = None) -> None:
        if scope not in CATEGORY_ORDER:
            self.notify("Which category? " + ", ".join(CATEGORY_ORDER), severity="warning")
            return
        self.view.set_filter(scope=scope, user_ref=self.session.user_ref)
        self.queue.refresh_rows()
        self._update_counts()
        self._preview(self.queue.cursor_thread_id)

    def action_toggle_preview(self) -> None:
        self.toggle_class("-no-preview")
        self._preview(self.queue.cursor_thread_id)

    def action_open_thread(self) -> None:
        if tid := self.queue.cursor_thread_id:
            self.open(tid)

    def open(self, thread_id: str) -> None:
        from triage_tui.screens.thread import ThreadScreen

        self.app.push_screen(ThreadScreen(self.session, thread_id, neighbours=self.neighbour))

    def neighbour(self, thread_id: str, step: int) -> str | None:
        """The thread ``step`` rows from ``thread_id`` in the current view (thread screen n/N)."""
        i = self.view.find(thread_id)
        if i is None:
            return None
        j = i + step
        return self.view.thread_id(j) if 0 <= j < len(self.view) else None

    # --- search -------------------------------------------------------------------------------
    def action_search(self, words: str | None = None) -> None:
        """Open the search box; ``:search words`` fills it (and filters) at once."""
        search = self.query_one("#search", Input)
        search.display = True
        if words is not None:
            search.value = words  # posts Input.Changed: the search runs
            self.queue.focus()
        else:
            search.focus()

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    @work(thread=True, exclusive=True, group="search", description="search the cache")
    def run_search(self, text: str) -> None:
        ids = self.session.store.search(text) if text.strip() else None
        self.app.call_from_thread(self._apply_search, ids)

    def _apply_search(self, ids: set[str] | None) -> None:
        self.view.set_filter(search_ids=ids)
        self.queue.refresh_rows()
        self._preview(self.queue.cursor_thread_id)

    @on(Input.Submitted, "#search")
    def search_done(self) -> None:
        search = self.query_one("#search", Input)
        if not search.value.strip():
            search.display = False
        self.queue.focus()

    def key_escape(self) -> None:
        """Esc in the search box clears the search (nothing else sits on Esc)."""
        search = self.query_one("#search", Input)
        if search.display:
            search.value = ""
            search.display = False
            self._apply_search(None)
            self.queue.focus()
