"""Batch template replies: render + queue 200 replies; send them to the loopback server.

Synthetic refill practice (tests/templates/refill_practice.py): 200 refill threads, each patient
with two active medications (the one to name comes from the message), a third in Spanish.

* ``batch_200_queue_s``: ``prepare_batch`` (read each thread's context from the encrypted
  cache, pick the language variant, render) + ``queue_batch`` (200 Communications built with
  ``reply_communication``, one ``store.enqueue`` transaction, one audit row). Target <= 1 s.
* ``batch_200_send_s``: the outbox ``Pusher`` sending those 200 replies to the reference server
  on 127.0.0.1 (PUT update-as-create), until every one is acked. Target <= 5 s.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _util import figure

from triage_tui.cache import open_store
from triage_tui.cache.api import OutboxState
from triage_tui.domain.templates import Practice, TemplateLibrary
from triage_tui.server.runner import ServerThread
from triage_tui.sync import FhirClient
from triage_tui.sync.outbox import Pusher
from triage_tui.sync.pull import Puller
from triage_tui.workflows.batch import prepare_batch, queue_batch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "templates"))
from refill_practice import NOW, refill_practice  # noqa: E402

FIGURES = ["batch_200_queue_s", "batch_200_send_s"]
TOKEN, USER = "bench-token", "Practitioner/nurse1"
PRACTICE = Practice("Dr. Okafor", "Elm Street Clinic", "555-0100", "America/New_York")


def _one(tmp: Path, run: int, n: int) -> tuple[float, float, int]:
    resources, expected = refill_practice(n, 0, prefix=f"r{run}")
    with ServerThread(tmp / f"srv{run}.db", TOKEN) as srv:
        srv.storage.bulk_load(resources)
        store = open_store(srv.base_url, USER, passphrase="bench pass", data_dir=tmp / f"d{run}",
                           keyring_ok=False)
        try:
            async def pull() -> None:
                async with FhirClient(srv.base_url, TOKEN) as c:
                    await Puller(c, store).pull()
            asyncio.run(pull())
            group = TemplateLibrary(None).get("refill-sent-pharmacy")
            ids = [e.thread_id for e in expected]
            t0 = time.perf_counter()
            batch = prepare_batch(store, ids, group, practice=PRACTICE, now=NOW)
            out = queue_batch(store, batch.replies, user_ref=USER, now=NOW,
                              template_id=group.id)
            queue_s = time.perf_counter() - t0
            assert len(out.queued) == n, out.not_sent

            async def send() -> float:
                async with FhirClient(srv.base_url, TOKEN) as c:
                    t = time.perf_counter()
                    await Pusher(c, store).push()
                    return time.perf_counter() - t
            send_s = asyncio.run(send())
            acked = store.outbox_counts().get(OutboxState.ACKED, 0)
            assert acked == n, store.outbox_counts()
        finally:
            store.close()
    return queue_s, send_s, acked


def run(quick: bool = False, only: set[str] | None = None) -> Iterator[dict]:
    runs = 1 if quick else 3
    n = 200
    qs, ss = [], []
    with tempfile.TemporaryDirectory() as d:
        for i in range(runs):
            q, s, _ = _one(Path(d), i, n)
            qs.append(q)
            ss.append(s)
    yield figure("batch_200_queue_s", statistics.median(qs), "s", target=1.0, runs=runs,
                 replies=n)
    yield figure("batch_200_send_s", statistics.median(ss), "s", target=5.0, runs=runs,
                 replies=n)
