"""The inbox list: a Line API ``ScrollView`` that draws only the visible rows of a QueueView.

Textual's ``DataTable`` took 17.7 s to first paint 100k rows; this widget renders the ~40
visible lines from :class:`~triage_tui.domain.queue_view.QueueView`'s index and asks the
``display_provider`` (decrypted patient name, subject, preview) for those rows only.

Keys: the widget binds only the keys every list has (arrows, page up/down, home/end, enter)
with ids, so ``App.set_keymap`` can remap them; the app's command table binds the rest (j/k,
space, ...) to the public actions: ``cursor_down``, ``cursor_up``, ``page_down``, ``page_up``,
``first``, ``last``, ``select``, ``toggle_mark_and_next``, ``mark_all_in_view``,
``clear_marks``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from triage_tui.cache.api import QueueRow, ThreadDisplay
from triage_tui.domain.queue_view import DueState, QueueView, RowInfo
from triage_tui.widgets.safe_text import preview

DisplayProvider = Callable[[Sequence[str]], Mapping[str, ThreadDisplay]]
"""Decrypted display text for the given thread ids (``CacheAPI.thread_display``)."""


@dataclass(frozen=True)
class Glyphs:
    """Row markers: shown as characters, not only as colour (16 colours, colour-blind users)."""

    critical: str = "‼"  # asap / stat
    urgent: str = "!"  # urgent, or flagged by the triage rules
    closed: str = "✓"
    marked: str = "●"
    overdue: str = "⚑"
    due_soon: str = "◷"
    pending: str = "…"  # before pool/owner: changed here, not yet confirmed by the server


UNICODE_GLYPHS = Glyphs()
"""Characters every xterm font (DejaVu, Liberation, Noto) draws one cell wide."""
ASCII_GLYPHS = Glyphs(critical="!!", urgent="!", closed="-", marked="*", overdue=">",
                      due_soon="~", pending="^")


def _default_clock() -> datetime:
    return datetime.now().astimezone()


def format_age(seconds: float) -> str:
    """Compact age: ``now``, ``45m``, ``3h``, ``2d``, ``5w``, ``1y``."""
    m = int(seconds // 60)
    if m < 1:
        return "now"
    if m < 60:
        return f"{m}m"
    h = m // 60
    if h < 24:
        return f"{h}h"
    d = h // 24
    if d < 14:
        return f"{d}d"
    if d < 365:
        return f"{d // 7}w"
    return f"{d // 365}y"


def format_due(due: datetime, now: datetime) -> str:
    """``14:30`` when due on the same day as ``now`` (in now's time zone), else ``Mar 05``."""
    if due.tzinfo is not None and now.tzinfo is not None:
        due = due.astimezone(now.tzinfo)
    if due.date() == now.date():
        return due.strftime("%H:%M")
    return due.strftime("%b %d")


def default_owner_label(owner_ref: str | None, user_ref: str | None) -> str:
    if owner_ref is None:
        return ""
    if owner_ref == user_ref:
        return "me"
    return owner_ref.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ColumnLayout:
    """Cell widths of each column at one widget width; 0 means the column is hidden."""

    width: int
    urgency: int
    mark: int
    patient: int
    subject: int
    age: int = 0
    due: int = 0
    pool: int = 0
    owner: int = 0


SUBJECT_MIN = 28
"""The subject column keeps at least this many cells; optional columns go first."""
_OPTIONAL = (("age", 4), ("due", 8), ("pool", 10), ("owner", 10))
"""Optional columns in the order they are kept; they are dropped from the end (owner first)."""


def column_layout(width: int, glyphs: Glyphs = UNICODE_GLYPHS) -> ColumnLayout:
    urgency = max(cell_len(glyphs.critical), cell_len(glyphs.urgent), cell_len(glyphs.closed))
    mark = cell_len(glyphs.marked)
    patient = max(8, min(22, width // 5))
    used = urgency + mark + 1 + patient + 1
    widths: dict[str, int] = {}
    for name, w in _OPTIONAL:
        if width - used - (w + 1) >= SUBJECT_MIN:
            widths[name] = w
            used += w + 1
        else:
            break
    return ColumnLayout(width=width, urgency=urgency, mark=mark, patient=patient,
                        subject=max(0, width - used), **widths)


def column_header(layout: ColumnLayout) -> str:
    """Column titles aligned with the rows drawn at ``layout`` (for a header above the list)."""
    parts = [" " * (layout.urgency + layout.mark + 1), "Patient".ljust(layout.patient), " ",
             "Subject".ljust(layout.subject)]
    if layout.age:
        parts.append(" " + "Age".rjust(layout.age))
    if layout.due:
        parts.append(" " + "  Due".ljust(layout.due))  # after the due-state glyph
    if layout.pool:
        parts.append(" " + "Pool".ljust(layout.pool))
    if layout.owner:
        parts.append(" " + "Owner".ljust(layout.owner))
    return set_cell_size("".join(parts), layout.width)


class QueueList(ScrollView, can_focus=True):
    """The inbox: one line per thread of a :class:`QueueView`'s filtered index."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "Next", show=False, id="queue-list.cursor-down"),
        Binding("up", "cursor_up", "Previous", show=False, id="queue-list.cursor-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="queue-list.page-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="queue-list.page-up"),
        Binding("home", "first", "First", show=False, id="queue-list.first"),
        Binding("end", "last", "Last", show=False, id="queue-list.last"),
        Binding("enter", "select", "Open", show=False, id="queue-list.select"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-list--cursor",
        "queue-list--marked",
        "queue-list--mark-glyph",
        "queue-list--urgent",
        "queue-list--critical",
        "queue-list--overdue",
        "queue-list--due-soon",
        "queue-list--closed",
        "queue-list--secondary",
    }
    """
    | Class | Description |
    | :- | :- |
    | `queue-list--cursor` | The cursor row (style `:focus` for the focused look). |
    | `queue-list--marked` | A marked row. |
    | `queue-list--mark-glyph` | The mark glyph. |
    | `queue-list--urgent` | The glyph of an urgent row. |
    | `queue-list--critical` | The glyph of an asap / stat row. |
    | `queue-list--overdue` | The due cell of an overdue row. |
    | `queue-list--due-soon` | The due cell of a row due soon. |
    | `queue-list--closed` | A closed row (shown when the filter includes closed threads). |
    | `queue-list--secondary` | Secondary text: preview, age, pool, owner, empty message. |
    """

    DEFAULT_CSS = """
    QueueList {
        height: 1fr;
        background: $surface;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        & > .queue-list--cursor {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .queue-list--cursor {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        & > .queue-list--marked { background: $accent 25%; }
        & > .queue-list--mark-glyph { color: $accent; text-style: bold; }
        & > .queue-list--urgent { color: $warning; text-style: bold; }
        & > .queue-list--critical { color: $error; text-style: bold; }
        & > .queue-list--overdue { color: $error; text-style: bold; }
        & > .queue-list--due-soon { color: $warning; }
        & > .queue-list--closed { color: $text-disabled; }
        & > .queue-list--secondary { color: $text-muted; }
    }
    """

    # --- messages ---------------------------------------------------------------------------
    @dataclass
    class Highlighted(Message):
        """The cursor is on another thread (None: the view is empty). Bursts merge."""

        thread_id: str | None
        queue_list: QueueList | None = field(default=None, repr=False, compare=False)

        @property
        def control(self) -> QueueList | None:
            return self.queue_list

        def can_replace(self, message: Message) -> bool:
            return (isinstance(message, QueueList.Highlighted)
                    and message.queue_list is self.queue_list)

    @dataclass
    class Selected(Message):
        """Enter (or a click on the cursor row, or a double click) on a thread."""

        thread_id: str
        queue_list: QueueList | None = field(default=None, repr=False, compare=False)

        @property
        def control(self) -> QueueList | None:
            return self.queue_list

    @dataclass
    class MarksChanged(Message):
        """The number of marked threads changed (all marks, not only the visible ones)."""

        count: int
        queue_list: QueueList | None = field(default=None, repr=False, compare=False)

        @property
        def control(self) -> QueueList | None:
            return self.queue_list

        def can_replace(self, message: Message) -> bool:
            return (isinstance(message, QueueList.MarksChanged)
                    and message.queue_list is self.queue_list)

    # --- construction -----------------------------------------------------------------------
    def __init__(
        self,
        view: QueueView | None = None,
        *,
        display_provider: DisplayProvider | None = None,
        clock: Callable[[], datetime] = _default_clock,
        user_ref: str | None = None,
        owner_label: Callable[[str | None, str | None], str] = default_owner_label,
        glyphs: Glyphs = UNICODE_GLYPHS,
        display_cache_size: int = 512,
        tick: float | None = 60.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """
        Args:
            view: The rows; :meth:`set_view` can give it later.
            display_provider: Display text of thread ids, called for visible rows only.
            clock: Returns "now" (aware); ages and due times are relative to it.
            user_ref: The signed-in user ("Practitioner/45"): their rows show owner "me".
            owner_label: ``(owner_ref, user_ref) -> label`` for the owner column.
            glyphs: :data:`UNICODE_GLYPHS` or :data:`ASCII_GLYPHS` (or your own).
            display_cache_size: How many threads' display text to keep (LRU).
            tick: Seconds between repaints that refresh ages and due states; None: never.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._view = view if view is not None else QueueView()
        self.display_provider = display_provider
        self.clock = clock
        self.user_ref = user_ref
        self.owner_label = owner_label
        self.glyphs = glyphs
        self._display_cache: OrderedDict[str, ThreadDisplay | None] = OrderedDict()
        self._display_cache_size = display_cache_size
        self._tick = tick
        self._cursor = 0
        self._cursor_id: str | None = None
        self._columns: ColumnLayout | None = None
        self._now: datetime | None = None  # one clock reading per repaint
        self._strips: LRUCache[tuple, Strip] = LRUCache(1024)  # rendered rows

    def on_mount(self) -> None:
        self._sync_after_change(keep_screen_row=False)
        if self._tick:
            self.set_interval(self._tick, self.refresh, name="queue-list-tick")

    # --- public API -------------------------------------------------------------------------
    @property
    def view(self) -> QueueView:
        return self._view

    def set_view(self, view: QueueView) -> None:
        """Show another view; the cursor goes to the first row, the display cache is emptied."""
        self._view = view
        self._display_cache.clear()
        self._cursor = 0
        self._cursor_id = None
        if self.is_mounted:
            self.scroll_to(y=0, animate=False, force=True)
            self._sync_after_change(keep_screen_row=False)

    def refresh_rows(self, changed_ids: Iterable[str] = (), *, all_changed: bool = False
                     ) -> None:
        """Redraw after the view's rows or filter changed.

        The cursor stays on the same thread (or, if that thread left the view, on the row now
        in its place) at the same screen line; marks are the view's and are kept.

        Args:
            changed_ids: Threads whose display text may have changed (``replace_rows`` and
                ``upsert_rows`` return them): their cached display text is dropped.
            all_changed: Drop all cached display text.
        """
        self.invalidate_display(None if all_changed else changed_ids)
        if self.is_mounted:  # else on_mount syncs
            self._sync_after_change(keep_screen_row=True)

    def invalidate_display(self, thread_ids: Iterable[str] | None = None) -> None:
        """Forget cached display text of ``thread_ids`` (all if None) and repaint."""
        if thread_ids is None:
            self._display_cache.clear()
        else:
            for tid in thread_ids:
                self._display_cache.pop(tid, None)
        self._strips.clear()
        self.refresh()

    @property
    def columns(self) -> ColumnLayout:
        """The column widths at the widget's current width (see :func:`column_header`)."""
        width = self.scrollable_content_region.width
        if self._columns is None or self._columns.width != width:
            self._columns = column_layout(width, self.glyphs)
        return self._columns

    @property
    def cursor(self) -> int:
        """Index of the cursor row in the view."""
        return self._cursor

    @property
    def cursor_thread_id(self) -> str | None:
        return self._cursor_id

    @property
    def marked_ids(self) -> frozenset[str]:
        return self._view.marks

    def move_cursor(self, index: int) -> None:
        """Put the cursor on row ``index`` (clamped) and scroll it into view."""
        n = len(self._view)
        if n == 0:
            return
        index = max(0, min(index, n - 1))
        old, old_id = self._cursor, self._cursor_id
        self._cursor = index
        self._cursor_id = self._view.thread_id(index)
        self.refresh_line(old)
        self.refresh_line(index)
        self._scroll_cursor_into_view()
        if self._cursor_id != old_id:
            self.post_message(self.Highlighted(self._cursor_id, self))

    def move_to_thread(self, thread_id: str) -> bool:
        """Put the cursor on a thread if it is in the view; returns whether it is."""
        i = self._view.find(thread_id)
        if i is None:
            return False
        self.move_cursor(i)
        return True

    # --- actions ----------------------------------------------------------------------------
    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_page_down(self) -> None:
        self._page(+1)

    def action_page_up(self) -> None:
        self._page(-1)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._view) - 1)

    def action_select(self) -> None:
        if self._cursor_id is not None and len(self._view):
            self.post_message(self.Selected(self._cursor_id, self))

    def action_toggle_mark_and_next(self) -> None:
        if self._cursor_id is None or not len(self._view):
            return
        self._view.toggle_mark(self._cursor_id)
        self.refresh_line(self._cursor)
        self.post_message(self.MarksChanged(self._view.mark_count, self))
        self.move_cursor(self._cursor + 1)

    def action_mark_all_in_view(self) -> None:
        self._view.mark_all_in_view()
        self.refresh()
        self.post_message(self.MarksChanged(self._view.mark_count, self))

    def mark(self, thread_ids: Iterable[str]) -> int:
        """Mark the given threads that are in the current view; returns how many are marked."""
        self._view.mark(t for t in thread_ids if self._view.find(t) is not None)
        self.refresh()
        self.post_message(self.MarksChanged(self._view.mark_count, self))
        return self._view.mark_count

    def action_clear_marks(self) -> None:
        self._view.clear_marks()
        self.refresh()
        self.post_message(self.MarksChanged(0, self))

    # --- scrolling --------------------------------------------------------------------------
    @property
    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _page(self, direction: int) -> None:
        n = len(self._view)
        if n == 0:
            return
        h = self._page_height
        screen_row = self._cursor - round(self.scroll_y)
        target = max(0, min(self._cursor + direction * h, n - 1))
        self.scroll_to(y=max(0, target - screen_row), animate=False, force=True)
        self.move_cursor(target)

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_y)
        h = self._page_height
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True)
        elif self._cursor >= top + h:
            self.scroll_to(y=self._cursor - h + 1, animate=False, force=True)

    def _sync_after_change(self, *, keep_screen_row: bool) -> None:
        view = self._view
        n = len(view)
        screen_row = self._cursor - round(self.scroll_y)
        index = view.nearest(self._cursor_id) if self._cursor_id is not None else None
        if index is None:
            index = min(self._cursor, n - 1)
        index = max(index, 0)
        self.virtual_size = Size(0, n)
        self._cursor = index
        old_id = self._cursor_id
        self._cursor_id = view.thread_id(index) if n else None
        if keep_screen_row and n:
            target = max(0, min(index - screen_row, max(0, n - self._page_height)))
            self.scroll_to(y=target, animate=False, force=True)
        elif n:
            self._scroll_cursor_into_view()
        self.refresh()
        if self._cursor_id != old_id:
            self.post_message(self.Highlighted(self._cursor_id, self))

    # --- mouse ------------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = round(self.scroll_y) + offset.y
        if not 0 <= index < len(self._view):
            return
        event.stop()
        if index == self._cursor or event.chain > 1:
            self.move_cursor(index)
            self.action_select()
        else:
            self.move_cursor(index)

    # --- rendering --------------------------------------------------------------------------
    def _display_for(self, thread_ids: Sequence[str]) -> None:
        """Fetch the display text of those ids that are not cached, in one provider call."""
        cache = self._display_cache
        missing = [t for t in thread_ids if t not in cache]
        for t in thread_ids:
            if t in cache:
                cache.move_to_end(t)
        if missing and self.display_provider is not None:
            got = self.display_provider(missing)
            for t in missing:
                cache[t] = got.get(t)
            while len(cache) > max(self._display_cache_size, 2 * self._page_height):
                cache.popitem(last=False)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._now = self.clock()
        top = round(self.scroll_y)
        self._display_for(self._view.thread_ids(top, top + self._page_height))
        self.columns  # noqa: B018  (recompute the columns if the width changed)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = round(self.scroll_y) + y
        base = self.visual_style.rich_style
        view = self._view
        if index >= len(view):
            if index == 0:
                text = " No threads in this view." if view.total else " No threads."
                style = base + self._partial("queue-list--secondary")
                return Strip([Segment(set_cell_size(text, width), style)], width)
            return Strip.blank(width, base)
        layout = self.columns
        now = self._now or self.clock()
        info = view.info(index, now)
        row = info.row
        is_cursor = index == self._cursor
        # A row's line depends on its data, marks, cursor, width, focus, the minute (ages, due
        # states) and its display text; styles changes clear the cache (notify_style_update).
        key = (row.thread_id, view.version, info.marked, is_cursor, width, self.has_focus,
               base, int(now.timestamp() // 60), id(self._display_cache.get(row.thread_id)))
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row(info, layout, base, is_cursor, now)
            self._strips.set(key, strip)
        return strip

    def notify_style_update(self) -> None:
        self._strips.clear()
        super().notify_style_update()

    def _render_row(self, info: RowInfo, layout: ColumnLayout, base: Style, is_cursor: bool,
                    now: datetime) -> Strip:
        partial = self._partial
        row: QueueRow = info.row
        g = self.glyphs
        row_style = base
        if not info.is_open:
            row_style += partial("queue-list--closed")
        if info.marked:
            row_style += partial("queue-list--marked")
        if is_cursor:
            row_style += partial("queue-list--cursor")
        secondary = row_style + partial("queue-list--secondary")
        segs: list[Segment] = []
        add = segs.append

        # urgency glyph
        if not info.is_open:
            add(Segment(set_cell_size(g.closed, layout.urgency), row_style))
        elif info.rank >= 2:
            add(Segment(set_cell_size(g.critical, layout.urgency),
                        row_style + partial("queue-list--critical")))
        elif info.rank == 1:
            add(Segment(set_cell_size(g.urgent, layout.urgency),
                        row_style + partial("queue-list--urgent")))
        else:
            add(Segment(" " * layout.urgency, row_style))
        # mark glyph
        if info.marked:
            add(Segment(g.marked, row_style + partial("queue-list--mark-glyph")))
        else:
            add(Segment(" " * layout.mark, row_style))
        add(Segment(" ", row_style))

        display = self._display_cache.get(row.thread_id)
        name = display.patient_name if display else ""
        subject = display.subject if display else ""
        text_preview = display.preview if display else ""
        add(Segment(set_cell_size(preview(name, layout.patient) if display else "…",
                                  layout.patient), row_style))
        add(Segment(" ", row_style))
        # subject, then the first words of the message in the secondary style
        sw = layout.subject
        subj = preview(subject or text_preview, sw)
        used = cell_len(subj)
        add(Segment(subj, row_style))
        if subject and text_preview and sw - used > 8:
            rest = preview(text_preview, sw - used - 2)
            add(Segment("  " + rest, secondary))
            used += 2 + cell_len(rest)
        if sw > used:
            add(Segment(" " * (sw - used), row_style))

        if layout.age:
            when = row.last_message_at or row.created
            age = format_age((now - when).total_seconds()) if when else ""
            add(Segment(" " + age.rjust(layout.age)[: layout.age], secondary))
        if layout.due:
            due_style = row_style
            text = ""
            if row.due is not None:
                state = info.due_state
                glyph = " "
                if state is DueState.OVERDUE:
                    glyph, due_style = g.overdue, row_style + partial("queue-list--overdue")
                elif state is DueState.DUE_SOON:
                    glyph, due_style = g.due_soon, row_style + partial("queue-list--due-soon")
                elif not info.is_open:
                    due_style = secondary
                text = f"{glyph} {format_due(row.due, now)}"
            add(Segment(" " + set_cell_size(text, layout.due), due_style))
        # A pending row (our claim/route/close not yet confirmed) marks pool and owner.
        pend = g.pending if row.pending else ""
        if layout.pool:
            pool = pend + (row.pool or "")
            add(Segment(" " + set_cell_size(preview(pool, layout.pool), layout.pool),
                        secondary))
        if layout.owner:
            owner = pend + self.owner_label(row.owner_ref, self.user_ref)
            add(Segment(" " + set_cell_size(preview(owner, layout.owner), layout.owner),
                        secondary))
        strip = Strip(segs)
        if strip.cell_length != layout.width:
            strip = strip.adjust_cell_length(layout.width, row_style)
        return strip

    def _partial(self, name: str) -> Style:
        """A component's own rules as a style to add on top of a row's style.

        Textual's partial style drops colours with alpha (``$accent 25%``); take those colours
        from the full style, where they are blended with the widget's background."""
        part = self.get_component_rich_style(name, partial=True)
        if part.color is None and part.bgcolor is None:
            return part
        full = self.get_component_rich_style(name)
        return part + Style(color=full.color if part.color else None,
                            bgcolor=full.bgcolor if part.bgcolor else None)
