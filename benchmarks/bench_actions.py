"""Acting on many marked threads: claim / route / close 100 threads from the encrypted cache.

* ``act_100_claim_ms``: ``workflows.tasks.change_tasks`` for 100 threads (read each Task,
  build 100 outbox items, write them and their 100 audit rows in ONE ``store.enqueue``).
* ``act_100_claim_per_item_ms``: the same with one transaction per item and per audit row
  (how it was done before: 200 durable commits). Kept as the comparison.

The cache is a real Store (sqlite, synchronous=FULL, AES-GCM) filled from the synthetic refill
practice; no server is needed to queue.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _util import figure

from triage_tui.cache import open_store
from triage_tui.domain.fhir import parse_records
from triage_tui.sync import outbox
from triage_tui.workflows.tasks import change_tasks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "templates"))
from refill_practice import refill_practice  # noqa: E402

FIGURES = ["act_100_claim_ms", "act_100_claim_per_item_ms"]
USER = "Practitioner/nurse1"


def _per_item(store, ids: list[str]) -> None:
    """The old way: ``outbox.claim`` (one enqueue) and ``store.audit`` per thread."""
    for tid in ids:
        task = store.task_for_thread(tid)
        if task is not None:
            outbox.claim(store, task, user=USER, user_ref=USER)
            store.audit("claim", user=USER, entity=f"Task/{task.id}")


def _store(tmp: Path, run: int, n: int):
    resources, expected = refill_practice(n, 0, prefix=f"a{run}")
    store = open_store("http://bench.invalid/r4", USER, passphrase="bench pass",
                       data_dir=tmp / f"d{run}", keyring_ok=False)
    records = [r for res in resources for r in parse_records(res)]
    store.upsert(records)
    return store, [e.thread_id for e in expected]


def run(quick: bool = False, only: set[str] | None = None) -> Iterator[dict]:
    runs = 1 if quick else 5
    n = 100
    one, per = [], []
    with tempfile.TemporaryDirectory() as d:
        for i in range(runs):
            store, ids = _store(Path(d), i, n)
            try:
                assert sum(1 for t in ids if store.task_for_thread(t)) == n
                t0 = time.perf_counter()
                out = change_tasks(store, ids, "claim", user_ref=USER)
                one.append((time.perf_counter() - t0) * 1000)
                assert len(out.queued) == n
                t0 = time.perf_counter()
                _per_item(store, ids)
                per.append((time.perf_counter() - t0) * 1000)
            finally:
                store.close()
    yield figure("act_100_claim_ms", statistics.median(one), "ms", target=100.0, runs=runs,
                 threads=n)
    yield figure("act_100_claim_per_item_ms", statistics.median(per), "ms", runs=runs,
                 threads=n)


if __name__ == "__main__":
    for f in run(quick="--quick" in sys.argv):
        print(f)
