"""The triage rules during a pull pass: each stored thread classified once per pass (in a
helper process when the pass is big), and none left unclassified by an interrupted pass."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from triage_tui.cache import rules_worker
from triage_tui.sync.pull import Puller

from .conftest import open_cache, plain_rows

needs_worker = pytest.mark.skipif(not rules_worker.available(),
                                  reason="the rules worker needs POSIX and a second CPU")


def _rules(store) -> dict[str, tuple[str | None, str | None]]:
    return {t: (p, c) for t, p, c in plain_rows(
        store, "SELECT id, rules_priority, rules_category FROM threads")}


def _pending(store) -> list[str]:
    return [r[0] for r in plain_rows(store, "SELECT thread_id FROM rules_pending")]


@pytest.fixture
def fast_kdf(monkeypatch):
    from triage_tui.cache import crypto

    monkeypatch.setattr(crypto, "DEFAULT_SCRYPT", crypto.ScryptParams(n=2**10, r=8, p=1))


async def _reference(server, tmp_path, client) -> dict[str, tuple[str | None, str | None]]:
    """Rules of every thread after one uninterrupted pass classified in this process."""
    ref = open_cache(server, tmp_path, user="reference")
    try:
        await Puller(client, ref, rules_worker=False).pull()
        rules = _rules(ref)
    finally:
        ref.close()
    assert len(rules) == 40 and all(p is not None for p, _ in rules.values())
    return rules


async def _worker_pass_matches_this_process(server, tmp_path) -> None:
    """One pass with the rules worker (as patched by the test) ends with every thread
    classified as one uninterrupted pass in this process classifies it."""
    from triage_tui.sync.client import FhirClient

    from .conftest import TOKEN

    async with FhirClient(server.base_url, TOKEN) as client:
        want = await _reference(server, tmp_path, client)
        store = open_cache(server, tmp_path)
        try:
            await Puller(client, store, page_size=15, rules_worker=True).pull()
            assert _pending(store) == []
            assert _rules(store) == want
        finally:
            store.close()


def _failed(why: str = "rules worker failed: test"):
    """What ``RulesWorker.submit`` returns when the child has failed."""
    from concurrent.futures import Future

    fut: Future = Future()
    fut.set_exception(rules_worker.RulesWorkerError(why))
    return fut


async def test_crash_mid_pass_then_resume_classifies_everything(synth_server, tmp_path,
                                                                fast_kdf):
    from triage_tui.sync.client import FhirClient

    from .conftest import TOKEN

    async with FhirClient(synth_server.base_url, TOKEN) as client:
        want = await _reference(synth_server, tmp_path, client)
        store = open_cache(synth_server, tmp_path)
        p = Puller(client, store, page_size=15, overlap=timedelta(0), rules_worker=False)
        calls = {"n": 0}
        real = client.search_page

        async def crash(rtype, params):
            calls["n"] += 1
            if rtype == "Communication" and calls["n"] > 5:
                raise asyncio.CancelledError  # as if the process died: nothing runs after
            return await real(rtype, params)

        client.search_page = crash  # type: ignore[method-assign]
        with pytest.raises(asyncio.CancelledError):
            await p.pull()
        client.search_page = real  # type: ignore[method-assign]
        stored = _rules(store)
        assert stored and _pending(store)  # some threads stored, their rules still to do
        assert all(p is None for t, (p, _) in stored.items() if t in _pending(store))
        store.close()

        store = open_cache(synth_server, tmp_path)  # a new process: only the disk remembers
        await Puller(client, store, page_size=15, overlap=timedelta(0),
                     rules_worker=False).pull()
        assert _pending(store) == []
        assert _rules(store) == want
        store.close()


async def test_failed_pass_classifies_what_it_stored(synth_server, tmp_path, fast_kdf):
    from triage_tui.sync.client import FhirClient

    from .conftest import TOKEN

    async with FhirClient(synth_server.base_url, TOKEN) as client:
        store = open_cache(synth_server, tmp_path)
        real = client.search_page
        calls = {"n": 0}

        async def flaky(rtype, params):
            calls["n"] += 1
            if rtype == "Communication" and calls["n"] > 5:
                raise RuntimeError("network gone")
            return await real(rtype, params)

        client.search_page = flaky  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            await Puller(client, store, page_size=15, overlap=timedelta(0)).pull()
        client.search_page = real  # type: ignore[method-assign]
        stored = _rules(store)
        assert stored and _pending(store) == []
        assert all(p is not None for p, _ in stored.values())
        store.reclassify()  # what the rules say of the stored data now: nothing changes
        assert _rules(store) == stored
        store.close()


@needs_worker
async def test_worker_classifies_like_this_process(synth_server, tmp_path, fast_kdf,
                                                   monkeypatch):
    batches: list[int] = []
    real_submit = rules_worker.RulesWorker.submit

    def counting(self, items):
        batches.append(len(items))
        return real_submit(self, items)

    monkeypatch.setattr(rules_worker.RulesWorker, "submit", counting)
    await _worker_pass_matches_this_process(synth_server, tmp_path)
    assert sum(batches) >= 40  # every thread went through the worker at least once


@needs_worker
async def test_worker_failure_falls_back_to_this_process(synth_server, tmp_path, fast_kdf,
                                                         monkeypatch):
    monkeypatch.setattr(rules_worker.RulesWorker, "submit", lambda self, items: _failed())
    await _worker_pass_matches_this_process(synth_server, tmp_path)


@needs_worker
async def test_worker_failing_midway_loses_nothing(synth_server, tmp_path, fast_kdf,
                                                  monkeypatch):
    """The worker answers its first batches, then dies: what it answered is written, what it
    did not is classified in this process, and nothing stays pending."""
    real_submit = rules_worker.RulesWorker.submit
    calls = {"n": 0}

    def dies_after_two(self, items):
        calls["n"] += 1
        return real_submit(self, items) if calls["n"] <= 2 else _failed()

    monkeypatch.setattr(rules_worker.RulesWorker, "submit", dies_after_two)
    await _worker_pass_matches_this_process(synth_server, tmp_path)
    assert calls["n"] > 2


@needs_worker
async def test_slow_worker_answers_are_written_in_order(synth_server, tmp_path, fast_kdf,
                                                       monkeypatch):
    """Threads are handed out while earlier answers are still on the way (answers come late
    and out of step with the pages): every thread ends with what this process would say."""
    import threading
    from concurrent.futures import Future

    real_submit = rules_worker.RulesWorker.submit
    handed: list[int] = []

    def late(self, items):
        handed.append(len(items))
        inner = real_submit(self, items)
        outer: Future = Future()

        def relay():
            try:
                outer.set_result(inner.result(timeout=30))
            except Exception as exc:  # noqa: BLE001 - passed on as the worker's failure
                outer.set_exception(exc)

        threading.Timer(0.05 * (len(handed) % 3), relay).start()
        return outer

    monkeypatch.setattr(rules_worker.RulesWorker, "submit", late)
    await _worker_pass_matches_this_process(synth_server, tmp_path)
    assert len(handed) > 1


@needs_worker
async def test_locking_mid_pass_ends_the_worker_and_loses_nothing(synth_server, tmp_path,
                                                                  fast_kdf, monkeypatch):
    """The worker holds the cache's field key: when the cache locks during a pass, it is
    killed at once; the pass fails (locked), and after unlocking the next pass classifies
    every thread as one uninterrupted pass would."""
    from triage_tui.cache.errors import CacheLocked
    from triage_tui.sync.client import FhirClient

    from .conftest import PASSPHRASE, TOKEN

    started: list[rules_worker.RulesWorker] = []
    real_start = rules_worker.RulesWorker.start

    def start(self):
        started.append(self)
        real_start(self)

    monkeypatch.setattr(rules_worker.RulesWorker, "start", start)
    async with FhirClient(synth_server.base_url, TOKEN) as client:
        want = await _reference(synth_server, tmp_path, client)
        store = open_cache(synth_server, tmp_path)
        real = client.search_page
        calls = {"n": 0}

        async def lock_midway(rtype, params):
            calls["n"] += rtype == "Communication"
            if calls["n"] == 3:  # two pages of threads stored: the worker is running
                assert started and started[0].running
                store.lock()  # as the idle lock does, from the UI
                assert not started[0].running  # killed by the lock itself
            return await real(rtype, params)

        client.search_page = lock_midway  # type: ignore[method-assign]
        with pytest.raises(CacheLocked):
            await Puller(client, store, page_size=15, rules_worker=True).pull()
        assert started and not any(w.running for w in started)
        client.search_page = real  # type: ignore[method-assign]
        store.unlock(PASSPHRASE)
        await Puller(client, store, page_size=15, rules_worker=True).pull()
        assert _pending(store) == []
        assert _rules(store) == want
        store.close()
