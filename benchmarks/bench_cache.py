"""Encrypted cache: unlock + queue load, cost of encryption at insert, search.

Synthetic data only (random words and names made here). Sizes: 100k threads, each with one
patient message (100k messages), 20k patients, 100k tasks; 10k messages for the insert ratio.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from _util import figure, median_of

from triage_tui.cache import crypto, open_store
from triage_tui.domain.codes import BusinessStatus, Category, Pool, Priority, TaskStatus
from triage_tui.domain.models import Message, Patient, Task, Thread

FIGURES = ["unlock_load_100k_s", "encrypt_insert_ratio", "search_100k_ms"]
SERVER, USER, PASS = "https://fhir.bench.invalid/R4", "bench-user", "bench passphrase 1"
CATS = [Category.REFILL] * 32 + [Category.APPOINTMENT] * 24 + [Category.RESULTS] * 18 + \
    [Category.CLINICAL] * 15 + [Category.ADMIN] * 11


def _word(rng: random.Random, lo: int = 3, hi: int = 10) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(lo, hi)))


class Synth:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.vocab = [_word(self.rng) for _ in range(3000)]
        self.given = [_word(self.rng, 4, 8).title() for _ in range(500)]
        self.family = [_word(self.rng, 5, 10).title() for _ in range(2000)]
        self.t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)

    def text(self, n: int) -> str:
        return " ".join(self.rng.choice(self.vocab) for _ in range(n))

    def patients(self, n: int) -> list[Patient]:
        r = self.rng
        return [Patient(f"pat-{i}", "1", r.choice(self.given), r.choice(self.family),
                        None, f"MRN{i:08d}") for i in range(n)]

    def threads(self, n: int, n_patients: int, prefix: str = "thr") -> list:
        r, out = self.rng, []
        for i in range(n):
            tid, pid = f"{prefix}-{i}", f"pat-{r.randrange(n_patients)}"
            at = self.t0 + timedelta(minutes=i)
            cat = r.choice(CATS)
            out.append(Thread(tid, "1", pid, self.text(5), cat, Priority.ROUTINE, created=at))
            out.append(Task(f"task-{prefix}-{i}", "1", tid, pid, Pool.NURSING,
                            TaskStatus.REQUESTED, BusinessStatus.UNASSIGNED,
                            due=at + timedelta(days=2), last_modified=at))
        return out

    def messages(self, n: int, n_threads: int, prefix: str = "thr", words: int = 30) -> list:
        r = self.rng
        return [Message(f"msg-{prefix}-{i}", "1", f"{prefix}-{i % n_threads}", self.text(words),
                        self.t0 + timedelta(minutes=i, seconds=5), f"Patient/pat-{i}")
                for i in range(n)]


class _NullCipher:
    """The same store with encryption switched off: the insert ratio's baseline (bench only)."""

    def encrypt(self, table, row_id, column, plaintext):  # noqa: ANN001
        return plaintext

    def encrypt_many(self, table, column, items):  # noqa: ANN001
        return [p for _, p in items]

    def decrypt(self, table, row_id, column, blob):  # noqa: ANN001
        return blob

    def mac(self, data):  # noqa: ANN001
        return b"\0" * 32

    def drop(self):
        pass


def _insert_ratio(runs: int, n: int, tmp: Path) -> dict:
    """Both kinds are timed up to their data being in the database file (upsert, then a WAL
    checkpoint). Timing the upsert alone measured SQLite's auto-checkpoint threshold more than
    encryption: the encrypted batch (29 bytes more per row) crossed the 1,000-page WAL and
    paid a checkpoint inside its COMMIT (3 -> 15 ms) that the plain one never paid."""
    syn = Synth(11)
    msgs = syn.messages(n, n // 5)
    times: dict[str, list[float]] = {"plain": [], "enc": []}
    upsert_only: dict[str, list[float]] = {"plain": [], "enc": []}
    for i in range(runs + 1):  # the first pair is a warm-up
        for kind in ("plain", "enc") if i % 2 else ("enc", "plain"):
            d = tmp / f"ins-{kind}-{i}"
            store = open_store(SERVER, USER, passphrase=PASS, data_dir=d)
            if kind == "plain":
                store._cipher = _NullCipher()  # type: ignore[assignment]
            t0 = time.perf_counter()
            store.upsert(msgs)
            t1 = time.perf_counter()
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            dt = time.perf_counter() - t0
            store.close()
            if i:
                times[kind].append(dt)
                upsert_only[kind].append(t1 - t0)
    plain, enc = statistics.median(times["plain"]), statistics.median(times["enc"])
    only = statistics.median(upsert_only["enc"]) / statistics.median(upsert_only["plain"])
    return figure("encrypt_insert_ratio", enc / plain, "x", target=1.5, baseline_s=round(plain, 4),
                  encrypted_s=round(enc, 4), upsert_only_ratio=round(only, 3), messages=n,
                  runs=runs, note="same Store.upsert + WAL checkpoint, AES-GCM vs a null cipher")


def run(quick: bool = False, only: set[str] | None = None) -> Iterator[dict]:
    want = set(only or FIGURES)
    runs = 3 if quick else 5
    saved = crypto.DEFAULT_SCRYPT
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmpd:
        tmp = Path(tmpd)
        if "encrypt_insert_ratio" in want:
            crypto.DEFAULT_SCRYPT = crypto.ScryptParams(n=2**10)  # not what is measured here
            try:
                yield _insert_ratio(runs, 10_000, tmp)
            finally:
                crypto.DEFAULT_SCRYPT = saved
        if not want & {"unlock_load_100k_s", "search_100k_ms"}:
            return
        n = 100_000
        syn = Synth(7)
        big = tmp / "big"
        t0 = time.perf_counter()
        store = open_store(SERVER, USER, passphrase=PASS, data_dir=big)  # real scrypt params
        store.upsert(syn.patients(20_000))
        threads = syn.threads(n, 20_000)
        for start in range(0, len(threads), 20_000):
            store.upsert(threads[start:start + 20_000])
        del threads
        msgs = syn.messages(n, n)
        for start in range(0, n, 20_000):
            store.upsert(msgs[start:start + 20_000])
        probe = msgs[12345].text.split()[3]
        del msgs
        store.close()
        fill_s = time.perf_counter() - t0
        params = crypto.DEFAULT_SCRYPT.as_dict()

        if "unlock_load_100k_s" in want:
            parts: dict[str, list[float]] = {"unlock": [], "queue": []}

            def unlock_load() -> None:
                t = time.perf_counter()
                s = open_store(SERVER, USER, passphrase=PASS, data_dir=big, create=False)
                t1 = time.perf_counter()
                rows = s.queue()
                parts["unlock"].append(t1 - t)
                parts["queue"].append(time.perf_counter() - t1)
                assert len(rows) == n
                s.close()

            med, _ = median_of(unlock_load, runs)
            yield figure("unlock_load_100k_s", med, "s", target=1.0,
                         unlock_s=round(statistics.median(parts["unlock"]), 4),
                         queue_s=round(statistics.median(parts["queue"]), 4),
                         threads=n, messages=n, scrypt=params, fill_s=round(fill_s, 1), runs=runs)

        if "search_100k_ms" in want:
            s = open_store(SERVER, USER, passphrase=PASS, data_dir=big, create=False)
            build_s = s.warm_search()
            rng = random.Random(3)
            queries = [probe, probe[:4], f"{probe} {syn.vocab[7]}", "zzzzzz",
                       *(rng.choice(syn.vocab) for _ in range(4))]
            per: list[float] = []
            for q in queries:
                m, _ = median_of(lambda q=q: s.search(q), runs)
                per.append(m)
            hits = len(s.search(probe))
            s.close()
            yield figure("search_100k_ms", statistics.median(per) * 1000, "ms", target=100,
                         worst_ms=round(max(per) * 1000, 2), first_search_build_s=round(build_s, 3),
                         hits_probe=hits, queries=len(queries), messages=n, runs=runs,
                         note="in-memory corpus; build once per unlock (worker thread)")
