"""Routing, response-time due dates in business hours, due states and the queue sort key.

Pure functions of the rules and the datetimes given (no clock reads: pass ``now``).
Naive datetimes are taken as UTC. Results are aware datetimes in the clinic's time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from triage_tui.domain.codes import Category, Pool, Priority
from triage_tui.domain.triage.rules import ClinicCalendar, Rules

__all__ = [
    "route",
    "due_at",
    "add_business_time",
    "business_time_between",
    "due_state",
    "queue_sort_key",
    "DueState",
    "DUE_SOON",
]

DueState = Literal["overdue", "due_soon", "ok"]
DUE_SOON = timedelta(hours=1)
"""Default warning margin of :func:`due_state`."""
_MAX_DAYS = 800  # a calendar that is closed longer than this is a configuration error


def route(rules: Rules, category: Category | str, urgent: bool) -> Pool:
    """The pool a thread goes to: the urgent pool (provider) when urgent, else by category."""
    if urgent:
        return rules.urgent_pool
    return rules.routing[Category(category)]


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _open_intervals(cal: ClinicCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """Open intervals of one local day, as UTC datetimes (DST-correct)."""
    if day in cal.holidays:
        return []
    out = []
    for start, end in cal.hours[day.weekday()]:
        a = datetime.combine(day, start, tzinfo=cal.timezone).astimezone(UTC)
        if end.hour == 23 and end.minute == 59 and end.second == 59:
            b = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=cal.timezone).astimezone(UTC)
        else:
            b = datetime.combine(day, end, tzinfo=cal.timezone).astimezone(UTC)
        out.append((a, b))
    return out


def add_business_time(cal: ClinicCalendar, start: datetime, amount: timedelta) -> datetime:
    """``start`` plus ``amount`` of open clinic time. Zero gives the next open moment."""
    cursor = _aware(start).astimezone(UTC)
    remaining = amount
    day = cursor.astimezone(cal.timezone).date()
    for _ in range(_MAX_DAYS):
        for a, b in _open_intervals(cal, day):
            s = max(a, cursor)
            if s > b or (s == b and remaining > timedelta(0)):
                continue
            avail = b - s
            if avail >= remaining:
                return (s + remaining).astimezone(cal.timezone)
            remaining -= avail
        day += timedelta(days=1)
    raise ValueError("the clinic calendar has no open hours in the next two years")


def business_time_between(cal: ClinicCalendar, start: datetime, end: datetime) -> timedelta:
    """Open clinic time from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    a, b = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
    if b < a:
        return -business_time_between(cal, end, start)
    total = timedelta(0)
    day = a.astimezone(cal.timezone).date()
    last = b.astimezone(cal.timezone).date()
    while day <= last:
        for s, e in _open_intervals(cal, day):
            lo, hi = max(s, a), min(e, b)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def due_at(rules: Rules, category: Category | str | None, priority: Priority | str, received: datetime) -> datetime:
    """When the answer is due: ``received`` plus the response time of (category, priority),
    counted in the clinic's business hours. Returned in the clinic's time zone."""
    return add_business_time(rules.calendar, received, rules.response_time_for(category, priority))


def due_state(
    due: datetime | None,
    now: datetime,
    *,
    soon: timedelta = DUE_SOON,
    calendar: ClinicCalendar | None = None,
) -> DueState:
    """``'overdue'`` once ``now >= due``; ``'due_soon'`` when at most ``soon`` is left (open
    clinic time when ``calendar`` is given, else wall-clock time); else ``'ok'``.
    No due date is ``'ok'``."""
    if due is None:
        return "ok"
    d, n = _aware(due), _aware(now)
    if n >= d:
        return "overdue"
    left = business_time_between(calendar, n, d) if calendar is not None else d - n
    return "due_soon" if left <= soon else "ok"


_STATE_ORDER = {"overdue": 0, "due_soon": 1, "ok": 2}
_FAR = datetime.max.replace(tzinfo=UTC).timestamp() - 86400


def queue_sort_key(
    priority: Priority | str | None,
    due: datetime | None,
    now: datetime,
    *,
    received: datetime | None = None,
    soon: timedelta = DUE_SOON,
    calendar: ClinicCalendar | None = None,
    tiebreak: str = "",
) -> tuple:
    """Sort key for the queue (ascending sort): higher priority first; within a priority,
    overdue, then due soon, then the rest; then earliest due; then oldest received; then
    ``tiebreak`` (a thread id) so the order is total and stable."""
    try:
        rank = Priority(priority).rank if priority else 0
    except ValueError:
        rank = 0
    state = due_state(due, now, soon=soon, calendar=calendar)
    due_ts = _aware(due).timestamp() if due is not None else _FAR
    rec_ts = _aware(received).timestamp() if received is not None else _FAR
    return (-rank, _STATE_ORDER[state], due_ts, rec_ts, tiebreak)
