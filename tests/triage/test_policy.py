"""Routing, business-hours due times, due states and the queue sort key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from triage_tui.domain.codes import Category, Pool, Priority
from triage_tui.domain.triage import (
    add_business_time,
    business_time_between,
    default_rules,
    due_at,
    due_state,
    queue_sort_key,
    route,
    rules_from_texts,
)
from triage_tui.domain.triage.rules import DEFAULT_FILES, _default_texts

NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def rules():
    return default_rules()


def ny(*args):
    return datetime(*args, tzinfo=NY)


def test_route(rules):
    assert route(rules, Category.REFILL, False) is Pool.PHARMACY
    assert route(rules, "appointment", False) is Pool.SCHEDULING
    assert route(rules, Category.ADMIN, False) is Pool.FRONT_DESK
    assert route(rules, Category.REFILL, True) is Pool.PROVIDER


def test_within_a_day(rules):
    cal = rules.calendar
    # Tuesday 2026-03-10 09:00 + 4h -> 13:00
    assert add_business_time(cal, ny(2026, 3, 10, 9), timedelta(hours=4)) == ny(2026, 3, 10, 13)


def test_across_night(rules):
    cal = rules.calendar
    # Tuesday 15:00 + 4h: 2h today, 2h from Wednesday 08:00
    assert add_business_time(cal, ny(2026, 3, 10, 15), timedelta(hours=4)) == ny(2026, 3, 11, 10)


def test_received_after_hours_and_weekend(rules):
    cal = rules.calendar
    # Friday 2026-03-13 20:00 + 1h -> Monday 09:00
    assert add_business_time(cal, ny(2026, 3, 13, 20), timedelta(hours=1)) == ny(2026, 3, 16, 9)
    # Saturday, zero time -> Monday opening
    assert add_business_time(cal, ny(2026, 3, 14, 11), timedelta(0)) == ny(2026, 3, 16, 8)


def test_holiday_skipped(rules):
    cal = rules.calendar
    # Wednesday 2026-12-24 16:00 + 2h: 1h on the 24th, the 25th (Fri) is a holiday, weekend -> Mon 28th 09:00
    assert add_business_time(cal, ny(2026, 12, 24, 16), timedelta(hours=2)) == ny(2026, 12, 28, 9)


def test_timezone_and_dst(rules):
    cal = rules.calendar
    # 2026-03-06 (Fri) 21:00 UTC = 16:00 New York (EST); +3h -> Monday 2026-03-09 10:00 EDT (after DST)
    got = add_business_time(cal, datetime(2026, 3, 6, 21, tzinfo=UTC), timedelta(hours=3))
    assert got == ny(2026, 3, 9, 10)
    assert got.utcoffset() == timedelta(hours=-4)
    # naive datetimes are UTC
    assert add_business_time(cal, datetime(2026, 3, 6, 21), timedelta(hours=3)) == got


def test_due_at_uses_policy(rules):
    rec = ny(2026, 3, 10, 9)
    assert due_at(rules, Category.REFILL, Priority.ROUTINE, rec) == ny(2026, 3, 11, 16)  # 16h: 8 + 8
    assert due_at(rules, Category.CLINICAL, Priority.ROUTINE, rec) == ny(2026, 3, 10, 17)  # 8h
    assert due_at(rules, Category.REFILL, Priority.STAT, rec) == ny(2026, 3, 10, 9, 15)
    assert due_at(rules, None, "asap", rec) == ny(2026, 3, 10, 10)


def test_business_time_between(rules):
    cal = rules.calendar
    assert business_time_between(cal, ny(2026, 3, 13, 16), ny(2026, 3, 16, 9)) == timedelta(hours=2)
    assert business_time_between(cal, ny(2026, 3, 16, 9), ny(2026, 3, 13, 16)) == -timedelta(hours=2)


def test_split_hours_and_custom_calendar():
    texts = _default_texts() + [
        (
            "rules.toml",
            '[calendar]\ntimezone = "Europe/Madrid"\nholidays = []\n'
            '[calendar.hours]\nmon = ["09:00-13:00", "15:00-19:00"]\ntue = "09:00-13:00"\n'
            "wed = []\nthu = []\nfri = []\n",
        )
    ]
    cal = rules_from_texts(texts).calendar
    mad = ZoneInfo("Europe/Madrid")
    start = datetime(2026, 3, 9, 12, tzinfo=mad)  # Monday
    assert add_business_time(cal, start, timedelta(hours=2)) == datetime(2026, 3, 9, 16, tzinfo=mad)
    assert add_business_time(cal, start, timedelta(hours=6)) == datetime(2026, 3, 10, 10, tzinfo=mad)
    assert add_business_time(cal, start, timedelta(hours=9)) == datetime(2026, 3, 10, 13, tzinfo=mad)
    assert add_business_time(cal, start, timedelta(hours=10)) == datetime(2026, 3, 16, 10, tzinfo=mad)


def test_due_state():
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert due_state(now - timedelta(minutes=1), now) == "overdue"
    assert due_state(now, now) == "overdue"
    assert due_state(now + timedelta(minutes=30), now) == "due_soon"
    assert due_state(now + timedelta(hours=3), now) == "ok"
    assert due_state(None, now) == "ok"
    assert due_state(now + timedelta(hours=3), now, soon=timedelta(hours=4)) == "due_soon"


def test_due_state_in_business_time(rules):
    # Friday 16:30, due Monday 08:20: 50 business minutes left -> due soon
    now, due = ny(2026, 3, 13, 16, 30), ny(2026, 3, 16, 8, 20)
    assert due_state(due, now) == "ok"
    assert due_state(due, now, calendar=rules.calendar) == "due_soon"


def test_queue_sort_key_orders_priority_then_state():
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    rows = {
        "routine-ok": ("routine", now + timedelta(hours=5)),
        "routine-overdue": ("routine", now - timedelta(hours=1)),
        "routine-soon": ("routine", now + timedelta(minutes=20)),
        "routine-none": ("routine", None),
        "stat-ok": ("stat", now + timedelta(hours=5)),
        "urgent-overdue": ("urgent", now - timedelta(hours=2)),
    }
    order = sorted(rows, key=lambda k: queue_sort_key(rows[k][0], rows[k][1], now, tiebreak=k))
    assert order == ["stat-ok", "urgent-overdue", "routine-overdue", "routine-soon", "routine-ok", "routine-none"]


def test_default_files_listed():
    assert DEFAULT_FILES == ("policy.toml", "en.toml", "es.toml")
