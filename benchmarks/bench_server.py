"""Reference FHIR server: time to answer a 100-entry Communication search page.

50k resources are stored straight through the storage layer (bulk load), then the server is
started on 127.0.0.1 and ``GET /fhir/Communication?_count=100&_sort=_lastUpdated`` is timed over
HTTP (first page, and a page deep in the result via its next link). Target: median <= 50 ms.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from _util import figure, median_of

from triage_tui.server.runner import ServerThread
from triage_tui.server.storage import Storage

FIGURES = ["server_search_page_ms"]
N_RESOURCES = 50_000
TARGET_MS = 50


def _resources(n: int) -> Iterator[dict]:
    n_patients = n // 50
    for i in range(n_patients):
        yield {"resourceType": "Patient", "id": f"p{i}",
               "identifier": [{"system": "urn:bench:mrn", "value": f"M{i:06d}"}],
               "name": [{"family": f"Benchfamily{i % 97}", "given": [f"Bench{i % 89}"]}]}
    for i in range(n - n_patients):
        pid = f"p{i % n_patients}"
        if i % 4 == 0:
            yield {"resourceType": "Communication", "id": f"h{i}", "status": "in-progress",
                   "subject": {"reference": f"Patient/{pid}"}, "priority": "routine",
                   "category": [{"coding": [{"system": "urn:bench:cat", "code": "refill"}]}],
                   "topic": {"text": "Benchmark thread subject line"},
                   "sent": f"2025-01-{1 + i % 28:02d}T10:{i % 60:02d}:00Z"}
        else:
            yield {"resourceType": "Communication", "id": f"m{i}", "status": "completed",
                   "partOf": [{"reference": f"Communication/h{i - i % 4}"}],
                   "subject": {"reference": f"Patient/{pid}"},
                   "sender": {"reference": f"Patient/{pid}"},
                   "sent": f"2025-01-{1 + i % 28:02d}T11:{i % 60:02d}:00Z",
                   "payload": [{"contentString": "Synthetic benchmark message text. " * 6}]}


def run(quick: bool, only=None) -> Iterator[dict]:
    runs = 15 if quick else 40
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        storage = Storage(db)
        stored = storage.bulk_load(_resources(N_RESOURCES))
        storage.close()
        load_s = time.perf_counter() - t0
        with ServerThread(db, "bench") as srv, httpx.Client(
                base_url=srv.base_url, headers={"Authorization": "Bearer bench"}) as client:
            params = {"_count": 100, "_sort": "_lastUpdated"}

            def first() -> None:
                r = client.get("/Communication", params=params)
                assert r.status_code == 200 and len(r.json()["entry"]) == 100

            # a page deep in the result (page 200 of ~490), reached by following next links
            r = client.get("/Communication", params=params).json()
            for _ in range(199):
                r = client.get(next(lk["url"] for lk in r["link"] if lk["relation"] == "next")).json()
            deep_url = next(lk["url"] for lk in r["link"] if lk["relation"] == "next")

            def deep() -> None:
                r = client.get(deep_url)
                assert r.status_code == 200 and len(r.json()["entry"]) == 100

            first_s, _ = median_of(first, runs, warmup=2)
            deep_s, _ = median_of(deep, runs, warmup=2)
    value = max(first_s, deep_s) * 1000
    yield figure("server_search_page_ms", value, "ms", target=TARGET_MS, runs=runs,
                 resources=stored, first_page_ms=round(first_s * 1000, 2),
                 later_page_ms=round(deep_s * 1000, 2), bulk_load_s=round(load_s, 2))
