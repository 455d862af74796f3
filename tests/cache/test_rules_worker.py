"""The rules worker: a child process that reads the pending threads' texts from the cache file
itself (with the PHI fields' key only) and classifies them exactly as this process does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from triage_tui.cache import crypto, rules_worker
from triage_tui.cache.errors import CacheLocked
from triage_tui.domain.codes import Category, Priority
from triage_tui.domain.models import Message, Thread

from .conftest import T0

needs_worker = pytest.mark.skipif(not rules_worker.available(),
                                  reason="the rules worker needs POSIX and a second CPU")

THREADS = {  # id -> (subject, [(text, from staff)])
    "thr-lips": ("Refill request", [("my lips are swelling since the new pill", False)]),
    "thr-cita": ("Cita", [("Tengo dolor de pecho ✓\n\nmás texto", False)]),
    "thr-staff-last": ("Question", [("I have chest pain when I climb stairs", False),
                                    ("Please call 911 if it gets worse", True)]),
    "thr-empty": ("", []),
    "thr-refill": ("Refill", [("please refill my lisinopril", False),
                              ("Sent to the pharmacy", True),
                              ("thanks, also my metformin", False)]),
}


def _records() -> list:
    out: list = []
    for tid, (subject, msgs) in THREADS.items():
        out.append(Thread(tid, "1", "pat-0", subject, Category.ADMIN, Priority.ROUTINE,
                          created=T0))
        for i, (text, staff) in enumerate(msgs):
            sender = "Practitioner/prac-1" if staff else "Patient/pat-0"
            out.append(Message(f"{tid}-m{i}", "1", tid, text, T0 + timedelta(minutes=i),
                               sender))
    return out


def _here(store) -> dict[str, tuple[str, str | None]]:
    """What this process says of every pending thread."""
    rules = rules_worker.load_store_rules()
    return {tid: rules_worker.rules_codes(rules, subject, text)
            for tid, _, subject, text in store.rules_pending()}


@needs_worker
def test_worker_reads_the_cache_and_classifies_like_this_process(store):
    store.upsert(_records(), defer_rules=True)
    want = _here(store)
    assert len(want) == len(THREADS)
    assert want["thr-lips"][0] != Priority.ROUTINE.value  # the texts were read, not blanks
    ids = list(THREADS)
    w = rules_worker.RulesWorker(*store.rules_source())
    w.start()
    try:
        futs = [w.submit(ids), w.submit(["thr-lips", "no-such-thread"]), w.submit([])]
        assert [f.result(60) for f in futs] == [
            [want[t] for t in ids], [want["thr-lips"], None], []]
        # a later page's message is read by the next batch (a fresh snapshot per batch)
        store.upsert([Message("thr-empty-m9", "1", "thr-empty", "my lips are swelling",
                              T0 + timedelta(hours=1), "Patient/pat-0")], defer_rules=True)
        now = _here(store)["thr-empty"]
        assert now != want["thr-empty"] and w.classify(["thr-empty"]) == [now]
    finally:
        w.close()
    assert not w.running
    with pytest.raises(rules_worker.RulesWorkerError):
        w.submit(ids).result(5)


def test_rules_source_gives_the_fields_key_only(store):
    store.upsert(_records())
    path, key = store.rules_source()
    assert path == store.path and len(key) == crypto.KEY_LEN
    assert key != bytes(store._dek)  # derived: it cannot unwrap the data key
    cipher = crypto.FieldCipher.fields_only(key)
    (blob,), = store._conn.execute("SELECT phi FROM messages WHERE id = 'thr-lips-m0'")
    assert cipher.decrypt("messages", "thr-lips-m0", "phi", blob).startswith(b"my lips")
    with pytest.raises(CacheLocked):
        cipher.mac(b"audit entry")  # nor forge the audit chain
    store.lock()
    with pytest.raises(CacheLocked):
        store.rules_source()


@needs_worker
def test_locking_the_cache_kills_the_worker(store):
    store.upsert(_records(), defer_rules=True)
    w = rules_worker.RulesWorker(*store.rules_source())
    w.start()
    cancel = store.on_lock(w.kill)
    assert w.classify(["thr-lips"])[0] is not None
    forgotten = []
    store.on_lock(lambda: forgotten.append(1))()  # cancelled at once: never called
    store.lock()
    assert not w.running and forgotten == []
    with pytest.raises(rules_worker.RulesWorkerError):
        w.submit(["thr-lips"]).result(5)
    cancel()  # after the lock: harmless


@needs_worker
def test_rules_worker_killed_fails_what_it_was_given(store):
    store.upsert(_records(), defer_rules=True)
    w = rules_worker.RulesWorker(*store.rules_source())
    w.start()
    fut = w.submit(["thr-lips"])
    w.kill()  # still loading its rules: the batch is never answered
    with pytest.raises(rules_worker.RulesWorkerError):
        fut.result(10)
    assert not w.running


@needs_worker
def test_worker_that_cannot_open_the_cache_fails_its_batches(tmp_path):
    w = rules_worker.RulesWorker(tmp_path / "absent.sqlite3", bytes(32))
    w.start()
    with pytest.raises(rules_worker.RulesWorkerError):
        w.submit(["thr-lips"]).result(30)
    assert not w.running
