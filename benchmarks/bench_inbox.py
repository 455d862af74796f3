"""Inbox list with 100k threads: first paint, cursor move, filter keystroke, memory.

Runs in a child process (so that memory is this benchmark's alone) a headless Textual app,
``app.run_test(size=(120, 40))``, mounting :class:`~triage_tui.widgets.queue_list.QueueList`
over a :class:`~triage_tui.domain.queue_view.QueueView` of 100k synthetic ``QueueRow``s.

What is measured:

* ``inbox_first_paint_100k_s``: from just before the QueueView is built (the rows are already
  in memory: the cache's unlock + ``queue()`` load is measured elsewhere) to the end of the
  first ``render_lines`` of the list that drew rows, i.e. the first frame with the inbox. App
  start-up (Textual import excluded, it happens before) is inside.
* ``cursor_move_ms``: median over 120 ``j`` presses (45 with --quick), 2/3 of which scroll
  the list by one line, of the event loop thread's CPU time for
  ``await pilot.press("j"); await pilot.pause()`` (key dispatch, binding, action, refresh and
  the compositor's frame, which ``pause`` forces) minus the median of the same with an
  unbound key. CPU time, not wall time: Pilot's idle detection sleeps in 20 ms steps, which
  would swamp a wall-clock figure, and other processes on the machine don't count. Textual
  paces frames at 60 fps, so the latency a user sees adds up to 16.7 ms of waiting for the
  next frame to this work. Extra: ``p95_ms``, the medians of the ``scrolling_ms`` and
  ``not_scrolling_ms`` moves; ``direct_ms`` = wall time of the action plus
  the ``render_lines`` of the two changed lines, called directly.
* ``filter_keystroke_ms``: median, over keystrokes of a typed search whose matching thread
  ids go from 60% to 0.1% of the open rows and back, of the thread CPU time of
  ``view.set_filter(search_ids=...)`` + ``list.refresh_rows()`` + the repaint (``pause``)
  minus that of a bare ``pause``. Extra ``filter_only_ms``: the QueueView part alone,
  ``max_ms``: the slowest keystroke.
* ``inbox_rss_mb``: VmRSS of the process with the 100k rows loaded and painted (``peak_mb``:
  ``ru_maxrss``).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

FIGURES = ["inbox_first_paint_100k_s", "cursor_move_ms", "filter_keystroke_ms", "inbox_rss_mb"]
TARGETS = {"inbox_first_paint_100k_s": 1.0, "cursor_move_ms": 16.0, "filter_keystroke_ms": 50.0,
           "inbox_rss_mb": 400.0}
N_ROWS = 100_000
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def run(quick: bool, only=None):
    from _util import figure

    cmd = [sys.executable, str(Path(__file__).resolve()), "--child"] + (["--quick"] if quick else [])
    env_path = str(ROOT / "src")
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = env_path + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"bench_inbox child failed:\n{out.stderr[-4000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    for name in FIGURES:
        if only and name not in only:
            continue
        value, unit, extra = result[name]
        yield figure(name, value, unit, target=TARGETS[name], rows=N_ROWS, **extra)


# --- the child process ----------------------------------------------------------------------
def _make_rows(n: int):
    """Synthetic queue metadata, deterministic; no real data."""
    import random
    from datetime import datetime, timedelta, timezone

    from triage_tui.cache.api import QueueRow

    now = datetime(2025, 3, 4, 10, 30, tzinfo=timezone.utc)
    rnd = random.Random(42)
    cats = ["refill", "appointment", "results", "clinical", "admin", None]
    pools = ["pharmacy", "scheduling", "nursing", "nursing", "front-desk", None]
    prios = ["routine"] * 12 + ["urgent"] * 2 + ["asap", "stat"]
    rows = []
    for i in range(n):
        c = i % 6
        last = now - timedelta(seconds=rnd.randrange(60, 86400 * 30))
        due = None if rnd.random() < 0.3 else now + timedelta(seconds=rnd.randrange(-2e5, 5e5))
        closed = rnd.random() < 0.1
        owner = None if rnd.random() < 0.6 else f"Practitioner/{rnd.randrange(1, 9)}"
        rows.append(QueueRow(
            thread_id=f"thr-{i:07d}", patient_id=f"pat-{i % 20011}", category=cats[c],
            priority=rnd.choice(prios), status="completed" if closed else "in-progress",
            created=last, last_message_at=last, last_from_patient=True, message_count=3,
            task_id=f"task-{i}", pool=pools[c], owner_ref=owner,
            business_status="done" if closed else "unassigned", due=due))
    return rows, now


def _display_provider(ids):
    from triage_tui.cache.api import ThreadDisplay

    return {t: ThreadDisplay(t, f"Patient {t[-5:]}", "Question about my medication",
                             "Hello, I wanted to ask whether the new dose is right for me")
            for t in ids}


async def _measure(quick: bool) -> dict:
    import resource

    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.geometry import Region

    from triage_tui.domain.queue_view import QueueView
    from triage_tui.widgets.queue_list import QueueList

    rows, now = _make_rows(N_ROWS)
    first_paint: list[float] = []

    class TimedList(QueueList):
        def render_lines(self, crop: Region):
            lines = super().render_lines(crop)
            if not first_paint and len(self.view):
                first_paint.extend((time.perf_counter(), time.process_time()))
            return lines

    class Bench(App):
        BINDINGS = [Binding("j", "focused.cursor_down")]

        def compose(self) -> ComposeResult:
            self.view = QueueView(rows, clock=lambda: now)
            yield TimedList(self.view, display_provider=_display_provider, clock=lambda: now,
                            tick=None)

        def on_mount(self) -> None:
            self.query_one(QueueList).focus()

    t0 = time.perf_counter()
    c0 = time.process_time()
    app = Bench()
    res: dict = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        t_ready = time.perf_counter()
        res["inbox_first_paint_100k_s"] = (first_paint[0] - t0, "s",
                                           {"cpu_s": round(first_paint[1] - c0, 3),
                                            "pilot_ready_s": round(t_ready - t0, 3)})
        ql = app.query_one(QueueList)
        view = app.view

        async def cpu(coro_fn, n):
            """CPU time of this thread (the event loop's) per call: Pilot's idle waits, which
            sleep in 20 ms steps, cost none, so no quantisation; other processes don't count."""
            ts = []
            for _ in range(n):
                a = time.thread_time()
                await coro_fn()
                ts.append(time.thread_time() - a)
            return ts

        async def noop():
            await pilot.press("x")  # unbound: Pilot's own work and the key's dispatch
            await pilot.pause()

        async def move():
            await pilot.press("j")
            await pilot.pause()

        runs = 45 if quick else 120
        base_med = statistics.median(await cpu(noop, runs))
        page = ql.scrollable_content_region.height
        start = max(0, page - runs // 3)  # so that 2/3 of the moves scroll, quick or not
        ql.move_cursor(start)
        await pilot.pause()
        scrolls, moves = [], []
        for _ in range(runs):
            top = ql.scroll_y
            (cost,) = await cpu(move, 1)
            moves.append(cost - base_med)
            scrolls.append(ql.scroll_y != top)
        moved = sorted(moves)
        scroll_ms = statistics.median([m for m, sc in zip(moves, scrolls) if sc] or [0.0])
        still_ms = statistics.median([m for m, sc in zip(moves, scrolls) if not sc] or [0.0])
        # direct (wall clock): the action plus the render of the two changed lines
        direct = []
        ql.move_cursor(5)
        width = ql.size.width
        for _ in range(runs):
            a = time.perf_counter()
            ql.action_cursor_down()
            y = ql.cursor - round(ql.scroll_y)
            ql.render_lines(Region(0, y - 1, width, 2))
            direct.append(time.perf_counter() - a)
            if ql.cursor > 30:
                ql.move_cursor(5)
        res["cursor_move_ms"] = (
            max(0.0, statistics.median(moved)) * 1000, "ms",
            {"p95_ms": round(moved[int(len(moved) * 0.95) - 1] * 1000, 3),
             "pilot_noop_cpu_ms": round(base_med * 1000, 3),
             "scrolling_ms": round(scroll_ms * 1000, 3),
             "not_scrolling_ms": round(still_ms * 1000, 3),
             "direct_ms": round(statistics.median(direct) * 1000, 3),
             "measure": "thread CPU of press j + pause minus an unbound key's"})

        # filter keystrokes: a search narrowing then widening again
        ids = view.thread_ids(0, len(view))  # open rows
        fractions = [0.6, 0.3, 0.1, 0.03, 0.01, 0.001, 0.01, 0.1, 0.6]
        searches = [frozenset(ids[:: max(1, round(1 / f))]) for f in fractions]
        if not quick:
            searches = searches * 3

        async def bare_pause():
            await pilot.pause()

        pause_med = statistics.median(await cpu(bare_pause, 20 if quick else 60))
        ql.move_cursor(10)
        keys, only_filter = [], []
        for s in searches:
            a = time.thread_time()
            view.set_filter(search_ids=s)
            b = time.thread_time()
            ql.refresh_rows()
            await pilot.pause()
            keys.append(time.thread_time() - a - pause_med)
            only_filter.append(b - a)
        view.set_filter(search_ids=None)
        ql.refresh_rows()
        await pilot.pause()
        res["filter_keystroke_ms"] = (
            max(0.0, statistics.median(keys)) * 1000, "ms",
            {"max_ms": round(max(keys) * 1000, 3),
             "filter_only_ms": round(statistics.median(only_filter) * 1000, 3),
             "measure": "thread CPU of set_filter + refresh_rows + pause minus a bare pause"})

        rss_kb = 0
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        res["inbox_rss_mb"] = (rss_kb / 1024, "MB", {"peak_mb": round(peak_kb / 1024, 1)})
    return res


def _child(quick: bool) -> None:
    import asyncio

    import textual.app  # noqa: F401  (import cost is not part of first paint)

    res = asyncio.run(_measure(quick))
    print(json.dumps({k: [round(v[0], 4), v[1], v[2]] for k, v in res.items()}))


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.path.insert(0, str(ROOT / "src"))
        _child("--quick" in sys.argv)
    else:
        sys.path.insert(0, str(HERE))
        for fig in run("--quick" in sys.argv):
            print(json.dumps(fig))
