"""Retention runs by itself in the app (issue 8): after the first paint at unlock, then on a
timer (daily); never while locked; unsent work, drafts and threads open on screen are kept;
each purge that removed something is audited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import triage_tui.app as app_module
from triage_tui.app import TriageApp
from triage_tui.cache import open_store
from triage_tui.cache.api import Draft, OutboxItem, OutboxKind
from triage_tui.cache.retention import purge_closed_threads
from triage_tui.config import Config
from triage_tui.domain.codes import BusinessStatus, Category, Pool, TaskStatus
from triage_tui.domain.models import Message, Patient, Task, Thread
from triage_tui.screens.lock import LockScreen

USER = "Practitioner/nurse-3"
PW = "retention app test"
NOW = datetime.now(timezone.utc)
OLD = NOW - timedelta(days=200)


def _thread(tid: str, *, closed: bool, when: datetime) -> list:
    return [Thread(tid, "1", "pat-1", f"subject {tid}", Category.REFILL, created=when,
                   updated=when),
            Task(f"task-{tid}", "1", tid, "pat-1", Pool.PHARMACY,
                 TaskStatus.COMPLETED if closed else TaskStatus.REQUESTED,
                 BusinessStatus.DONE if closed else BusinessStatus.UNASSIGNED, last_modified=when),
            Message(f"msg-{tid}", "1", tid, "text", when, "Patient/pat-1")]


def _ids(store) -> set[str]:  # plain column: readable while locked
    return {r[0] for r in store._conn.execute("SELECT id FROM threads")}


@pytest.fixture
def store(tmp_path):
    s = open_store("https://fhir.example.org/r4", USER, passphrase=PW, data_dir=tmp_path)
    recs: list = [Patient("pat-1", "1", "Ana", "Example")]
    for i in range(5):
        recs += _thread(f"old-{i}", closed=True, when=OLD)
    recs += _thread("open-old", closed=False, when=OLD)
    recs += _thread("recent", closed=True, when=NOW - timedelta(days=3))
    recs += _thread("unsent", closed=True, when=OLD)
    recs += _thread("drafted", closed=True, when=OLD)
    s.upsert(recs)
    s.enqueue([OutboxItem("r1", OutboxKind.REPLY, "Communication", {"x": 1},
                          thread_id="unsent")])
    s.save_draft(Draft("drafted", "keep me"))
    yield s
    s.close()


async def _until(pilot, cond, tries: int = 100) -> bool:
    for _ in range(tries):
        if cond():
            return True
        await pilot.pause(0.05)
    return cond()


async def test_app_purges_at_unlock_and_on_its_timer_never_locked(store, monkeypatch):
    monkeypatch.setattr(app_module, "RETENTION_EVERY_S", 0.5)  # "daily", sped up
    app = TriageApp(Config(animations=False, idle_lock_minutes=0, lock_on_hangup=False,
                           retention_days=90),
                    store=store, server_label="https://fhir.example.org/r4", user_ref=USER,
                    user_label="Nurse Three")
    kept = {"open-old", "recent", "unsent", "drafted"}
    async with app.run_test(size=(100, 30)) as pilot:
        # 1. at start (after the first paint), in a worker thread
        assert await _until(pilot, lambda: _ids(store) == kept), _ids(store)
        purges = [e for e in store.audit_log() if e.action == "purge"]
        assert len(purges) == 1 and purges[0].user == USER
        assert purges[0].detail["threads"] == 5 and purges[0].detail["older_than_days"] == 90
        assert store.draft("drafted").text == "keep me"
        assert [i.id for i in store.outbox()] == ["r1"]
        # 2. the timer: new old closed threads go without any key pressed; empty runs are not
        #    audited (the timer fired several times by now)
        store.upsert(_thread("old-late", closed=True, when=OLD))
        assert await _until(pilot, lambda: "old-late" not in _ids(store))
        assert len([e for e in store.audit_log() if e.action == "purge"]) == 2
        # 3. locked: no purge (the key is gone; the timer and the worker both refuse). The
        #    thread arrives through another connection (e.g. a headless `sync --once`).
        await pilot.press("ctrl+l")
        assert await _until(pilot, lambda: isinstance(app.screen, LockScreen) and store.locked)
        other = open_store("https://fhir.example.org/r4", USER, passphrase=PW,
                           data_dir=store.path.parent)
        other.upsert(_thread("old-while-locked", closed=True, when=OLD))
        other.close()
        app.retention_due()
        app.run_retention()
        await pilot.pause(1.2)  # two timer periods
        await app.workers.wait_for_complete()
        assert "old-while-locked" in _ids(store) and store.locked
        # 4. unlocking runs it again
        app.screen.query_one("#passphrase").value = PW
        await pilot.press("enter")
        assert await _until(pilot, lambda: not app.locked)
        assert await _until(pilot, lambda: "old-while-locked" not in _ids(store))
        assert store.verify_audit() == []
        actions = [e.action for e in store.audit_log()]
        assert actions.index("lock") < actions.index("unlock") < len(actions) - 1
        assert actions[-1] == "purge"


def test_keep_spares_threads_open_on_screen(store):
    report = purge_closed_threads(store, older_than_days=90, user=USER, keep={"old-0"},
                                  audit_empty=False)
    assert report.threads == 4 and "old-0" in _ids(store)
    n = len(store.audit_log())
    assert purge_closed_threads(store, older_than_days=90, user=USER, keep={"old-0"},
                                audit_empty=False).threads == 0
    assert len(store.audit_log()) == n  # an empty automatic run is not audited
