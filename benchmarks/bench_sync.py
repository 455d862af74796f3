"""Sync benchmarks against the loopback reference server (synthetic practice).

* ``sync_10k_ratio``: initial sync of 10k threads (messages, Tasks, patients, context) into a
  fresh encrypted cache, divided by the time plain httpx takes to fetch and JSON-parse the same
  pages (every type, ``_sort=_lastUpdated&_count=1000``, following next links) in the same run.
  Target <= 2.
* ``sync_nochange_requests``: requests per resource type of an incremental pull with no changes.
  Target 1.
* ``outbox_enqueue_ms``: median time to make one reply durable (``queue_reply``). Target <= 5.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from _util import figure

FIGURES = ("sync_10k_ratio", "sync_nochange_requests", "outbox_enqueue_ms")
TOKEN = "bench-token"
PASS = "benchmark passphrase, synthetic data"


async def _baseline(base_url: str, types: tuple[str, ...]) -> int:
    n = 0
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"},
                                 timeout=60) as h:
        for t in types:
            r = await h.get(f"{base_url}/{t}", params={"_sort": "_lastUpdated", "_count": 1000})
            while True:
                b = json.loads(r.content)
                n += len(b.get("entry") or ())
                nxt = next((lk["url"] for lk in b.get("link") or ()
                            if lk.get("relation") == "next"), None)
                if not nxt:
                    break
                r = await h.get(nxt)
    return n


async def _sync(base_url: str, store) -> tuple[float, int]:
    from triage_tui.sync.client import FhirClient
    from triage_tui.sync.pull import Puller

    async with FhirClient(base_url, TOKEN) as client:
        t0 = time.perf_counter()
        res = await Puller(client, store).pull()
        return time.perf_counter() - t0, res.fetched


def run(quick: bool = False, only: set[str] | None = None) -> Iterator[dict]:
    from triage_tui.cache import open_store
    from triage_tui.server.runner import ServerThread
    from triage_tui.sync.client import FhirClient
    from triage_tui.sync.outbox import queue_reply
    from triage_tui.sync.pull import DEFAULT_TYPES, Puller

    n_threads = 2_000 if quick else 10_000
    runs = 1 if quick else 5  # the baseline alone varies by 20% run to run here
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        srv = ServerThread(tmpd / "fhir.db", TOKEN, seed=11, n_threads=n_threads)
        t0 = time.perf_counter()
        srv.start()
        seed_s = time.perf_counter() - t0
        try:
            base_times, sync_times = [], []
            fetched = baseline_n = 0
            last_store = None
            for i in range(runs):
                t0 = time.perf_counter()
                baseline_n = asyncio.run(_baseline(srv.base_url, DEFAULT_TYPES))
                base_times.append(time.perf_counter() - t0)
                store = open_store(srv.base_url, f"bench{i}", passphrase=PASS,
                                   data_dir=tmpd / "cache", keyring_ok=False)
                secs, fetched = asyncio.run(_sync(srv.base_url, store))
                sync_times.append(secs)
                if last_store is not None:
                    last_store.close()
                last_store = store
            base, sync = statistics.median(base_times), statistics.median(sync_times)
            yield figure("sync_10k_ratio", sync / base, "ratio", target=2.0,
                         baseline=round(base, 3), sync_s=round(sync, 3), threads=n_threads,
                         resources=fetched, baseline_resources=baseline_n, runs=runs,
                         seed_s=round(seed_s, 1), threads_in_cache=len(last_store.queue()))

            async def nochange() -> int:
                async with FhirClient(srv.base_url, TOKEN) as client:
                    res = await Puller(client, last_store).pull()
                    return res.requests

            reqs = asyncio.run(nochange())
            yield figure("sync_nochange_requests", reqs / len(DEFAULT_TYPES), "requests/type",
                         target=1.0, requests=reqs, types=len(DEFAULT_TYPES))

            rows = last_store.queue()[:50]
            threads = [last_store.thread(r.thread_id) for r in rows]
            times = []
            for k in range(60 if quick else 300):
                t0 = time.perf_counter()
                queue_reply(last_store, thread=threads[k % len(threads)],
                            text="Your refill request was sent to the pharmacy.",
                            sender_ref="Practitioner/bench", user="bench")
                times.append(time.perf_counter() - t0)
            yield figure("outbox_enqueue_ms", statistics.median(times) * 1000, "ms", target=5.0,
                         p95=round(sorted(times)[int(len(times) * 0.95)] * 1000, 3),
                         runs=len(times))
            last_store.close()
        finally:
            srv.stop()
