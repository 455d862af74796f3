"""QueueView: sort, filters, counts, live updates and marks (pure Python)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from widgets.queue_synth import NOW, make_rows

from triage_tui.cache.api import QueueRow
from triage_tui.domain.queue_view import (
    ALL,
    MINE,
    UNCATEGORISED,
    DueState,
    QueueFilter,
    QueueView,
)


def row(tid, *, priority="routine", due=None, age_h=1.0, category="refill", status="in-progress",
        business_status="unassigned", owner=None) -> QueueRow:
    last = NOW - timedelta(hours=age_h)
    return QueueRow(thread_id=tid, patient_id="p1", category=category, priority=priority,
                    status=status, created=last, last_message_at=last, last_from_patient=True,
                    message_count=1, owner_ref=owner, business_status=business_status,
                    due=None if due is None else NOW + timedelta(hours=due))


def ids(view: QueueView) -> list[str]:
    return [view.thread_id(i) for i in range(len(view))]


def test_sort_urgency_then_due_then_age():
    v = QueueView([
        row("old", age_h=50),
        row("new", age_h=1),
        row("due_later", due=30),
        row("overdue", due=-2),
        row("due_soon", due=1),
        row("urgent", priority="urgent"),
        row("stat", priority="stat", age_h=0.1),
        row("closed", priority="stat", status="completed"),
    ], clock=lambda: NOW)
    assert ids(v) == ["stat", "urgent", "overdue", "due_soon", "due_later", "old", "new"]
    v.set_filter(open_only=False)
    assert ids(v)[-1] == "closed"


def test_pluggable_urgency_raises_routine_rows():
    v = QueueView([row("a", age_h=9), row("b", age_h=1), row("c", priority="asap")])
    assert ids(v) == ["c", "a", "b"]
    v.set_urgency(lambda tid: 5.0 if tid == "b" else 0.0)
    assert ids(v) == ["c", "b", "a"]
    assert v.is_urgent("b") and not v.is_urgent("a")
    assert v.rank("b") == 1 and v.rank("c") == 2


def test_filters_scope_search_mine_open():
    v = QueueView([
        row("r1", category="refill"), row("r2", category="refill", owner="Practitioner/1"),
        row("a1", category="appointment", owner="Practitioner/1"),
        row("n1", category=None), row("x1", category="refill", business_status="done"),
    ])
    v.set_filter(scope="refill")
    assert set(ids(v)) == {"r1", "r2"}
    v.set_filter(open_only=False)
    assert set(ids(v)) == {"r1", "r2", "x1"}
    v.set_filter(QueueFilter(scope=MINE, user_ref="Practitioner/1"))
    assert set(ids(v)) == {"r2", "a1"}
    v.set_filter(search_ids={"a1", "r1"})
    assert ids(v) == ["a1"]
    v.set_filter(QueueFilter(scope=UNCATEGORISED))
    assert ids(v) == ["n1"]
    v.set_filter(QueueFilter(scope=ALL, search_ids=frozenset({"zz", "r1"})))
    assert ids(v) == ["r1"]


def test_filtering_preserves_sort_order_on_large_data():
    rows = make_rows(5000)
    v = QueueView(rows, clock=lambda: NOW)
    full = ids(v)
    order = {t: i for i, t in enumerate(full)}
    wanted = {r.thread_id for r in rows[::3]}
    narrow = {r.thread_id for r in rows[::97]}
    for flt in [dict(scope="refill"), dict(search_ids=wanted), dict(search_ids=narrow),
                dict(scope="clinical", search_ids=wanted),
                dict(scope="mine", user_ref="Practitioner/2", search_ids=wanted)]:
        v.set_filter(QueueFilter(**flt))
        got = ids(v)
        assert [order[t] for t in got] == sorted(order[t] for t in got)
        by_id = {r.thread_id: r for r in rows}
        expect = [t for t in full
                  if (flt.get("search_ids") is None or t in flt["search_ids"])
                  and (flt.get("scope", ALL) in (ALL, MINE)
                       or by_id[t].category == flt["scope"])
                  and (flt.get("scope") != MINE or by_id[t].owner_ref == flt["user_ref"])]
        assert got == expect


def test_find_and_nearest():
    v = QueueView([row("a", age_h=3), row("b", age_h=2, category="clinical"), row("c", age_h=1)])
    assert v.find("b") == 1
    v.set_filter(scope="refill")
    assert v.find("b") is None
    assert v.nearest("b") == 1  # "c" now sits where "b" would be
    assert v.nearest("nope") is None


def test_due_state_and_counts():
    v = QueueView([
        row("o", due=-1, priority="urgent"), row("s", due=1), row("l", due=10),
        row("n"), row("c", due=-5, status="completed"),
        row("m", due=-1, category="clinical", owner="Practitioner/9"),
    ], clock=lambda: NOW, due_soon=timedelta(hours=2))
    states = {v.thread_id(i): v.info(i).due_state for i in range(len(v))}
    assert states == {"o": DueState.OVERDUE, "s": DueState.DUE_SOON, "l": DueState.LATER,
                      "n": DueState.NONE, "m": DueState.OVERDUE}
    c = v.counts(user_ref="Practitioner/9")
    assert (c["refill"].open, c["refill"].urgent, c["refill"].overdue) == (4, 1, 1)
    assert (c[ALL].open, c[ALL].overdue) == (5, 2)
    assert (c[MINE].open, c[MINE].overdue) == (1, 1)
    assert "clinical" in c and UNCATEGORISED not in c


def test_upsert_and_replace_match_a_fresh_build():
    rows = make_rows(3000, seed=3)
    v = QueueView(rows, clock=lambda: NOW)
    changed_rows = [dataclasses.replace(rows[i], priority="stat") for i in range(0, 3000, 500)]
    assert v.upsert_rows(changed_rows) == {r.thread_id for r in changed_rows}
    assert v.upsert_rows(changed_rows) == set()  # no change the second time
    by_id = {r.thread_id: r for r in rows}
    by_id.update({r.thread_id: r for r in changed_rows})
    fresh = QueueView(by_id.values(), clock=lambda: NOW)
    assert ids(v) == ids(fresh)
    # a big replace (full re-sort path) and a small one (incremental path)
    many = [dataclasses.replace(r, priority="urgent") for r in rows[:1000]] + rows[1000:2500]
    v.replace_rows(many)
    assert ids(v) == ids(QueueView(many, clock=lambda: NOW))
    few = many[:-3] + [dataclasses.replace(many[-1], business_status="done")]
    changed = v.replace_rows(few)
    assert changed == {r.thread_id for r in many[-3:]}
    assert ids(v) == ids(QueueView(few, clock=lambda: NOW))
    v.set_filter(open_only=False)
    assert ids(v) == [r.thread_id for r in QueueView(few, filter=QueueFilter(open_only=False)).rows]


def test_marks_survive_refilter_and_updates_but_not_deletion():
    v = QueueView([row("a"), row("b", category="clinical"), row("c")])
    assert v.toggle_mark("a") and v.toggle_mark("b")
    v.set_filter(scope="refill")
    assert v.marks == {"a", "b"}
    assert v.marked_in_view() == ["a"]
    v.upsert_rows([row("a", priority="stat")])
    assert v.is_marked("a")
    v.replace_rows([row("a"), row("c")])
    assert v.marks == {"a"}
    assert v.mark_all_in_view() == 2
    v.remove_rows(["c"])
    assert v.marks == {"a"}
    assert not v.toggle_mark("ghost")
    v.clear_marks()
    assert v.mark_count == 0


def test_version_counts_data_changes_only():
    v = QueueView([row("a")])
    before = v.version
    v.set_filter(scope="clinical")
    assert v.version == before
    v.upsert_rows([row("b")])
    assert v.version == before + 1


def test_rules_priority_ranks_like_the_server_priority():
    """Issue 5: a refill thread the triage rules flag (server priority routine) sorts above
    routine refills, counts as urgent, and gets the rank that draws the urgency glyph."""
    lips = dataclasses.replace(row("lips", age_h=0.5), rules_priority="stat",
                               rules_category="refill")
    v = QueueView([row("old", age_h=50, due=-3), row("new", age_h=1),
                   row("srv-urgent", priority="urgent"), lips], clock=lambda: NOW)
    assert ids(v)[0] == "lips" and v.rank("lips") == 3 and v.is_urgent("lips")
    assert v.info(0).rank == 3
    v.set_filter(scope="refill")
    assert ids(v) == ["lips", "srv-urgent", "old", "new"]
    counts = v.counts(NOW)
    assert counts["refill"].urgent == 2 and counts[ALL].urgent == 2
    # the higher of the two wins, never the lower
    low = dataclasses.replace(row("srv-stat", priority="stat"), rules_priority="routine")
    v.upsert_rows([low])
    assert v.rank("srv-stat") == 3


def test_category_filter_uses_the_server_category_else_the_rules():
    v = QueueView([
        dataclasses.replace(row("srv"), rules_category="clinical"),  # server says refill
        dataclasses.replace(row("none", category=None), rules_category="clinical"),
        row("bare", category=None),
    ])
    v.set_filter(scope="refill")
    assert ids(v) == ["srv"]
    v.set_filter(scope="clinical")
    assert ids(v) == ["none"]
    v.set_filter(scope=UNCATEGORISED)
    assert ids(v) == ["bare"]
    assert v.counts(NOW)["clinical"].open == 1
