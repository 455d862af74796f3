"""Block-character charts (pure functions) and the analytics modules' import hygiene."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

from triage_tui.widgets import charts as c


def test_bucket():
    assert c.bucket([1, 2, 3, 4, 5], 10) == ([1, 2, 3, 4, 5], 1)
    assert c.bucket([1, 2, 3, 4, 5], 2) == ([6, 9], 3)
    assert c.bucket([], 5) == ([], 1)


def test_hbars_scale_and_eighths():
    t = c.hbars([("a", 4, "4"), ("b", 1, "1"), ("c", 0, "0")], width=14)
    a, b, z = t.plain.split("\n")
    assert a == "a " + "█" * 9 + "  4"  # 14 - label - note - 3 spaces = 9 cells
    assert b == "a " .replace("a", "b") + "██▎" + " " * 6 + "  1"  # 9/4 cells = 2 2/8
    assert z == "c " + " " * 9 + "  0"
    rate = c.hbars([("x", 0.5, "")], width=13, scale=1.0).plain
    assert rate == "x " + "████▌" + "·" * 4 + "  "  # half of 9 cells, then the track


def test_a_small_value_stays_visible():
    t = c.hbars([("big", 1000, ""), ("tiny", 1, "")], width=20).plain.split("\n")
    assert t[1].strip() == "tiny ▏"


def test_range_bar_shows_median_then_p90():
    t = c.range_bars([("r", 2.0, 8.0, "n")], width=13).plain
    assert t == "r " + "██" + "░" * 6 + "  n"


def test_stacked_keeps_every_series():
    t = c.stacked_bars([("p", [1, 0, 0, 40], "41")], width=30).plain
    assert "░" in t and "█" in t and "▒" not in t


def test_column_chart_buckets_many_days():
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(90)]
    t = c.column_chart([1] * 90, days, width=40, height=3).plain
    assert "one column = 3 days" in t
    assert "01 Jan" in t and "31 Mar" in t
    few = c.column_chart([0, 2], days[:2], width=40, height=2).plain
    assert "We  1" in few and "Th  2" in few


def test_ascii_charts_are_ascii():
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(30)]
    parts = [
        c.column_chart(list(range(30)), days, 60, 4, c.ASCII),
        c.hbars([("a", 3, "3"), ("b", 1, "1")], 40, c.ASCII, scale=5),
        c.range_bars([("a", 1.0, 3.0, "x")], 40, c.ASCII),
        c.stacked_bars([("a", [1, 2, 3, 4], "10")], 40, c.ASCII),
    ]
    for p in parts:
        assert p.plain.isascii(), p.plain
    assert c.sparkline([0, 1, 5], 3, c.ASCII).isascii()


def test_hours_format():
    assert [c.fmt_hours(v) for v in (None, 0.5, 2.25, 17.0)] == ["-", "30m", "2.2h", "17h"]


def test_core_modules_do_not_import_textual():
    code = ("import sys, triage_tui.domain.analytics, triage_tui.cache.reports, "
            "triage_tui.commands.report\n"
            "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
