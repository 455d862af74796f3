"""Analytics over 100k messages: every figure of the report (``analytics_100k_ms``).

A cache file is laid out with the real schema (``cache.schema.create``) and filled with plain
metadata for ~34k threads and 100k messages over 120 days (the design's category mix; phi
columns hold dummy bytes: the report never reads them). Then, median of runs:

* ``analytics_100k_ms``: ``cache.reports.facts_from_conn`` on a fresh read-only connection
  (the two queries, what the screen's worker and ``triage-tui report`` do) + ``compute`` of
  the 90-day report (the largest range) + ``report_rows``, wall time. Extras: ``load_ms``
  (the queries and row building), ``compute_ms`` (the pure figures), ``cpu_ms`` (this
  thread's CPU time for the whole: the figure without other processes' contention, which
  ``loadavg`` shows), ``rows`` (flat rows produced).
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

FIGURES = ["analytics_100k_ms"]
TARGET_MS = 500.0
N_MESSAGES = 100_000
NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)

MIX = [("refill", 32, "pharmacy"), ("appointment", 24, "scheduling"), ("results", 18, "nursing"),
       ("clinical", 15, "nursing"), ("admin", 11, "front-desk")]


def build(path: Path, n_messages: int, seed: int = 42) -> int:
    from triage_tui.cache import schema

    rnd = random.Random(seed)
    cats = [c for c, w, _ in MIX for _ in range(w)]
    pool_of = {c: p for c, _, p in MIX}
    staff = [f"Practitioner/s{i}" for i in range(14)]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN")
    schema.create(conn)
    threads, msgs, tasks = [], [], []
    n = i = 0
    t_end = NOW.timestamp()
    while n < n_messages:
        tid = f"thr-{i:07d}"
        cat = rnd.choice(cats)
        prio = "urgent" if rnd.random() < 0.06 else "routine"
        start = t_end - rnd.uniform(0, 120 * 86400)
        k = min(rnd.choice([1, 2, 2, 3, 3, 3, 4, 5]), n_messages - n)
        t = start
        from_patient = True
        for j in range(k):
            iso = datetime.fromtimestamp(t, UTC).isoformat()
            sender = "Patient/p" if from_patient else rnd.choice(staff)
            msgs.append((f"{tid}-{j}", "1", tid, iso, sender, None, "completed", t,
                         int(from_patient), b"x"))
            from_patient = not from_patient
            t = min(t + rnd.expovariate(1 / (8 * 3600)), t_end)
        n += k
        done = k % 2 == 0 and rnd.random() < 0.9
        owner = None if rnd.random() < 0.4 else rnd.choice(staff)
        created = datetime.fromtimestamp(start, UTC).isoformat()
        due = (datetime.fromtimestamp(start, UTC) + timedelta(days=2)).isoformat()
        status = "completed" if done else rnd.choice(["requested", "accepted"])
        bstatus = "done" if done else ("claimed" if owner else "unassigned")
        threads.append((f"{tid}", "1", "p", cat, prio, "in-progress", created, created, 1, b"x",
                        t and datetime.fromtimestamp(t, UTC).isoformat(), k, 0, f"task-{i}",
                        pool_of[cat], owner, bstatus, due))
        tasks.append((f"task-{i}", "1", tid, "p", pool_of[cat], status, bstatus, prio, owner, due,
                      created, None))
        i += 1
    # name the columns: later formats append columns (format 2: rules_priority, rules_category)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(threads)")][:18]
    conn.executemany(f"INSERT INTO threads ({','.join(cols)}) VALUES ({','.join('?' * 18)})",
                     threads)
    conn.executemany(f"INSERT INTO messages VALUES ({','.join('?' * 10)})", msgs)
    conn.executemany(f"INSERT INTO tasks VALUES ({','.join('?' * 12)})", tasks)
    conn.execute("COMMIT")
    conn.close()
    return len(threads)


def run(quick: bool, only=None):
    from _util import figure, median_of

    from triage_tui.cache.reports import facts_from_conn
    from triage_tui.domain.analytics import Window, compute, report_rows
    from triage_tui.domain.triage import default_rules

    rules = default_rules()
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp:
        path = Path(tmp) / "cache.sqlite3"
        n_threads = build(path, N_MESSAGES)
        since = Window.last_days(NOW, 90, rules.calendar.timezone).start
        parts: dict[str, list[float]] = {"load": [], "compute": [], "cpu": []}
        out: dict[str, int] = {}

        def once() -> None:
            c0 = time.thread_time()
            t0 = time.perf_counter()
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                conn.execute("BEGIN")
                facts = facts_from_conn(conn, since)
            finally:
                conn.close()
            t1 = time.perf_counter()
            rep = compute(facts, now=NOW, days=90, rules=rules)
            out["rows"] = len(report_rows(rep))
            parts["load"].append(t1 - t0)
            parts["compute"].append(time.perf_counter() - t1)
            parts["cpu"].append(time.thread_time() - c0)

        runs = 3 if quick else 7
        med, times = median_of(once, runs)

        def ms(key: str) -> float:
            return round(statistics.median(parts[key][-runs:]) * 1000, 1)

        yield figure("analytics_100k_ms", med * 1000, "ms", target=TARGET_MS,
                     messages=N_MESSAGES, threads=n_threads, days=90, load_ms=ms("load"),
                     compute_ms=ms("compute"), cpu_ms=ms("cpu"), rows=out["rows"],
                     loadavg=round(os.getloadavg()[0], 2),
                     runs=[round(t * 1000, 1) for t in times])
