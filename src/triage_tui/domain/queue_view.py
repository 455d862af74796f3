"""The inbox's model: every queue row, a filter, a sort and the marks. Pure Python, no UI.

A :class:`QueueView` holds all :class:`~triage_tui.cache.api.QueueRow` objects in their sorted
order and a filtered *index*: an ascending list of positions into that order. The widget draws
``view.row(i)`` for the visible ``i`` only.

Cost model (100k rows): the sort keys and per-row columns are computed once per data change
(``replace_rows`` / ``upsert_rows`` / ``set_urgency``); a filter change walks precomputed
position lists with one list comprehension and never re-sorts, because filtering a sorted
sequence keeps it sorted.

Sort order (first difference wins):

1. open before closed;
2. urgency: the effective rank (the higher of the server's FHIR priority and the client's
   triage rules' priority stored with the row, ``QueueRow.rules_priority``; raised to at least
   "urgent" when the pluggable ``urgency(thread_id)`` score is positive), highest first, then
   the score;
3. due time, earliest first, no due time last. Overdue rows have the earliest due times and
   due-soon rows come next, so this is also "overdue, then due soon, then later" whatever the
   clock says: the order does not need recomputing as time passes;
4. age: the oldest last message (or creation) first;
5. thread id, so the order is total and stable.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from itertools import compress, islice, repeat
from typing import TYPE_CHECKING

from triage_tui.domain.codes import Priority

if TYPE_CHECKING:  # domain/ never imports cache/ at run time (tests/test_import_hygiene.py)
    from triage_tui.cache.api import QueueRow

ALL = "all"
"""Filter scope: every category."""
MINE = "mine"
"""Filter scope: threads owned by the filter's ``user_ref``."""
UNCATEGORISED = "uncategorised"
"""Key of :meth:`QueueView.counts` for rows without a category."""

UrgencyFn = Callable[[str], float]
"""Triage-rules score of a thread id: 0 means nothing flagged, > 0 means urgent by the rules."""

CLOSED_STATUSES = frozenset({"completed", "entered-in-error", "stopped", "not-done", "cancelled"})
CLOSED_BUSINESS_STATUSES = frozenset({"done"})
_URGENT_RANK = Priority.URGENT.rank
_PRIORITY_RANKS = {p.value: p.rank for p in Priority}
_INF = math.inf


class DueState(Enum):
    NONE = 0  # no due time, or closed
    LATER = 1
    DUE_SOON = 2
    OVERDUE = 3


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the inbox shows. ``scope`` is :data:`ALL`, :data:`MINE` or a category value."""

    scope: str = ALL
    user_ref: str | None = None  # "Practitioner/45": needed by scope MINE
    search_ids: frozenset[str] | None = None  # thread ids of a text search; None = no search
    open_only: bool = True


@dataclass(slots=True)
class CategoryCounts:
    open: int = 0
    urgent: int = 0  # open and urgent
    overdue: int = 0  # open and overdue


@dataclass(frozen=True, slots=True)
class RowInfo:
    """What the list needs to draw one row."""

    row: QueueRow
    rank: int  # effective urgency rank (0 routine, 1 urgent, 2 asap, 3 stat)
    score: float  # triage-rules score
    is_open: bool
    due_state: DueState
    marked: bool


def row_is_open(row: QueueRow) -> bool:
    return (row.status not in CLOSED_STATUSES
            and row.business_status not in CLOSED_BUSINESS_STATUSES)


def row_category(row: QueueRow) -> str | None:
    """The category a row is filed and counted under: the server's when it has one (it wins),
    else the triage rules'."""
    return row.category or row.rules_category


def _ts(dt: datetime | None) -> float:
    return dt.timestamp() if dt is not None else _INF


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class QueueView:
    """All queue rows, sorted, with a filtered index and a set of marked thread ids."""

    def __init__(
        self,
        rows: Iterable[QueueRow] = (),
        *,
        urgency: UrgencyFn | None = None,
        due_soon: timedelta = timedelta(hours=4),
        clock: Callable[[], datetime] = _utcnow,
        filter: QueueFilter | None = None,
    ) -> None:
        self._urgency = urgency
        self.due_soon = due_soon
        self.clock = clock
        self._filter = filter or QueueFilter()
        self._by_id: dict[str, QueueRow] = {}
        self._keys: dict[str, tuple] = {}  # thread id -> sort key (see _key)
        # Columns by sorted position. The sort key is (closed, -rank, -score, due, age, id).
        self._ks: list[tuple] = []
        self._rows: list[QueueRow] = []
        self._ids: list[str] = []
        self._cats: list[str | None] = []
        self._owners: list[str | None] = []
        self._n_open = 0  # open rows sort first: positions 0.._n_open-1
        self._by_cat: dict[tuple[str | None, bool], list[int]] = {}  # lazily, per data version
        self._pos: dict[str, int] | None = None  # thread id -> position; lazily, per version
        self._index: Sequence[int] = range(0)
        self._marks: set[str] = set()
        self.version = 0
        """Incremented on every data change (not on filter changes)."""
        self.replace_rows(rows)

    # --- data -----------------------------------------------------------------------------
    def replace_rows(self, rows: Iterable[QueueRow]) -> set[str]:
        """Replace every row; returns the ids that are new, changed or gone.

        Marks of threads that are gone are dropped; the others are kept.
        """
        new = {r.thread_id: r for r in rows}
        old = self._by_id
        if not old:
            self._by_id = new
            self._keys = {}
            self._compute_keys(new)
            self._resort()
            return set(new)
        changed = {tid for tid, r in new.items() if (o := old.get(tid)) is not r and o != r}
        gone = old.keys() - new.keys()
        self._marks -= gone
        self._apply_changes(new, changed, gone)
        return changed | gone

    def upsert_rows(self, rows: Iterable[QueueRow]) -> set[str]:
        """Insert or replace the given rows; returns the ids that actually changed."""
        by_id = dict(self._by_id)
        changed = set()
        for r in rows:
            if (o := by_id.get(r.thread_id)) is not r and o != r:
                by_id[r.thread_id] = r
                changed.add(r.thread_id)
        self._apply_changes(by_id, changed, set())
        return changed

    def remove_rows(self, thread_ids: Iterable[str]) -> set[str]:
        """Remove rows (deleted on the server); their marks go too. Returns the ids removed."""
        gone = {tid for tid in thread_ids if tid in self._by_id}
        by_id = {t: r for t, r in self._by_id.items() if t not in gone} if gone else self._by_id
        self._marks -= gone
        self._apply_changes(by_id, set(), gone)
        return gone

    def set_urgency(self, urgency: UrgencyFn | None) -> None:
        """Plug in (or remove) the triage rules' score; re-sorts everything."""
        self._urgency = urgency
        self._keys = {}
        self._compute_keys(self._by_id)
        self._resort()

    _INCREMENTAL_LIMIT = 200
    """Up to this many changed rows are moved one by one (bisect); more re-sort everything."""

    def _apply_changes(self, by_id: dict[str, QueueRow], changed: set[str],
                       gone: set[str]) -> None:
        if not changed and not gone:
            return
        old_keys = self._keys
        if len(changed) + len(gone) > self._INCREMENTAL_LIMIT:
            for tid in gone:
                old_keys.pop(tid, None)
            self._by_id = by_id
            self._compute_keys(changed)
            self._resort()
            return
        ks, rows, ids, cats, owners = self._ks, self._rows, self._ids, self._cats, self._owners
        cols = (ks, rows, ids, cats, owners)
        for tid in changed | gone:
            k = old_keys.pop(tid, None)
            if k is not None:
                p = bisect_left(ks, k)
                for col in cols:
                    del col[p]
        self._by_id = by_id
        self._compute_keys(changed)
        for tid in changed:
            k = old_keys[tid]
            r = by_id[tid]
            p = bisect_left(ks, k)
            ks.insert(p, k)
            rows.insert(p, r)
            ids.insert(p, tid)
            cats.insert(p, row_category(r))
            owners.insert(p, r.owner_ref)
        self._data_changed()

    def _compute_keys(self, thread_ids: Iterable[str]) -> None:
        by_id, keys = self._by_id, self._keys
        urgency = self._urgency
        ranks = _PRIORITY_RANKS
        closed_s, closed_b = CLOSED_STATUSES, CLOSED_BUSINESS_STATUSES
        inf = _INF
        for tid in thread_ids:
            r = by_id[tid]
            rank = ranks.get(r.priority, 0)
            rules_rank = ranks.get(r.rules_priority, 0)
            if rules_rank > rank:
                rank = rules_rank
            score = float(urgency(tid)) if urgency is not None else 0.0
            if score > 0 and rank < _URGENT_RANK:
                rank = _URGENT_RANK
            age = r.last_message_at or r.created
            due = r.due
            keys[tid] = (r.status in closed_s or r.business_status in closed_b, -rank, -score,
                         inf if due is None else due.timestamp(),
                         inf if age is None else age.timestamp(), tid)

    def _resort(self) -> None:
        self._ks = ks = sorted(self._keys.values())
        by_id = self._by_id
        self._ids = ids = [k[5] for k in ks]
        self._rows = rows = [by_id[t] for t in ids]
        self._cats = [row_category(r) for r in rows]
        self._owners = [r.owner_ref for r in rows]
        self._data_changed()

    def _data_changed(self) -> None:
        self._n_open = bisect_left(self._ks, (True,))
        self._by_cat = {}
        self._pos = None
        self.version += 1
        self._apply_filter()

    # --- filter ---------------------------------------------------------------------------
    @property
    def filter(self) -> QueueFilter:
        return self._filter

    def set_filter(self, flt: QueueFilter | None = None, /, **changes: object) -> None:
        """Set the filter, or change some of its fields: ``view.set_filter(scope="refill")``.

        ``search_ids`` may be any iterable of thread ids (kept as a frozenset) or None.
        """
        flt = flt or self._filter
        if changes.get("search_ids") is not None:
            changes["search_ids"] = frozenset(changes["search_ids"])  # type: ignore[arg-type]
        if changes:
            flt = dataclasses.replace(flt, **changes)  # type: ignore[arg-type]
        self._filter = flt
        self._apply_filter()

    def _category_positions(self, cat: str | None, open_only: bool) -> list[int]:
        key = (cat, open_only)
        lst = self._by_cat.get(key)
        if lst is None:
            cats = self._cats
            stop = self._n_open if open_only else len(cats)
            lst = self._by_cat[key] = list(
                compress(range(stop), map(operator.eq, islice(cats, stop), repeat(cat))))
        return lst

    def _apply_filter(self) -> None:
        f = self._filter
        scope = f.scope
        n = self._n_open if f.open_only else len(self._ks)
        cat = None if scope == UNCATEGORISED else scope
        if scope == ALL or scope == MINE:
            base: Sequence[int] = range(n)
        else:
            base = self._category_positions(cat, f.open_only)
        search = f.search_ids
        owners, user = self._owners, f.user_ref
        if search is None:
            if scope == MINE:
                base = [i for i in base if owners[i] == user]
            self._index = base
            return
        ids = self._ids
        if len(search) * 8 < len(base):
            # A narrow search: look its ids up, sort those positions, then re-check the scope.
            if self._pos is None:
                self._pos = dict(zip(ids, range(len(ids))))
            pos = self._pos
            cand = sorted(p for t in search if (p := pos.get(t, n)) < n)
            if scope == MINE:
                cand = [i for i in cand if owners[i] == user]
            elif scope != ALL:
                cats = self._cats
                cand = [i for i in cand if cats[i] == cat]
            self._index = cand
        elif scope == MINE:
            self._index = [i for i in base if owners[i] == user and ids[i] in search]
        elif isinstance(base, range):
            self._index = list(compress(base, map(search.__contains__, islice(ids, len(base)))))
        else:
            self._index = [i for i in base if ids[i] in search]

    def _position(self, thread_id: str) -> int | None:
        """Sorted position of a thread id (bisect on its key), or None."""
        k = self._keys.get(thread_id)
        if k is None:
            return None
        return bisect_left(self._ks, k)

    # --- reading --------------------------------------------------------------------------
    @property
    def rows(self) -> Sequence[QueueRow]:
        """Every row in sorted order (do not mutate)."""
        return self._rows

    @property
    def index(self) -> Sequence[int]:
        """The filtered view: ascending positions into :attr:`rows` (do not mutate)."""
        return self._index

    @property
    def total(self) -> int:
        return len(self._rows)

    def __len__(self) -> int:
        return len(self._index)

    def row(self, i: int) -> QueueRow:
        """The ``i``-th row of the filtered view."""
        return self._rows[self._index[i]]

    def thread_id(self, i: int) -> str:
        return self._ids[self._index[i]]

    def thread_ids(self, start: int, stop: int) -> list[str]:
        ids = self._ids
        return [ids[p] for p in self._index[start:stop]]

    def get(self, thread_id: str) -> QueueRow | None:
        return self._by_id.get(thread_id)

    def __contains__(self, thread_id: object) -> bool:
        return thread_id in self._by_id

    def find(self, thread_id: str) -> int | None:
        """Position of ``thread_id`` in the filtered view, or None if filtered out or absent."""
        p = self._position(thread_id)
        if p is None:
            return None
        index = self._index
        i = bisect_left(index, p)
        return i if i < len(index) and index[i] == p else None

    def nearest(self, thread_id: str) -> int | None:
        """Position of ``thread_id`` or, when it is filtered out, of the row that now sits where
        it would be (the next one in sort order, else the last). None if the view is empty or
        the thread is not in the data at all."""
        p = self._position(thread_id)
        if p is None or not self._index:
            return None
        return min(bisect_left(self._index, p), len(self._index) - 1)

    def due_state(self, row: QueueRow, now: datetime | None = None) -> DueState:
        if row.due is None or not row_is_open(row):
            return DueState.NONE
        now_ts = (now or self.clock()).timestamp()
        due = row.due.timestamp()
        if due < now_ts:
            return DueState.OVERDUE
        if due < now_ts + self.due_soon.total_seconds():
            return DueState.DUE_SOON
        return DueState.LATER

    def info(self, i: int, now: datetime | None = None) -> RowInfo:
        """Everything the list draws for the ``i``-th row of the filtered view."""
        p = self._index[i]
        k = self._ks[p]
        row = self._rows[p]
        return RowInfo(row=row, rank=-k[1], score=-k[2], is_open=not k[0],
                       due_state=self.due_state(row, now), marked=k[5] in self._marks)

    def rank(self, thread_id: str) -> int:
        """Effective urgency rank of a thread (0 if unknown)."""
        k = self._keys.get(thread_id)
        return 0 if k is None else -k[1]

    def is_urgent(self, thread_id: str) -> bool:
        return self.rank(thread_id) >= _URGENT_RANK

    def counts(self, now: datetime | None = None, *, user_ref: str | None = None
               ) -> dict[str, CategoryCounts]:
        """Open / urgent / overdue counts per category in one pass over the open rows.

        Keys: each category value present, :data:`UNCATEGORISED`, :data:`ALL`, and
        :data:`MINE` when ``user_ref`` is given.
        """
        now_ts = (now or self.clock()).timestamp()
        per: dict[str | None, list[int]] = {}
        mine = [0, 0, 0]
        n = self._n_open
        for k, cat, owner in zip(self._ks[:n], self._cats[:n], self._owners[:n]):
            c = per.get(cat)
            if c is None:
                c = per[cat] = [0, 0, 0]
            urgent = k[1] <= -_URGENT_RANK
            overdue = k[3] < now_ts
            c[0] += 1
            c[1] += urgent
            c[2] += overdue
            if owner is not None and owner == user_ref:
                mine[0] += 1
                mine[1] += urgent
                mine[2] += overdue
        out = {(cat or UNCATEGORISED): CategoryCounts(*c) for cat, c in per.items()}
        out[ALL] = CategoryCounts(*(sum(c[j] for c in per.values()) for j in range(3)))
        if user_ref is not None:
            out[MINE] = CategoryCounts(*mine)
        return out

    # --- marks ----------------------------------------------------------------------------
    @property
    def marks(self) -> frozenset[str]:
        return frozenset(self._marks)

    @property
    def mark_count(self) -> int:
        return len(self._marks)

    def is_marked(self, thread_id: str) -> bool:
        return thread_id in self._marks

    def toggle_mark(self, thread_id: str) -> bool:
        """Toggle; returns the new state."""
        if thread_id in self._marks:
            self._marks.discard(thread_id)
            return False
        if thread_id in self._by_id:
            self._marks.add(thread_id)
            return True
        return False

    def mark(self, thread_ids: Iterable[str]) -> None:
        self._marks.update(t for t in thread_ids if t in self._by_id)

    def unmark(self, thread_ids: Iterable[str]) -> None:
        self._marks.difference_update(thread_ids)

    def mark_all_in_view(self) -> int:
        """Mark every row of the filtered view; returns the number of marks."""
        ids = self._ids
        self._marks.update([ids[p] for p in self._index])
        return len(self._marks)

    def clear_marks(self) -> None:
        self._marks.clear()

    def marked_in_view(self) -> list[str]:
        """Marked thread ids of the filtered view, in view order."""
        ids, marks = self._ids, self._marks
        return [ids[p] for p in self._index if ids[p] in marks]
