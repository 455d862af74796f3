"""QueueList on a tiny app: navigation, marks, messages, live updates, display provider."""

from __future__ import annotations

import dataclasses

from widgets.queue_app import QueueApp
from widgets.queue_synth import NOW, make_rows

from triage_tui.cache.api import ThreadDisplay
from triage_tui.domain.queue_view import QueueView
from triage_tui.widgets.queue_list import ASCII_GLYPHS, QueueList, column_layout

SIZE = (100, 24)  # 24 lines: the list is 24 rows high


def names(app, cls):
    return [m for m in app.messages if isinstance(m, cls)]


def line_text(ql: QueueList, y: int) -> str:
    return "".join(seg.text for seg in ql.render_line(y))


async def test_navigation_and_highlighted_messages():
    app = QueueApp(100)
    async with app.run_test(size=SIZE) as pilot:
        ql = app.query_one(QueueList)
        v = app.view
        assert ql.cursor == 0 and ql.cursor_thread_id == v.thread_id(0)
        await pilot.press("j", "j", "down")
        assert ql.cursor == 3
        await pilot.press("k", "up")
        assert ql.cursor == 1 and ql.cursor_thread_id == v.thread_id(1)
        await pilot.press("pagedown")
        assert ql.cursor == 25 and ql.scroll_y == 24  # the cursor keeps its screen line
        await pilot.press("pageup")
        assert ql.cursor == 1 and ql.scroll_y == 0
        await pilot.press("end")
        assert ql.cursor == len(v) - 1 and ql.scroll_y == ql.max_scroll_y
        await pilot.press("j")  # clamped at the end
        assert ql.cursor == len(v) - 1
        await pilot.press("home")
        assert ql.cursor == 0 and ql.scroll_y == 0
        await pilot.press("k")
        assert ql.cursor == 0
        await pilot.pause()
        highlighted = names(app, QueueList.Highlighted)
        assert highlighted and highlighted[-1].thread_id == v.thread_id(0)
        assert highlighted[-1].control is ql


async def test_scrolls_to_keep_cursor_visible():
    app = QueueApp(100)
    async with app.run_test(size=SIZE) as pilot:
        ql = app.query_one(QueueList)
        ql.move_cursor(22)
        await pilot.press(*"jjjjjjjj")
        assert ql.cursor == 30 and ql.scroll_y == 30 - 24 + 1
        await pilot.press(*"kkkkkkkkkkk")
        assert ql.cursor == 19 and ql.scroll_y == 7
        await pilot.press("k", "k", "k")
        assert ql.scroll_y == 7  # still visible: no scroll


async def test_enter_and_click_select():
    app = QueueApp(50)
    async with app.run_test(size=SIZE) as pilot:
        ql = app.query_one(QueueList)
        await pilot.press("j", "enter")
        await pilot.pause()
        (sel,) = names(app, QueueList.Selected)
        assert sel.thread_id == app.view.thread_id(1)
        await pilot.click(QueueList, offset=(10, 4))
        assert ql.cursor == 4
        await pilot.click(QueueList, offset=(10, 4))  # again on the cursor row: open it
        await pilot.pause()
        assert [m.thread_id for m in names(app, QueueList.Selected)][-1] == app.view.thread_id(4)


async def test_marks_toggle_all_clear():
    app = QueueApp(60)
    async with app.run_test(size=SIZE) as pilot:
        ql = app.query_one(QueueList)
        v = app.view
        first, second = v.thread_id(0), v.thread_id(1)
        await pilot.press("space", "space")
        assert ql.marked_ids == {first, second} and ql.cursor == 2
        assert "●" in line_text(ql, 0)[:3]
        await pilot.press("k", "space")  # unmark the second
        assert ql.marked_ids == {first}
        v.set_filter(scope="refill")
        ql.refresh_rows()
        await pilot.press("a")
        assert ql.marked_ids == {first} | {v.thread_id(i) for i in range(len(v))}
        await pilot.press("c")
        assert ql.marked_ids == frozenset()
        await pilot.pause()
        counts = [m.count for m in names(app, QueueList.MarksChanged)]
        assert counts[-1] == 0 and len(v) + 1 in counts or counts  # merged bursts allowed
        assert counts[-1] == 0


async def test_live_update_keeps_cursor_thread_screen_line_and_marks():
    rows = make_rows(200, seed=5)
    app = QueueApp(rows=rows)
    async with app.run_test(size=SIZE) as pilot:
        ql = app.query_one(QueueList)
        v = app.view
        ql.move_cursor(34)
        await pilot.press(*"jjjjjj")
        await pilot.press("space")  # marks row 40, cursor on 41
        marked = set(ql.marked_ids)
        tid = ql.cursor_thread_id
        screen_line = ql.cursor - ql.scroll_y
        # three routine rows from the bottom become "stat": they jump above the cursor
        bottom = [v.row(i) for i in range(len(v) - 3, len(v))]
        changed = v.upsert_rows([dataclasses.replace(r, priority="stat") for r in bottom])
        ql.refresh_rows(changed)
        await pilot.pause()
        assert ql.cursor_thread_id == tid
        assert ql.cursor == 44
        assert ql.cursor - ql.scroll_y == screen_line
        assert ql.marked_ids == marked
        # a full replace in which the cursor's thread disappears: the next row takes its place
        cursor_before = ql.cursor
        next_tid = v.thread_id(cursor_before + 1)
        v.replace_rows([r for r in v.rows if r.thread_id != tid])
        ql.refresh_rows(all_changed=True)
        await pilot.pause()
        assert ql.cursor_thread_id == next_tid and ql.cursor == cursor_before
        assert ql.cursor - ql.scroll_y == screen_line
        assert ql.marked_ids == marked
        assert names(app, QueueList.Highlighted)[-1].thread_id == next_tid


async def test_filter_change_keeps_cursor_thread_when_still_visible():
    app = QueueApp(120)
    async with app.run_test(size=SIZE) as pilot:
        ql = app.query_one(QueueList)
        v = app.view
        refill = next(i for i in range(10, len(v)) if v.row(i).category == "refill")
        ql.move_cursor(refill)
        tid = ql.cursor_thread_id
        v.set_filter(scope="refill")
        ql.refresh_rows()
        await pilot.pause()
        assert ql.cursor_thread_id == tid and v.row(ql.cursor).category == "refill"
        v.set_filter(search_ids=set())  # nothing matches
        ql.refresh_rows()
        await pilot.pause()
        assert len(v) == 0 and ql.cursor_thread_id is None
        assert "No threads in this view" in line_text(ql, 0)
        await pilot.press("j", "space", "enter")  # harmless on an empty view
        assert ql.marked_ids == frozenset()


async def test_display_provider_called_for_visible_rows_only_and_invalidated():
    app = QueueApp(5000)
    async with app.run_test(size=SIZE) as pilot:
        ql = app.query_one(QueueList)
        await pilot.pause()
        asked = {t for call in app.provider.calls for t in call}
        assert 0 < len(asked) <= 24
        n_calls = len(app.provider.calls)
        await pilot.press("j", "j", "k")
        assert len(app.provider.calls) == n_calls  # cached
        await pilot.press("pagedown")
        await pilot.pause()
        assert len(app.provider.calls) == n_calls + 1
        assert len(app.provider.calls[-1]) <= 24
        tid = ql.cursor_thread_id
        ql.refresh_rows([tid])
        await pilot.pause()
        assert app.provider.calls[-1] == [tid]


async def test_untrusted_display_text_is_literal_and_clean():
    app = QueueApp(3)

    def hostile(ids):
        return {t: ThreadDisplay(t, "[@click=app.quit]Eve\x1b[2J", "[b]sub\u202eject[/b]\r\nx",
                                 "\x07bell") for t in ids}

    async with app.run_test(size=(120, 10)) as pilot:
        ql = app.query_one(QueueList)
        ql.display_provider = hostile
        ql.invalidate_display()
        await pilot.pause()
        text = line_text(ql, 0)
        assert "[@click=app.quit]" in text and "[b]subject[/b] x" in text
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in text)
        assert "Eve␛" in text
        await pilot.click(QueueList, offset=(5, 0))
        await pilot.click(QueueList, offset=(5, 0))
        assert app.is_running


def test_column_layout_drops_owner_then_pool():
    wide = column_layout(119)
    assert wide.owner and wide.pool and wide.due and wide.age
    narrow = column_layout(79)
    assert not narrow.owner and narrow.pool and narrow.due and narrow.age
    tiny = column_layout(50)
    assert not tiny.pool and tiny.subject >= 28
    for layout in (wide, narrow, tiny):
        parts = [layout.urgency, layout.mark, 1, layout.patient, 1, layout.subject]
        parts += [w + 1 for w in (layout.age, layout.due, layout.pool, layout.owner) if w]
        assert sum(parts) == layout.width
    assert column_layout(79, ASCII_GLYPHS).urgency == 2


def test_message_merging():
    a, b = QueueList(), QueueList()
    h1, h2 = QueueList.Highlighted("t1", a), QueueList.Highlighted("t2", a)
    assert h1.can_replace(h2) and not h1.can_replace(QueueList.Highlighted("t3", b))
    assert QueueList.MarksChanged(1, a).can_replace(QueueList.MarksChanged(2, a))
    assert not QueueList.Selected("t1", a).can_replace(QueueList.Selected("t2", a))


async def test_view_given_later_and_replaced():
    app = QueueApp(view=QueueView(clock=lambda: NOW))
    async with app.run_test(size=SIZE) as pilot:
        ql = app.query_one(QueueList)
        assert ql.cursor_thread_id is None
        assert "No threads." in line_text(ql, 0)
        ql.set_view(QueueView(make_rows(30), clock=lambda: NOW))
        await pilot.pause()
        assert ql.cursor_thread_id == ql.view.thread_id(0)
        assert ql.virtual_size.height == len(ql.view)


async def test_resize_changes_columns_and_header_matches():
    from triage_tui.widgets.queue_list import column_header

    app = QueueApp(40)
    async with app.run_test(size=(120, 20)) as pilot:
        ql = app.query_one(QueueList)
        assert ql.columns.owner
        header = column_header(ql.columns)
        assert len(header) == ql.columns.width and "Owner" in header
        row = line_text(ql, 0)
        assert header.index("Pool") == row.index(app.view.row(0).pool or "?", header.index("Pool"))
        await pilot.resize_terminal(80, 20)
        await pilot.pause()
        assert not ql.columns.owner and ql.columns.width == 79
        assert len(line_text(ql, 0)) == 79
        assert "Owner" not in column_header(ql.columns)


def test_refresh_rows_before_mount_is_harmless():
    ql = QueueList(QueueView(make_rows(10), clock=lambda: NOW))
    ql.view.upsert_rows([dataclasses.replace(ql.view.row(0), priority="stat")])
    ql.refresh_rows(all_changed=True)
    assert ql.cursor == 0


async def test_changed_display_text_and_clock_are_redrawn():
    from datetime import timedelta

    rows = make_rows(5)
    app = QueueApp(rows=rows)
    names_by_id = {}

    def provider(ids):
        return {t: ThreadDisplay(t, names_by_id.get(t, "Old Name"), "Subject", "words")
                for t in ids}

    async with app.run_test(size=(120, 10)) as pilot:
        ql = app.query_one(QueueList)
        ql.display_provider = provider
        ql.invalidate_display()
        await pilot.pause()
        tid = ql.view.thread_id(0)
        assert "Old Name" in line_text(ql, 0)
        names_by_id[tid] = "New Name"
        ql.refresh_rows([tid])
        await pilot.pause()
        assert "New Name" in line_text(ql, 0)
        # ages follow the clock
        row = ql.view.row(0)
        now = [row.last_message_at + timedelta(minutes=5)]
        ql.clock = lambda: now[0]
        ql.refresh()
        await pilot.pause()
        list(ql.render_lines(ql.scrollable_content_region.reset_offset))
        assert " 5m " in line_text(ql, 0)
        now[0] += timedelta(hours=3)
        list(ql.render_lines(ql.scrollable_content_region.reset_offset))
        assert " 3h " in line_text(ql, 0)
