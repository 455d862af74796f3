"""Inbox analytics: does the practice keep its response-time promises? (pure Python, no I/O)

Input is plain metadata, never message text: one :class:`ThreadFact` per thread with its
category, pool, priority, task state and the send times of its messages (and who sent each).
``cache.reports`` reads these from SQLite without decrypting anything.

Figures (all in :class:`Report`, computed by :func:`compute`):

* **volume**: patient messages per local day of the clinic, by category and by pool;
* **response**: time from the first patient message of a thread to the first staff message
  after it, per category, in *business hours* of the clinic calendar: median and 90th
  percentile (nearest rank), for threads whose first patient message is in the window;
* **breaches**: those threads whose answer took longer than the policy's response time for
  their (category, priority), or which are still unanswered past it; by category and by pool;
* **backlog**: open threads now, by pool and by age (wall-clock time since the patient
  started waiting: the first patient message after the last staff message);
* **staff**: staff messages (replies) per sender per day.

Times are epoch seconds (UTC floats) for speed; days are the clinic's local dates.
Definitions that a reader could guess differently are spelled out in each function.
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import NamedTuple
from zoneinfo import ZoneInfo

from triage_tui.domain.triage import policy
from triage_tui.domain.triage.rules import ClinicCalendar, Rules

__all__ = [
    "AGE_BUCKETS",
    "NONE",
    "RANGES",
    "ROW_FIELDS",
    "Backlog",
    "BreachCount",
    "Breaches",
    "BusinessClock",
    "MessageFact",
    "Report",
    "ResponseStats",
    "ThreadFact",
    "Volume",
    "Window",
    "backlog",
    "breaches",
    "compute",
    "is_open",
    "nearest_rank",
    "paused_gc",
    "policy_allowance",
    "report_json",
    "report_rows",
    "response_times",
    "staff_replies",
    "volume",
]

RANGES = (7, 30, 90)
"""Date ranges offered by the screen and accepted by ``report --since``."""
NONE = "(none)"
"""Label of a missing category or pool."""
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 day", 86400.0),
    ("1-3 days", 3 * 86400.0),
    ("3-7 days", 7 * 86400.0),
    ("> 7 days", math.inf),
)
"""Backlog age buckets: (label, upper bound in seconds, exclusive)."""
CLOSED_TASK = frozenset({"completed", "cancelled", "entered-in-error", "rejected", "failed"})


# --------------------------------------------------------------------------- input rows
class MessageFact(NamedTuple):
    """One message. Tuples, not dataclasses: a report unpacks 100k of them, and the cache
    builds them straight from SQLite rows (``from_patient`` may then be 0/1)."""

    sent: float
    """Epoch seconds (UTC)."""
    from_patient: bool
    sender: str | None = None
    """``Practitioner/ID`` for staff messages (``Patient/ID`` or None otherwise)."""
    thread_id: str = ""


class ThreadFact(NamedTuple):
    """One thread's plain metadata: what the cache keeps unencrypted."""

    thread_id: str
    category: str | None
    pool: str | None
    priority: str = "routine"
    created: float | None = None
    """Epoch seconds (UTC)."""
    status: str = "in-progress"
    """Header status (Communication.status)."""
    task_status: str | None = None
    business_status: str | None = None
    owner: str | None = None
    due: float | None = None
    messages: tuple[MessageFact, ...] = ()
    """Oldest first."""


# --------------------------------------------------------------------------- time helpers
@dataclass(frozen=True, slots=True)
class Window:
    """The last ``days`` local days of the clinic, today included, up to ``now``."""

    days: tuple[date, ...]
    starts: tuple[float, ...]
    """Epoch of each day's local midnight."""
    end: float
    """``now`` (epoch)."""

    @property
    def start(self) -> float:
        return self.starts[0]

    @classmethod
    def last_days(cls, now: datetime, days: int, tz: ZoneInfo) -> Window:
        if days < 1:
            raise ValueError("days must be at least 1")
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        today = now.astimezone(tz).date()
        ds = tuple(today - timedelta(days=days - 1 - i) for i in range(days))
        starts = tuple(datetime.combine(d, time(), tzinfo=tz).timestamp() for d in ds)
        return cls(ds, starts, now.timestamp())

    def day_index(self, t: float) -> int:
        """Index of the day holding ``t``, or -1 outside the window."""
        if t < self.starts[0] or t > self.end:
            return -1
        return bisect_right(self.starts, t) - 1


class BusinessClock:
    """Open clinic time between two instants, in O(log n): a cumulative table of the open
    intervals of a range of days, built once from the triage policy's calendar
    (:mod:`triage_tui.domain.triage.policy`). Agrees with ``policy.business_time_between``
    inside the range; instants outside it are clamped to it (build it wide enough)."""

    def __init__(self, calendar: ClinicCalendar, lo: float, hi: float) -> None:
        tz = calendar.timezone
        day = datetime.fromtimestamp(lo, tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(hi, tz).date() + timedelta(days=1)
        starts: list[float] = []
        ends: list[float] = []
        cum: list[float] = []
        total = 0.0
        while day <= last:
            for a, b in policy._open_intervals(calendar, day):
                sa, sb = a.timestamp(), b.timestamp()
                if starts and sa < ends[-1]:  # overlapping config: merge
                    sa = ends[-1]
                if sb <= sa:
                    continue
                starts.append(sa)
                ends.append(sb)
                cum.append(total)
                total += sb - sa
            day += timedelta(days=1)
        self._starts, self._ends, self._cum, self._total = starts, ends, cum, total

    def open_before(self, t: float) -> float:
        """Open seconds from the start of the table to ``t``."""
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            return 0.0
        return self._cum[i] + min(t, self._ends[i]) - self._starts[i]

    def seconds(self, a: float, b: float) -> float:
        """Open seconds from ``a`` to ``b`` (negative when ``b < a``)."""
        return self.open_before(b) - self.open_before(a)

    def hours(self, a: float, b: float) -> float:
        return self.seconds(a, b) / 3600.0


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building or scanning 100k small tuples (they
    hold no cycles; each collection would walk them all: a third of the time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def nearest_rank(sorted_values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile by nearest rank: the smallest value with at least ``p`` % of
    the values at or below it (``p=90`` of 10 values is the 9th). None when empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    return sorted_values[max(1, math.ceil(p / 100.0 * n)) - 1]


def _cat(c: str | None) -> str:
    return c or NONE


def _first_exchange(msgs: Sequence[MessageFact]) -> tuple[float | None, float | None]:
    """(first patient message, first staff message at or after it)."""
    first = None
    for sent, from_patient, _, _ in msgs:
        if first is None:
            if from_patient:
                first = sent
        elif not from_patient and sent >= first:
            return first, sent
    return first, None


# --------------------------------------------------------------------------- figures
@dataclass(frozen=True, slots=True)
class Volume:
    """Patient messages per day (``Window.days`` order)."""

    total: tuple[int, ...]
    by_category: dict[str, tuple[int, ...]]
    by_pool: dict[str, tuple[int, ...]]


def volume(threads: Iterable[ThreadFact], win: Window) -> Volume:
    """Patient messages sent in the window, per local day, by the thread's category and pool.

    Every patient message counts (a follow-up in an old thread is work arriving too)."""
    return _daily(threads, win)[0]


def staff_replies(threads: Iterable[ThreadFact], win: Window) -> dict[str, tuple[int, ...]]:
    """Staff messages sent in the window, per sender (``Practitioner/ID``) per local day.
    Busiest first (then by reference)."""
    return _daily(threads, win)[1]


def _daily(threads: Iterable[ThreadFact],
           win: Window) -> tuple[Volume, dict[str, tuple[int, ...]]]:
    """One pass over the messages for both per-day figures."""
    n = len(win.days)
    total = [0] * n
    cats: dict[str, list[int]] = {}
    pools: dict[str, list[int]] = {}
    staff: dict[str, list[int]] = {}
    starts, lo, hi = win.starts, win.starts[0], win.end
    for t in threads:
        c = p = None
        for sent, from_patient, sender, _ in t.messages:
            if sent < lo or sent > hi:
                continue
            i = bisect_right(starts, sent) - 1
            if from_patient:
                if c is None:
                    c = cats.get(t.category or NONE)
                    if c is None:
                        c = cats[t.category or NONE] = [0] * n
                    p = pools.get(t.pool or NONE)
                    if p is None:
                        p = pools[t.pool or NONE] = [0] * n
                total[i] += 1
                c[i] += 1
                p[i] += 1  # type: ignore[index]
            else:
                row = staff.get(sender or NONE)
                if row is None:
                    row = staff[sender or NONE] = [0] * n
                row[i] += 1
    vol = Volume(tuple(total), {k: tuple(v) for k, v in sorted(cats.items())},
                 {k: tuple(v) for k, v in sorted(pools.items())})
    by_staff = {k: tuple(v) for k, v in sorted(staff.items(), key=lambda kv: (-sum(kv[1]), kv[0]))}
    return vol, by_staff


@dataclass(frozen=True, slots=True)
class ResponseStats:
    threads: int
    """Threads whose first patient message is in the window."""
    answered: int
    median_h: float | None
    """Business hours to the first staff response, over the answered threads."""
    p90_h: float | None


def _stats(hours: list[float], threads: int) -> ResponseStats:
    hours.sort()
    return ResponseStats(threads, len(hours), median(hours) if hours else None,
                         nearest_rank(hours, 90))


Exchange = tuple["ThreadFact", "float | None", float]
"""(thread, business hours to the first reply or None, business hours waited so far)."""


def _exchanges(threads: Iterable[ThreadFact], win: Window, clock: BusinessClock) -> list[Exchange]:
    """Threads whose first patient message is in the window, with their times (computed once
    for :func:`response_times` and :func:`breaches`)."""
    out: list[Exchange] = []
    lo, hi = win.start, win.end
    open_before = clock.open_before
    now_open = open_before(hi)
    for t in threads:
        first, reply = _first_exchange(t.messages)
        if first is None or first < lo or first > hi:
            continue
        a = open_before(first)
        if reply is None:
            out.append((t, None, (now_open - a) / 3600.0))
        else:
            h = (open_before(reply) - a) / 3600.0
            out.append((t, h, h))
    return out


def response_times(threads: Iterable[ThreadFact], win: Window,
                   clock: BusinessClock) -> dict[str, ResponseStats]:
    """Per category (and ``"all"``): business hours from a thread's first patient message to
    the first staff message at or after it, for threads whose first patient message falls in
    the window. Unanswered threads count in ``threads`` but not in the times."""
    return _response(_exchanges(threads, win, clock))


def _response(exchanges: list[Exchange]) -> dict[str, ResponseStats]:
    hours: dict[str, list[float]] = {}
    every: list[float] = []
    for t, h, _ in exchanges:
        hs = hours.get(t.category or NONE)
        if hs is None:
            hs = hours[t.category or NONE] = []
        hs.append(h)  # type: ignore[arg-type]
    out = {}
    for c in sorted(hours):
        answered = [h for h in hours[c] if h is not None]
        every += answered
        out[c] = _stats(answered, len(hours[c]))
    out["all"] = _stats(every, len(exchanges))
    return out


@dataclass(frozen=True, slots=True)
class BreachCount:
    threads: int
    breached: int
    """Answered late, or unanswered and already past the response time."""
    open_breached: int
    """Of ``breached``: still unanswered."""

    @property
    def rate(self) -> float | None:
        return self.breached / self.threads if self.threads else None


@dataclass(frozen=True, slots=True)
class Breaches:
    by_category: dict[str, BreachCount]
    by_pool: dict[str, BreachCount]
    total: BreachCount


Allowance = Callable[[str | None, str], float]
"""(category, priority) -> allowed business hours."""


def policy_allowance(rules: Rules) -> Allowance:
    """The triage policy's response time, in business hours (cached per key)."""
    memo: dict[tuple[str | None, str], float] = {}

    def allowed(category: str | None, priority: str) -> float:
        key = (category, priority)
        v = memo.get(key)
        if v is None:
            try:
                v = rules.response_time_for(category, priority).total_seconds() / 3600.0
            except ValueError:  # unknown priority code from a server: treat as routine
                v = rules.response_time_for(category, "routine").total_seconds() / 3600.0
            memo[key] = v
        return v

    return allowed


def breaches(threads: Iterable[ThreadFact], win: Window, clock: BusinessClock,
             allowance: Allowance) -> Breaches:
    """Threads whose first patient message is in the window, and how many of them broke the
    response-time policy of their (category, priority): answered after more business hours
    than allowed, or not answered and more than the allowance has passed by ``win.end``.
    Exactly at the allowance is on time."""
    return _breaches(_exchanges(threads, win, clock), allowance)


def _breaches(exchanges: list[Exchange], allowance: Allowance) -> Breaches:
    cats: dict[str, list[int]] = {}
    pools: dict[str, list[int]] = {}
    tot = [0, 0, 0]
    for t, reply_h, waited in exchanges:
        late = waited > allowance(t.category, t.priority) + 1e-9
        still_open = late and reply_h is None
        c = cats.get(t.category or NONE)
        if c is None:
            c = cats[t.category or NONE] = [0, 0, 0]
        p = pools.get(t.pool or NONE)
        if p is None:
            p = pools[t.pool or NONE] = [0, 0, 0]
        for acc in (c, p, tot):
            acc[0] += 1
            acc[1] += late
            acc[2] += still_open
    return Breaches({k: BreachCount(*v) for k, v in sorted(cats.items())},
                    {k: BreachCount(*v) for k, v in sorted(pools.items())}, BreachCount(*tot))


def is_open(t: ThreadFact) -> bool:
    """Open work: a task that is neither closed nor done; without a task, a header still in
    progress whose last message is from the patient."""
    if t.task_status is not None or t.business_status is not None:
        return t.task_status not in CLOSED_TASK and t.business_status != "done"
    return t.status == "in-progress" and bool(t.messages) and bool(t.messages[-1][1])


def waiting_since(t: ThreadFact) -> float | None:
    """Since when the patient waits: the first patient message after the last staff message;
    else the thread's creation (or its first message)."""
    since = None
    for sent, from_patient, _, _ in reversed(t.messages):
        if not from_patient:
            break
        since = sent
    if since is None:
        since = t.created if t.created is not None else (
            t.messages[0].sent if t.messages else None)
    return since


@dataclass(frozen=True, slots=True)
class Backlog:
    """Open threads at ``now``: counts per age bucket (:data:`AGE_BUCKETS` order)."""

    by_pool: dict[str, tuple[int, ...]]
    total: tuple[int, ...]
    unassigned: int
    """Open threads nobody has claimed."""


def backlog(threads: Iterable[ThreadFact], now: float) -> Backlog:
    bounds = [b for _, b in AGE_BUCKETS]
    nb = len(bounds)
    pools: dict[str, list[int]] = {}
    total = [0] * nb
    unowned = 0
    for t in threads:
        if not is_open(t):
            continue
        since = waiting_since(t)
        age = 0.0 if since is None else max(0.0, now - since)
        i = 0
        while age >= bounds[i]:
            i += 1
        pools.setdefault(_cat(t.pool), [0] * nb)[i] += 1
        total[i] += 1
        unowned += t.owner is None
    return Backlog({k: tuple(v) for k, v in sorted(pools.items())}, tuple(total), unowned)


# --------------------------------------------------------------------------- the whole report
@dataclass(frozen=True, slots=True)
class Report:
    window: Window
    volume: Volume
    response: dict[str, ResponseStats]
    breaches: Breaches
    backlog: Backlog
    staff: dict[str, tuple[int, ...]]
    staff_names: dict[str, str] = field(default_factory=dict)
    """``Practitioner/ID`` -> display name (filled by the caller from cached Practitioners)."""

    @property
    def days(self) -> tuple[date, ...]:
        return self.window.days

    def staff_name(self, ref: str) -> str:
        return self.staff_names.get(ref) or ref


def compute(threads: Sequence[ThreadFact], *, now: datetime, days: int, rules: Rules,
            staff_names: dict[str, str] | None = None,
            allowance: Allowance | None = None) -> Report:
    """Every figure over the last ``days`` local days of the clinic (``rules.calendar``)."""
    with paused_gc():
        return _compute(threads, now, days, rules, staff_names, allowance)


def _compute(threads: Sequence[ThreadFact], now: datetime, days: int, rules: Rules,
             staff_names: dict[str, str] | None, allowance: Allowance | None) -> Report:
    cal = rules.calendar
    win = Window.last_days(now, days, cal.timezone)
    clock = BusinessClock(cal, win.start, win.end)  # response times start in the window
    allowed = allowance or policy_allowance(rules)
    vol, staff = _daily(threads, win)
    exchanges = _exchanges(threads, win, clock)
    return Report(
        window=win,
        volume=vol,
        response=_response(exchanges),
        breaches=_breaches(exchanges, allowed),
        backlog=backlog(threads, win.end),
        staff=staff,
        staff_names=dict(staff_names or {}),
    )


# --------------------------------------------------------------------------- flat rows
ROW_FIELDS = ("figure", "group", "key", "day", "value", "unit")


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def report_rows(rep: Report) -> list[dict[str, object]]:
    """Every number of the report as flat rows (:data:`ROW_FIELDS`): the CSV of
    ``triage-tui report`` and the screen's table show exactly these. Summary figures first
    (response times, breaches, backlog), then the daily series (volume, replies)."""
    rows: list[dict[str, object]] = []

    def add(figure: str, group: str, key: str, day: str, value: object, unit: str) -> None:
        rows.append({"figure": figure, "group": group, "key": key, "day": day, "value": value,
                     "unit": unit})

    days = [d.isoformat() for d in rep.days]
    for key, s in rep.response.items():
        group = "all" if key == "all" else "category"
        add("response_threads", group, key, "", s.threads, "threads")
        add("response_answered", group, key, "", s.answered, "threads")
        add("response_median", group, key, "", _r(s.median_h), "business hours")
        add("response_p90", group, key, "", _r(s.p90_h), "business hours")
    b = rep.breaches
    for group, table in (("category", b.by_category), ("pool", b.by_pool),
                         ("all", {"all": b.total})):
        for key, c in table.items():
            add("breach_threads", group, key, "", c.threads, "threads")
            add("breaches", group, key, "", c.breached, "threads")
            add("breaches_open", group, key, "", c.open_breached, "threads")
    labels = [label for label, _ in AGE_BUCKETS]
    for key, counts in (*rep.backlog.by_pool.items(), ("all", rep.backlog.total)):
        for label, v in zip(labels, counts, strict=True):
            add("backlog", "all" if key == "all" else "pool", key, label, v, "threads")
    add("backlog_unassigned", "all", "all", "", rep.backlog.unassigned, "threads")
    for group, table in (("category", rep.volume.by_category), ("pool", rep.volume.by_pool)):
        for key, counts in table.items():
            for d, v in zip(days, counts, strict=True):
                add("volume", group, key, d, v, "messages")
    for d, v in zip(days, rep.volume.total, strict=True):
        add("volume", "all", "all", d, v, "messages")
    for ref, counts in rep.staff.items():
        for d, v in zip(days, counts, strict=True):
            add("replies", "staff", rep.staff_name(ref), d, v, "messages")
    return rows


def report_json(rep: Report) -> dict[str, object]:
    """The report as nested plain data (``triage-tui report --format json``)."""
    days = [d.isoformat() for d in rep.days]
    labels = [label for label, _ in AGE_BUCKETS]

    def stats(s: ResponseStats) -> dict[str, object]:
        return {"threads": s.threads, "answered": s.answered, "median_business_hours":
                _r(s.median_h), "p90_business_hours": _r(s.p90_h)}

    def bc(c: BreachCount) -> dict[str, object]:
        return {"threads": c.threads, "breached": c.breached, "open_breached": c.open_breached}

    return {
        "days": days,
        "since": days[0],
        "until": datetime.fromtimestamp(rep.window.end, UTC).isoformat(),
        "volume": {"total": list(rep.volume.total),
                   "by_category": {k: list(v) for k, v in rep.volume.by_category.items()},
                   "by_pool": {k: list(v) for k, v in rep.volume.by_pool.items()}},
        "response": {k: stats(s) for k, s in rep.response.items()},
        "breaches": {"by_category": {k: bc(c) for k, c in rep.breaches.by_category.items()},
                     "by_pool": {k: bc(c) for k, c in rep.breaches.by_pool.items()},
                     "total": bc(rep.breaches.total)},
        "backlog": {"age_buckets": labels,
                    "by_pool": {k: list(v) for k, v in rep.backlog.by_pool.items()},
                    "total": list(rep.backlog.total), "unassigned": rep.backlog.unassigned},
        "replies": {ref: {"name": rep.staff_name(ref), "per_day": list(v), "total": sum(v)}
                    for ref, v in rep.staff.items()},
    }
