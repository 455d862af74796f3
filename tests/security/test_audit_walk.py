"""Every access is audited (issue 8/9): a Pilot walk through the app on a real cache: view a
thread, reply, claim, route, close, open analytics, lock, unlock. Each leaves its row in the
HMAC-chained trail (``Store.audit_log``), with no PHI, and the chain verifies."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sec_canary import CANARY, CANARY_NEEDLES

from triage_tui.app import TriageApp
from triage_tui.cache import open_store
from triage_tui.config import Config
from triage_tui.domain.codes import BusinessStatus, Category, Pool, TaskStatus
from triage_tui.domain.models import Message, Patient, Task, Thread
from triage_tui.screens.analytics import AnalyticsScreen
from triage_tui.screens.inbox import InboxScreen
from triage_tui.screens.lock import LockScreen
from triage_tui.screens.thread import ThreadScreen

NOW = datetime(2026, 3, 4, 12, tzinfo=timezone.utc)
USER = "Practitioner/nurse-2"
PW = "audit walk"


async def _settle(pilot, n: int = 2) -> None:
    for _ in range(n):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _until(pilot, cond, tries: int = 100) -> bool:
    for _ in range(tries):
        if cond():
            return True
        await pilot.pause(0.05)
    return cond()


async def test_walk_audits_every_access(tmp_path):
    store = open_store("https://fhir.example.org/r4", USER, passphrase=PW, data_dir=tmp_path)
    store.upsert([
        Patient("p1", "1", CANARY["given"], CANARY["family"], mrn=CANARY["mrn"]),
        Thread("t1", "1", "p1", CANARY["subject"], Category.REFILL, created=NOW),
        Task("k1", "1", "t1", "p1", Pool.PHARMACY, TaskStatus.REQUESTED,
             BusinessStatus.UNASSIGNED, last_modified=NOW),
        Message("m1", "1", "t1", CANARY["text"], NOW - timedelta(minutes=3), "Patient/p1")])
    app = TriageApp(Config(animations=False, idle_lock_minutes=0, lock_on_hangup=False,
                           retention_days=0),
                    store=store, server_label="https://fhir.example.org/r4", user_ref=USER,
                    user_label="Nurse Two", clock=lambda: NOW)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _settle(pilot)
            await pilot.press("enter")  # view the thread
            assert await _until(pilot, lambda: isinstance(app.screen, ThreadScreen))
            await _settle(pilot)
            await pilot.press("r")  # reply
            await _settle(pilot)
            await pilot.press(*"Your refill was sent.")
            await pilot.press("ctrl+s")
            assert await _until(pilot, lambda: isinstance(app.screen, ThreadScreen))
            await _settle(pilot)
            await pilot.press("c")  # claim
            await _settle(pilot)
            await pilot.press("p", "1")  # route to the first pool
            await _settle(pilot)
            await pilot.press("x", "y")  # close (confirmed)
            await _settle(pilot)
            while not isinstance(app.screen, InboxScreen):
                await pilot.press("q")
                await _settle(pilot)
            await pilot.press("f6")  # analytics
            assert await _until(pilot, lambda: isinstance(app.screen, AnalyticsScreen))
            await _settle(pilot)
            await pilot.press("q")
            await _settle(pilot)
            await pilot.press("ctrl+l")  # lock
            assert await _until(pilot, lambda: isinstance(app.screen, LockScreen))
            app.screen.query_one("#passphrase").value = PW
            await pilot.press("enter")  # unlock
            assert await _until(pilot, lambda: not app.locked)
            await _settle(pilot)
        log = store.audit_log()
        got = [(e.action, e.entity) for e in log]
        actions = [a for a, _ in got]
        for wanted in [("view", "Communication/t1"), ("claim", "Task/k1"), ("route", "Task/k1"),
                       ("close", "Task/k1"), ("view", "analytics"), ("lock", None),
                       ("unlock", None)]:
            assert wanted in got, (wanted, got)
        assert "send" in actions, got  # the reply: entity = its Communication
        order = [actions.index(a) for a in ("send", "claim", "route", "close")]
        assert order == sorted(order)
        assert actions[-2:] == ["lock", "unlock"]
        assert store.verify_audit() == []
        # who did it, and nothing of the patient in the plain columns or the export
        assert {e.user for e in log} == {USER}
        from triage_tui.security.audit import export_rows, render_export

        text = render_export(export_rows(log), "jsonl") + json.dumps([str(e.detail)
                                                                      for e in log])
        assert not [n for n in CANARY_NEEDLES if n in text]
    finally:
        store.close()


def test_wipe_is_recorded_in_the_phi_free_log(capsys):
    """A wipe removes the cache and its audit trail with it: the event stays in the log file."""
    from triage_tui.cli import main
    from triage_tui.security.logs import log_file

    store = open_store("https://fhir.example.org/r4", USER, passphrase=PW)
    store.audit("view", user=USER, entity="analytics")
    name = store.path.name
    store.close()
    assert main(["wipe", "--yes", "--server", "https://fhir.example.org/r4", "--user",
                 USER]) == 0
    capsys.readouterr()
    text = log_file().read_text()
    assert f"wipe: removed cache {name}" in text
