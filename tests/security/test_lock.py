"""Auto-lock (issue 8, part 2): the key drops the data key, the lock screen shows no PHI,
drafts and the outbox survive, unlocking needs the passphrase; all audited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sec_canary import CANARY, CANARY_NEEDLES

from triage_tui.app import TriageApp
from triage_tui.cache import open_store
from triage_tui.cache.api import Draft, OutboxItem, OutboxKind
from triage_tui.config import Config
from triage_tui.domain.codes import BusinessStatus, Category, Pool, TaskStatus
from triage_tui.domain.models import Message, Patient, Task, Thread
from triage_tui.screens.inbox import InboxScreen
from triage_tui.screens.lock import LockScreen
from triage_tui.security.autolock import LockPolicy

NOW = datetime(2026, 3, 4, 12, tzinfo=timezone.utc)
USER = "Practitioner/nurse-1"
PW = "lock me up"


def test_policy():
    t = [0.0]
    p = LockPolicy(300, clock=lambda: t[0])
    t[0] = 299
    assert not p.should_lock()
    t[0] = 300
    assert p.should_lock()
    p.on_locked("idle")
    assert not p.should_lock()
    p.on_unlocked()
    assert p.idle_for() == 0 and not LockPolicy(0).should_lock()


async def test_lock_key_drops_key_and_unlock_restores(tmp_path):
    store = open_store("https://fhir.example.org/r4", USER, passphrase=PW, data_dir=tmp_path)
    store.upsert([Patient("p1", "1", CANARY["given"], CANARY["family"]),
                  Thread("t1", "1", "p1", CANARY["subject"], Category.REFILL, created=NOW),
                  Task("k1", "1", "t1", "p1", Pool.PHARMACY, TaskStatus.REQUESTED,
                       BusinessStatus.UNASSIGNED, last_modified=NOW),
                  Message("m1", "1", "t1", CANARY["text"], NOW - timedelta(minutes=3),
                          "Patient/p1")])
    store.save_draft(Draft("t1", "draft survives"))
    store.enqueue([OutboxItem("o1", OutboxKind.REPLY, "Communication", {"a": 1},
                              thread_id="t1")])
    app = TriageApp(Config(animations=False, idle_lock_minutes=0, lock_on_hangup=False),
                    store=store, server_label="https://fhir.example.org/r4", user_ref=USER,
                    user_label="Nurse One", clock=lambda: NOW)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("enter")  # open the thread: PHI on screen
            await pilot.pause()
            assert CANARY["given"] in app.export_screenshot()
            await pilot.press("ctrl+l")
            await pilot.pause()
            await pilot.pause()
            assert isinstance(app.screen, LockScreen) and app.locked and store.locked
            svg = app.export_screenshot()
            assert not [n for n in CANARY_NEEDLES if n in svg] and "locked" in svg
            # app keys are blocked while locked
            await pilot.press("question_mark", "colon")
            await pilot.pause()
            assert isinstance(app.screen, LockScreen)
            # wrong passphrase, then the right one
            app.screen.query_one("#passphrase").value = "wrong"
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert store.locked and "Wrong&#160;passphrase" in app.export_screenshot()
            app.screen.query_one("#passphrase").value = PW
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.pause()
            assert not store.locked and not app.locked
            assert isinstance(app.screen, InboxScreen)
            assert store.draft("t1").text == "draft survives"
            assert [i.id for i in store.outbox()] == ["o1"]
            actions = [e.action for e in store.audit_log()]
            assert actions[-2:] == ["lock", "unlock"]
            assert store.audit_log()[-2].detail == {"reason": "key"}
            assert store.verify_audit() == []
    finally:
        store.close()


async def test_sighup_locks_and_exits(tmp_path):
    """A real SIGHUP (the SSH link or terminal is gone) goes through the app's signal handler:
    the data key is dropped (audited), sync stops and the app exits with 129."""
    import os
    import signal

    store = open_store("https://fhir.example.org/r4", USER, passphrase=PW, data_dir=tmp_path)
    store.upsert([Patient("p1", "1", CANARY["given"], CANARY["family"]),
                  Thread("t1", "1", "p1", CANARY["subject"], Category.REFILL, created=NOW)])
    app = TriageApp(Config(animations=False, idle_lock_minutes=0, lock_on_hangup=True),
                    store=store, server_label="https://fhir.example.org/r4", user_ref=USER,
                    user_label="Nurse One", clock=lambda: NOW)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            # never send the signal unless the app's handler is in place (the default kills us)
            assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, signal.SIG_IGN, None)
            os.kill(os.getpid(), signal.SIGHUP)
            for _ in range(50):
                await pilot.pause(0.05)
                if app.return_code is not None:
                    break
        assert app.return_code == 129
        assert store.locked
        store.unlock(PW)
        assert store.verify_audit() == []
        assert [getattr(r, "action", r) for r in store.audit_log()] == ["lock"]
    finally:
        store.close()
